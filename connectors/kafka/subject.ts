/**
 * Schema Registry subject names, as Confluent's serializers derive them
 * (`TopicNameStrategy`, `RecordNameStrategy`, `TopicRecordNameStrategy`).
 * Pure, so `sensei check --registry` names the same subject the sink uses.
 */
import type { AvroSchemaJson } from '../../src/plan/plan.ts';

export type SubjectStrategy = 'topic' | 'record' | 'topic_record';

/**
 * The full name of a schema as Avro's Java library reports it: `namespace.name`
 * for named types, the type name for primitives (`string`); undefined for
 * unions, arrays and maps, which have none.
 */
export function schemaFullName(schema: AvroSchemaJson): string | undefined {
  if (typeof schema === 'string') return schema;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const s = schema as { name?: unknown; namespace?: unknown; type?: unknown };
  if (typeof s.name !== 'string') return typeof s.type === 'string' && !['array', 'map'].includes(s.type) ? s.type : undefined;
  return s.name.includes('.') || typeof s.namespace !== 'string' || s.namespace === '' ? s.name : `${s.namespace}.${s.name}`;
}

export function subjectName(strategy: SubjectStrategy, topic: string, schema: AvroSchemaJson, part: 'key' | 'value' = 'value'): string {
  if (strategy === 'topic') return `${topic}-${part}`;
  const name = schemaFullName(schema);
  if (name === undefined) throw new Error(`subject strategy ${strategy} needs a named schema or a primitive, not ${JSON.stringify(schema)}`);
  return strategy === 'record' ? name : `${topic}-${name}`;
}
