/**
 * One text line → one record of the source schema: JSON lines, or plain text
 * for a schema with a single string field. Shared by the file and stdin sources.
 */
import { jsonTextReader } from '../src/formats/json-codec.ts';
import type { RecordNode } from '../src/formats/schema.ts';

export type LineFormat = 'json' | 'text';

export function lineParser(schema: RecordNode, format: LineFormat): (line: string) => Record<string, unknown> {
  if (format === 'text') {
    const fields = schema.fields.filter((f) => f.type.kind === 'string');
    if (schema.fields.length !== 1 || fields.length !== 1) {
      throw new Error(`text lines need a schema with exactly one string field; ${schema.name} has ${schema.fields.length} fields`);
    }
    const name = fields[0]!.name;
    return (line) => ({ [name]: line });
  }
  return jsonTextReader(schema, { strict: false }) as (line: string) => Record<string, unknown>;
}
