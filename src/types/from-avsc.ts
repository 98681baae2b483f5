/**
 * Avro schema JSON (the content of an .avsc file, or a registry subject) →
 * Sensei's AvroType. Follows the Avro 1.11 specification: named types with
 * namespaces and references, unions, logical types and field defaults.
 * Throws an Error whose message names where in the schema the problem is.
 *
 * Deviations, each deliberate:
 * - Recursive types (a record that contains itself) are rejected: a stream
 *   record must have a finite shape.
 * - A logical type on the wrong underlying type is ignored, as the
 *   specification says; but a `decimal` with an invalid precision or scale
 *   is an error, because that is always a mistake in the schema.
 * - `local-timestamp-*` and `duration` stay their underlying types.
 * - Defaults are kept in Avro's JSON encoding (as written in the .avsc).
 */
import type { AvroType, EnumType, FixedType, RecordField, RecordType } from './avro-type.ts';
import { fullName, MAX_TYPE_DEPTH, T, typeToString, type NamedType } from './type-utils.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

export class AvscError extends Error {
  override name = 'AvscError';
}

/** A schema nested deeper than MAX_TYPE_DEPTH. */
export class AvscTooDeep extends AvscError {
  override name = 'AvscTooDeep';
}

/**
 * Converts a parsed .avsc document. `known` supplies named types defined
 * elsewhere (by full name) that the schema may reference.
 */
export function avscToType(json: unknown, known?: ReadonlyMap<string, NamedType>): AvroType {
  return new AvscReader(known).read(json, '', '$');
}

/** All named types in `t` (itself included), by full name, in definition order. */
export function namedTypesOf(t: AvroType, into = new Map<string, NamedType>()): Map<string, NamedType> {
  switch (t.kind) {
    case 'record':
      if (into.has(fullName(t))) return into;
      into.set(fullName(t), t);
      for (const f of t.fields) namedTypesOf(f.type, into);
      return into;
    case 'enum':
    case 'fixed':
      into.set(fullName(t), t);
      return into;
    case 'array':
      return namedTypesOf(t.items, into);
    case 'map':
      return namedTypesOf(t.values, into);
    case 'union':
      for (const b of t.branches) namedTypesOf(b, into);
      return into;
    default:
      return into;
  }
}

class AvscReader {
  private readonly defined = new Map<string, NamedType>();
  /** Records whose fields are still being read: a reference to one of them is recursion. */
  private readonly open = new Set<string>();
  /** How deep `read` is nested now. */
  private depth = 0;

  constructor(private readonly known?: ReadonlyMap<string, NamedType>) {}

  read(schema: unknown, namespace: string, at: string): AvroType {
    if (this.depth >= MAX_TYPE_DEPTH) throw new AvscTooDeep(`the schema nests more than ${MAX_TYPE_DEPTH} levels deep`);
    this.depth++;
    try {
      return this.readType(schema, namespace, at);
    } finally {
      this.depth--;
    }
  }

  private readType(schema: unknown, namespace: string, at: string): AvroType {
    if (typeof schema === 'string') return this.reference(schema, namespace, at);
    if (Array.isArray(schema)) return this.union(schema, namespace, at);
    if (schema === null || typeof schema !== 'object') {
      throw new AvscError(`${at}: expected a type name, a schema object or a union array, found ${JSON.stringify(schema)}`);
    }
    const o = schema as Record<string, unknown>;
    const type = o.type;
    if (type === undefined) throw new AvscError(`${at}: the schema object has no "type"`);
    switch (type) {
      case 'record':
      case 'error':
        return this.record(o, namespace, at);
      case 'enum':
        return this.enum(o, namespace, at);
      case 'fixed':
        return this.logical(o, this.fixed(o, namespace, at), at);
      case 'array':
        if (!('items' in o)) throw new AvscError(`${at}: an array schema needs "items"`);
        return { kind: 'array', items: this.read(o.items, namespace, `${at}.items`) };
      case 'map':
        if (!('values' in o)) throw new AvscError(`${at}: a map schema needs "values"`);
        return { kind: 'map', values: this.read(o.values, namespace, `${at}.values`) };
      default:
        if (typeof type === 'string' && PRIMITIVES.has(type)) return this.logical(o, T[type as keyof typeof T], at);
        // `{"type": "Name"}` and `{"type": {...}}` wrap another schema.
        return this.read(type, namespace, `${at}.type`);
    }
  }

  private reference(name: string, namespace: string, at: string): AvroType {
    if (PRIMITIVES.has(name)) return T[name as keyof typeof T];
    const candidates = name.includes('.') || !namespace ? [name] : [`${namespace}.${name}`, name];
    for (const c of candidates) {
      if (this.open.has(c)) throw new AvscError(`${at}: recursive type ${c} is not supported (a record may not contain itself)`);
      const t = this.defined.get(c) ?? this.known?.get(c);
      if (t) return t;
    }
    throw new AvscError(`${at}: unknown type "${name}"${/^[a-z]+$/.test(name) ? ' (not a primitive type either)' : ''}`);
  }

