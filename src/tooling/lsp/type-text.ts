/**
 * Avro types written out for hover: records expanded field by field (with
 * docs as comments), so a stream's whole schema reads at a glance. Named
 * types already written once are referred to by name.
 */
import type { AvroType, RecordType } from '../../types/avro-type.ts';
import { nonNull, typeToString } from '../../types/type-utils.ts';

const INDENT = '  ';
/** Deeper records are written by name only; hover must stay short. */
const MAX_DEPTH = 4;

export function typeText(t: AvroType): string {
  return write(t, '', new Set(), 0);
}

function write(t: AvroType, indent: string, seen: Set<string>, depth: number): string {
  switch (t.kind) {
    case 'union': {
      const inner = nonNull(t);
      return inner !== t && inner.kind !== 'union' ? `${write(inner, indent, seen, depth)}?` : typeToString(t);
    }
    case 'array':
      return `array<${write(t.items, indent, seen, depth)}>`;
    case 'map':
      return `map<${write(t.values, indent, seen, depth)}>`;
    case 'enum':
      if (seen.has(t.name)) return typeToString(t);
      seen.add(t.name);
      return `enum ${t.name} { ${t.symbols.join(', ')} }`;
    case 'record':
      if (seen.has(t.name) || depth >= MAX_DEPTH) return typeToString(t);
      seen.add(t.name);
      return recordText(t, indent, seen, depth);
    default:
      return typeToString(t);
  }
}

function recordText(t: RecordType, indent: string, seen: Set<string>, depth: number): string {
  if (t.fields.length === 0) return `record ${t.name} {}`;
  const inner = indent + INDENT;
  const lines = t.fields.map((f) => {
    const doc = f.doc ? `  // ${oneLine(f.doc)}` : '';
    return `${inner}${f.name}: ${write(f.type, inner, seen, depth + 1)}${doc}`;
  });
  return `record ${t.name} {\n${lines.join('\n')}\n${indent}}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
