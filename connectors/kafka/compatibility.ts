/**
 * Avro schema compatibility as a Schema Registry decides it: can data
 * written with one schema be read with another (Avro schema resolution)?
 * Unlike a single resolver attempt, it names every field that breaks, so a
 * diagnostic can point at all of them. Shared by `sensei check --registry`
 * and the registry test double.
 */
import type avro from 'avsc';
import { avroType } from '../../src/formats/avro-codec.ts';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_LEVELS: readonly CompatibilityLevel[] = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'];

/** Why `reader` cannot read data written with `writer`; empty when it can. */
export function resolutionProblems(reader: AvroSchemaJson, writer: AvroSchemaJson): string[] {
  const out: string[] = [];
  collect(avroType(reader), avroType(writer), '', out);
  return out;
}

function collect(reader: avro.Type, writer: avro.Type, path: string, out: string[]): void {
  if (reader.typeName === 'record' && writer.typeName === 'record') {
    const r = reader as avro.types.RecordType;
    const w = writer as avro.types.RecordType;
    const aliases = r.aliases ?? [];
    if (r.name !== w.name && !aliases.includes(w.name!)) {
      out.push(`${where(path)}record ${r.name} cannot read record ${w.name} (names differ and there is no alias)`);
      return;
    }
    for (const field of r.fields) {
      const written = w.field(field.name) ?? field.aliases.map((a) => w.field(a)).find((f) => f !== undefined);
      const at = path ? `${path}.${field.name}` : field.name;
      if (!written) {
        if (field.defaultValue() === undefined) out.push(`field \`${at}\` is missing from the written data and has no default`);
        continue;
      }
      collect(field.type, written.type, at, out);
    }
    return;
  }
  try {
    reader.createResolver(writer);
  } catch (e) {
    out.push(`${where(path)}${(e as Error).message}`);
  }
}

function where(path: string): string {
  return path ? `field \`${path}\`: ` : '';
}

/**
 * Why `candidate` may not be registered after `versions` (oldest first)
 * under `level`: BACKWARD means the new schema reads data of the latest,
 * FORWARD the latest reads data of the new one, FULL both; the transitive
 * levels check every earlier version, not only the latest.
 */
export function compatibilityProblems(level: CompatibilityLevel, candidate: AvroSchemaJson, versions: readonly AvroSchemaJson[]): string[] {
  if (level === 'NONE' || versions.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? [...versions].reverse() : [versions[versions.length - 1]];
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const old of against) {
    if (backward) problems.push(...resolutionProblems(candidate, old).map((p) => `reading old data: ${p}`));
    if (forward) problems.push(...resolutionProblems(old, candidate).map((p) => `old readers: ${p}`));
  }
  return [...new Set(problems)];
}