  private union(branches: unknown[], namespace: string, at: string): AvroType {
    if (branches.length === 0) throw new AvscError(`${at}: a union needs at least one branch`);
    const types = branches.map((b, i) => {
      if (Array.isArray(b)) throw new AvscError(`${at}[${i}]: a union may not directly contain another union`);
      return this.read(b, namespace, `${at}[${i}]`);
    });
    const seen = new Set<string>();
    types.forEach((t, i) => {
      const key = t.kind === 'record' || t.kind === 'enum' || t.kind === 'fixed' ? fullName(t) : underlyingKind(t);
      if (seen.has(key)) throw new AvscError(`${at}[${i}]: the union has two branches of type ${key}`);
      seen.add(key);
    });
    return { kind: 'union', branches: types };
  }

  /** Resolves the full name of a named type and checks it is new. */
  private name(o: Record<string, unknown>, namespace: string, at: string): { name: string; namespace?: string } {
    const raw = o.name;
    if (typeof raw !== 'string' || raw === '') throw new AvscError(`${at}: a named type needs a "name"`);
    let ns = typeof o.namespace === 'string' ? o.namespace : namespace;
    let name = raw;
    if (raw.includes('.')) {
      ns = raw.slice(0, raw.lastIndexOf('.'));
      name = raw.slice(raw.lastIndexOf('.') + 1);
    }
    if (!NAME.test(name)) throw new AvscError(`${at}: "${name}" is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)`);
    if (ns && !ns.split('.').every((p) => NAME.test(p))) throw new AvscError(`${at}: "${ns}" is not a valid namespace`);
    if (!ns && PRIMITIVES.has(name)) throw new AvscError(`${at}: "${name}" is a primitive type and cannot be redefined`);
    const full = ns ? `${ns}.${name}` : name;
    if (this.defined.has(full) || this.open.has(full)) throw new AvscError(`${at}: type ${full} is defined twice`);
    return ns ? { name, namespace: ns } : { name };
  }

  private record(o: Record<string, unknown>, namespace: string, at: string): RecordType {
    const id = this.name(o, namespace, at);
    const full = id.namespace ? `${id.namespace}.${id.name}` : id.name;
    const where = `${at} (record ${id.name})`;
    if (!Array.isArray(o.fields)) throw new AvscError(`${where}: a record needs a "fields" array`);
    this.open.add(full);
    const fields: RecordField[] = [];
    const names = new Set<string>();
    o.fields.forEach((raw, i) => {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AvscError(`${where}.fields[${i}]: a field must be an object`);
      const f = raw as Record<string, unknown>;
      if (typeof f.name !== 'string' || !NAME.test(f.name)) {
        throw new AvscError(`${where}.fields[${i}]: ${f.name === undefined ? 'the field needs a "name"' : `${JSON.stringify(f.name)} is not a valid field name`}`);
      }
      if (names.has(f.name)) throw new AvscError(`${where}: field "${f.name}" is declared twice`);
      names.add(f.name);
      if (!('type' in f)) throw new AvscError(`${where}.${f.name}: the field needs a "type"`);
      const type = this.read(f.type, id.namespace ?? '', `${id.name}.${f.name}`);
      const field: RecordField = { name: f.name, type };
      if (typeof f.doc === 'string') field.doc = f.doc;
      if ('default' in f) {
        const problem = defaultError(f.default, type);
        if (problem) throw new AvscError(`${id.name}.${f.name}: invalid default ${JSON.stringify(f.default)}: ${problem}`);
        field.default = f.default;
      }
      fields.push(field);
    });
    this.open.delete(full);
    const t: RecordType = { kind: 'record', ...id, fields };
    if (typeof o.doc === 'string') t.doc = o.doc;
    this.defined.set(full, t);
    return t;
  }

  private enum(o: Record<string, unknown>, namespace: string, at: string): EnumType {
    const id = this.name(o, namespace, at);
    const where = `${at} (enum ${id.name})`;
    if (!Array.isArray(o.symbols)) throw new AvscError(`${where}: an enum needs a "symbols" array`);
    const symbols: string[] = [];
    for (const s of o.symbols) {
      if (typeof s !== 'string' || !NAME.test(s)) throw new AvscError(`${where}: ${JSON.stringify(s)} is not a valid enum symbol`);
      if (symbols.includes(s)) throw new AvscError(`${where}: symbol ${s} appears twice`);
      symbols.push(s);
    }
    const t: EnumType = { kind: 'enum', ...id, symbols };
    if (typeof o.doc === 'string') t.doc = o.doc;
    if ('default' in o) {
      if (typeof o.default !== 'string' || !symbols.includes(o.default)) {
        throw new AvscError(`${where}: the default ${JSON.stringify(o.default)} is not one of its symbols`);
      }
      t.default = o.default;
    }
    this.defined.set(fullName(t), t);
    return t;
  }

