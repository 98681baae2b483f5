/**
 * Avro type model → Avro schema JSON (.avsc). Logical types are annotated
 * on their Avro base type; named types (record, enum, fixed) are defined at
 * their first use and referenced by full name afterwards. Record, enum and
 * fixed names are made valid Avro names (stream names may be quoted
 * identifiers); two different types that end up with one full name get
 * numbered names, so the schema always parses.
 */
import type { AvroType, RecordType } from './avro-type.ts';

type Named = Extract<AvroType, { name: string }>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function typeToAvsc(t: AvroType): unknown {
  return new AvscWriter().write(t, '');
}

/** A valid Avro name from any string: invalid characters become `_`. */
export function avroName(name: string): string {
  if (NAME.test(name)) return name;
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

class AvscWriter {
  /** Full name → structure of the type defined under it. */
  private readonly defined = new Map<string, string>();

  /** `ns` is the enclosing namespace, which Avro applies to unqualified names. */
  write(t: AvroType, ns: string): unknown {
    switch (t.kind) {
      case 'null': case 'boolean': case 'int': case 'long': case 'float': case 'double': case 'bytes': case 'string':
        return t.kind;
      case 'uuid': return { type: 'string', logicalType: 'uuid' };
      case 'date': return { type: 'int', logicalType: 'date' };
      case 'time-millis': return { type: 'int', logicalType: 'time-millis' };
      case 'time-micros': return { type: 'long', logicalType: 'time-micros' };
      case 'timestamp-millis': return { type: 'long', logicalType: 'timestamp-millis' };
      case 'timestamp-micros': return { type: 'long', logicalType: 'timestamp-micros' };
      case 'decimal': return { type: 'bytes', logicalType: 'decimal', precision: t.precision, scale: t.scale };
      case 'array': return { type: 'array', items: this.write(t.items, ns) };
      case 'map': return { type: 'map', values: this.write(t.values, ns) };
      case 'union': return t.branches.map((b) => this.write(b, ns));
      case 'record': case 'enum': case 'fixed': return this.named(t, ns);
    }
  }

  private named(t: Named, ns: string): unknown {
    // As in Avro, a type without a namespace of its own lives in the enclosing one.
    const space = t.namespace === undefined ? ns : t.namespace.split('.').filter(Boolean).map(avroName).join('.');
    const shape = JSON.stringify(t, (k, v) => (k === 'doc' ? undefined : v));
    const base = avroName(t.name);
    let full = qualify(base, space);
    for (let n = 2; ; n++) {
      const prior = this.defined.get(full);
      if (prior === shape && referenceable(full, ns)) return full;
      if (prior === undefined) break;
      full = qualify(`${base}_${n}`, space);
    }
    this.defined.set(full, shape);
    const name = full.slice(full.lastIndexOf('.') + 1);
    // An explicit namespace (even "") keeps Avro from applying the enclosing one.
    const head = { type: t.kind, name, ...(space !== ns ? { namespace: space } : {}) };
    if (t.kind === 'fixed') return { ...head, size: t.size };
    if (t.kind === 'enum') {
      return { ...head, ...(t.doc ? { doc: t.doc } : {}), symbols: t.symbols, ...(t.default !== undefined ? { default: t.default } : {}) };
    }
    return { ...head, ...(t.doc ? { doc: t.doc } : {}), fields: this.fields(t, space) };
  }

  private fields(t: RecordType, ns: string): unknown[] {
    return t.fields.map((f) => {
      const hasDefault = f.default !== undefined;
      // Avro checks a union's default against its first branch, so a nullable
      // field with a non-null default lists its value type first.
      const type = hasDefault && f.default !== null && f.type.kind === 'union' && f.type.branches[0]?.kind === 'null'
        ? { kind: 'union' as const, branches: [...f.type.branches.slice(1), f.type.branches[0]] }
        : f.type;
      return {
        name: f.name,
        type: this.write(type, ns),
        ...(f.doc ? { doc: f.doc } : {}),
        ...(hasDefault ? { default: defaultJson(type, f.default) } : {}),
      };
    });
  }
}

function qualify(name: string, namespace: string): string {
  return namespace ? `${namespace}.${name}` : name;
}

/** Avro resolves an unqualified reference in the enclosing namespace, so a name in the null namespace is only reachable outside any. */
function referenceable(full: string, ns: string): boolean {
  return full.includes('.') || ns === '';
}

/** A default value (runtime representation or Avro JSON) in Avro's JSON encoding of defaults. */
function defaultJson(t: AvroType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'bytes': case 'fixed':
      return v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v;
    case 'decimal':
      return typeof v === 'number' ? decimalBytes(v, t.scale).toString('latin1') : v;
    case 'array':
      return Array.isArray(v) ? v.map((x) => defaultJson(t.items, x)) : v;
    case 'map':
      return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, defaultJson(t.values, x)])) : v;
    case 'record':
      return isObject(v)
        ? Object.fromEntries(t.fields.map((f) => [f.name, defaultJson(f.type, f.name in v ? v[f.name] : f.default)]))
        : v;
    case 'union':
      return t.branches[0] ? defaultJson(t.branches[0], v) : v;
    default:
      return v;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Two's-complement big-endian bytes of the unscaled value, as Avro encodes a decimal. */
function decimalBytes(value: number, scale: number): Buffer {
  let n = BigInt(Math.round(value * 10 ** scale));
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (!((n === 0n && (bytes[0]! & 0x80) === 0) || (n === -1n && (bytes[0]! & 0x80) !== 0)));
  return Buffer.from(bytes);
}
