/**
 * Avro schema JSON (as the plan carries it) → a small tree the runtime walks
 * to convert values to and from JSON and to generate data. Named types are
 * resolved once; logical types become kinds of their own, as in the
 * compiler's type model (the runtime may not import it, see
 * test/architecture.test.ts).
 */
import type { AvroSchemaJson } from '../plan/plan.ts';

export type SchemaNode =
  | { kind: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string' | 'uuid' }
  | { kind: 'date' | 'time-millis' | 'time-micros' | 'timestamp-millis' | 'timestamp-micros' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'fixed'; name: string; fullName: string; size: number }
  | { kind: 'enum'; name: string; fullName: string; symbols: string[]; default?: string }
  | { kind: 'array'; items: SchemaNode }
  | { kind: 'map'; values: SchemaNode }
  | RecordNode
  | UnionNode;

/**
 * `wrapped` when two branches hold the same JavaScript kind of value (say
 * `int` and `long`): avsc then represents the value as `{ branchName: value }`
 * instead of the plain value, and so does the runtime.
 */
export interface UnionNode {
  kind: 'union';
  branches: SchemaNode[];
  wrapped: boolean;
}

export interface RecordNode {
  kind: 'record';
  name: string;
  fullName: string;
  fields: { name: string; type: SchemaNode; default?: unknown }[];
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const LOGICAL: Record<string, string> = {
  uuid: 'string',
  date: 'int',
  'time-millis': 'int',
  'time-micros': 'long',
  'timestamp-millis': 'long',
  'timestamp-micros': 'long',
};

const cache = new Map<string, SchemaNode>();

/** The schema tree of an Avro schema; the same JSON text gives the same (shared) tree. */
export function schemaNode(json: AvroSchemaJson): SchemaNode {
  const text = JSON.stringify(json);
  let node = cache.get(text);
  if (!node) {
    node = new Reader().read(json, '');
    cache.set(text, node);
  }
  return node;
}

export function recordNode(json: AvroSchemaJson): RecordNode {
  const node = schemaNode(json);
  if (node.kind !== 'record') throw new Error(`expected a record schema, got ${node.kind}`);
  return node;
}

export function isNullable(node: SchemaNode): boolean {
  return node.kind === 'null' || (node.kind === 'union' && node.branches.some((b) => b.kind === 'null'));
}

class Reader {
  private readonly named = new Map<string, SchemaNode>();

  read(json: unknown, ns: string): SchemaNode {
    if (typeof json === 'string') {
      if (PRIMITIVES.has(json)) return { kind: json } as SchemaNode;
      const found = this.named.get(json) ?? this.named.get(qualify(json, ns));
      if (!found) throw new Error(`unknown Avro type name: ${json}`);
      return found;
    }
    if (Array.isArray(json)) {
      const branches = json.map((b) => this.read(b, ns));
      const buckets = branches.map(bucket).filter((b) => b !== undefined);
      return { kind: 'union', branches, wrapped: new Set(buckets).size < buckets.length };
    }
    if (!json || typeof json !== 'object') throw new Error(`invalid Avro schema: ${JSON.stringify(json)}`);
    const s = json as Record<string, unknown>;
    const type = s.type;
    const logical = s.logicalType;
    if (logical === 'decimal' && (type === 'bytes' || type === 'fixed')) {
      return { kind: 'decimal', precision: Number(s.precision), scale: Number(s.scale ?? 0) };
    }
    if (typeof logical === 'string' && LOGICAL[logical] === type) return { kind: logical } as SchemaNode;
    switch (type) {
      case 'array':
        return { kind: 'array', items: this.read(s.items, ns) };
      case 'map':
        return { kind: 'map', values: this.read(s.values, ns) };
      case 'enum':
      case 'fixed':
      case 'record':
      case 'error':
        return this.readNamed(s, ns);
      default:
        return this.read(type, ns);
    }
  }

  private readNamed(s: Record<string, unknown>, ns: string): SchemaNode {
    const name = String(s.name);
    const space = typeof s.namespace === 'string' ? s.namespace : name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : ns;
    const full = qualify(name, space);
    const short = full.slice(full.lastIndexOf('.') + 1);
    if (s.type === 'enum') {
      const node: SchemaNode = { kind: 'enum', name: short, fullName: full, symbols: (s.symbols as string[]) ?? [] };
      if (typeof s.default === 'string') node.default = s.default;
      return this.define(full, node);
    }
    if (s.type === 'fixed') return this.define(full, { kind: 'fixed', name: short, fullName: full, size: Number(s.size) });
    // Define the record before its fields so recursive references resolve.
    const node: RecordNode = { kind: 'record', name: short, fullName: full, fields: [] };
    this.define(full, node);
    for (const f of (s.fields as Record<string, unknown>[]) ?? []) {
      const field: RecordNode['fields'][number] = { name: String(f.name), type: this.read(f.type, space) };
      if ('default' in f) field.default = f.default;
      node.fields.push(field);
    }
    return node;
  }

  private define(full: string, node: SchemaNode): SchemaNode {
    this.named.set(full, node);
    return node;
  }
}

/** The JavaScript kind of value a branch holds, as avsc groups them; decimals are told apart by value checks. */
function bucket(node: SchemaNode): string | undefined {
  switch (node.kind) {
    case 'decimal':
      return undefined;
    case 'int': case 'long': case 'float': case 'double':
    case 'date': case 'time-millis': case 'time-micros': case 'timestamp-millis': case 'timestamp-micros':
      return 'number';
    case 'bytes': case 'fixed':
      return 'buffer';
    case 'string': case 'uuid': case 'enum':
      return 'string';
    case 'map': case 'record':
      return 'object';
    default:
      return node.kind;
  }
}

/** The name avsc gives a union branch in its wrapped representation. */
export function branchName(node: SchemaNode): string {
  switch (node.kind) {
    case 'record': case 'enum': case 'fixed':
      return node.fullName;
    case 'uuid':
      return 'string';
    case 'date': case 'time-millis':
      return 'int';
    case 'time-micros': case 'timestamp-millis': case 'timestamp-micros':
      return 'long';
    case 'decimal':
      return 'bytes';
    default:
      return node.kind;
  }
}

function qualify(name: string, ns: string): string {
  return name.includes('.') || !ns ? name : `${ns}.${name}`;
}

/** The non-null branch of a nullable union, and whether it was nullable. */
export function unwrapNullable(node: SchemaNode): { node: SchemaNode; nullable: boolean } {
  if (node.kind === 'union') {
    const rest = node.branches.filter((b) => b.kind !== 'null');
    if (rest.length === 1) return { node: rest[0]!, nullable: rest.length < node.branches.length };
    return { node, nullable: rest.length < node.branches.length };
  }
  return { node, nullable: node.kind === 'null' };
}