  private fixed(o: Record<string, unknown>, namespace: string, at: string): FixedType {
    const id = this.name(o, namespace, at);
    if (typeof o.size !== 'number' || !Number.isInteger(o.size) || o.size < 0) {
      throw new AvscError(`${at} (fixed ${id.name}): "size" must be a non-negative integer`);
    }
    const t: FixedType = { kind: 'fixed', ...id, size: o.size };
    this.defined.set(fullName(t), t);
    return t;
  }

  /** Applies a `logicalType` annotation to its underlying type. */
  private logical(o: Record<string, unknown>, base: AvroType, at: string): AvroType {
    switch (o.logicalType) {
      case 'decimal': {
        if (base.kind !== 'bytes' && base.kind !== 'fixed') return base;
        const precision = o.precision;
        const scale = o.scale ?? 0;
        if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
          throw new AvscError(`${at}: decimal "precision" must be a positive integer, found ${JSON.stringify(precision)}`);
        }
        if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
          throw new AvscError(`${at}: decimal "scale" must be an integer from 0 to the precision (${precision}), found ${JSON.stringify(scale)}`);
        }
        if (base.kind === 'fixed') {
          const max = Math.floor(Math.log10(2) * (8 * base.size - 1));
          if (precision > max) throw new AvscError(`${at}: fixed ${base.name} of ${base.size} bytes holds at most ${max} decimal digits, not ${precision}`);
        }
        return { kind: 'decimal', precision, scale };
      }
      case 'uuid':
        return base.kind === 'string' ? T.uuid : base;
      case 'date':
        return base.kind === 'int' ? T.date : base;
      case 'time-millis':
        return base.kind === 'int' ? T.timeMillis : base;
      case 'time-micros':
        return base.kind === 'long' ? T.timeMicros : base;
      case 'timestamp-millis':
        return base.kind === 'long' ? T.timestampMillis : base;
      case 'timestamp-micros':
        return base.kind === 'long' ? T.timestampMicros : base;
      default:
        return base;
    }
  }
}

/** The Avro type a logical type is stored as. */
function underlyingKind(t: AvroType): string {
  switch (t.kind) {
    case 'uuid':
      return 'string';
    case 'date':
    case 'time-millis':
      return 'int';
    case 'time-micros':
    case 'timestamp-millis':
    case 'timestamp-micros':
      return 'long';
    case 'decimal':
      return 'bytes';
    default:
      return t.kind;
  }
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/**
 * Why `value` (in Avro's JSON encoding) is not a valid default for `type`, or
 * undefined when it is. A union's default must match its first branch.
 */
export function defaultError(value: unknown, type: AvroType): string | undefined {
  const expected = `expected ${typeToString(type)}`;
  switch (type.kind) {
    case 'null':
      return value === null ? undefined : 'expected null';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : expected;
    case 'int':
    case 'date':
    case 'time-millis':
      return Number.isInteger(value) && (value as number) >= INT_MIN && (value as number) <= INT_MAX ? undefined : `${expected} (a 32-bit integer)`;
    case 'long':
    case 'time-micros':
    case 'timestamp-millis':
    case 'timestamp-micros':
      return Number.isInteger(value) ? undefined : `${expected} (an integer)`;
    case 'float':
    case 'double':
      return typeof value === 'number' ? undefined : `${expected} (a number)`;
    case 'string':
    case 'uuid':
      return typeof value === 'string' ? undefined : `${expected} (a string)`;
    case 'bytes':
    case 'decimal':
    case 'fixed': {
      if (typeof value !== 'string' || [...value].some((c) => c.charCodeAt(0) > 255)) return `${expected} (a string of code points 0-255)`;
      return type.kind === 'fixed' && value.length !== type.size ? `expected ${type.size} bytes, found ${value.length}` : undefined;
    }
    case 'enum':
      return typeof value === 'string' && type.symbols.includes(value) ? undefined : `expected one of ${type.symbols.join(', ')}`;
    case 'array':
      if (!Array.isArray(value)) return `${expected} (a JSON array)`;
      for (const [i, v] of value.entries()) {
        const e = defaultError(v, type.items);
        if (e) return `item ${i}: ${e}`;
      }
      return undefined;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${expected} (a JSON object)`;
      for (const [k, v] of Object.entries(value)) {
        const e = defaultError(v, type.values);
        if (e) return `key "${k}": ${e}`;
      }
      return undefined;
    case 'record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return `${expected} (a JSON object)`;
      const o = value as Record<string, unknown>;
      for (const f of type.fields) {
        if (!(f.name in o)) {
          if (f.default === undefined) return `field "${f.name}" is missing`;
          continue;
        }
        const e = defaultError(o[f.name], f.type);
        if (e) return `field "${f.name}": ${e}`;
      }
      return undefined;
    }
    case 'union': {
      const first = type.branches[0]!;
      const e = defaultError(value, first);
      if (!e) return undefined;
      const other = type.branches.slice(1).some((b) => !defaultError(value, b));
      return other ? `a union's default must match its first branch (${typeToString(first)})` : e;
    }
  }
}
