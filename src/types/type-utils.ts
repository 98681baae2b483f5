/**
 * Operations on Avro types shared by name resolution, the type checker and
 * the tools on top (hover, messages): printing, nullability, equality,
 * numeric promotion and the compatibility rules of `union`.
 */
import type { AvroType, EnumType, FixedType, RecordType } from './avro-type.ts';

export type NamedType = RecordType | EnumType | FixedType;
export type NumericType = Extract<AvroType, { kind: 'int' | 'long' | 'float' | 'double' | 'decimal' }>;
export type DecimalType = Extract<AvroType, { kind: 'decimal' }>;

/** Decimals never get more digits than this (as in SQL Server and BigQuery's BIGNUMERIC bound). */
export const MAX_DECIMAL_PRECISION = 38;

/**
 * How deep a type may nest (records, arrays, maps, unions). The stages walk
 * types recursively and would exhaust the call stack at some thousand levels;
 * a schema file or a chain of schemas each holding the one before may be
 * deeper than the parser's own limit on nesting.
 */
export const MAX_TYPE_DEPTH = 128;

/**
 * The nesting depth of `t` (a primitive is 1). `known` keeps the depth of
 * records already measured, so a chain of schemas is measured one schema at
 * a time instead of by recursing through all of them.
 */
export function typeDepth(t: AvroType, known: WeakMap<AvroType, number>): number {
  const measured = known.get(t);
  if (measured !== undefined) return measured;
  const parts = t.kind === 'record' ? t.fields.map((f) => f.type) : t.kind === 'array' ? [t.items] : t.kind === 'map' ? [t.values] : t.kind === 'union' ? t.branches : [];
  const depth = 1 + Math.max(0, ...parts.map((p) => typeDepth(p, known)));
  if (t.kind === 'record') known.set(t, depth);
  return depth;
}

/** Shared instances of the types without parameters. */
export const T = {
  null: { kind: 'null' },
  boolean: { kind: 'boolean' },
  int: { kind: 'int' },
  long: { kind: 'long' },
  float: { kind: 'float' },
  double: { kind: 'double' },
  bytes: { kind: 'bytes' },
  string: { kind: 'string' },
  uuid: { kind: 'uuid' },
  date: { kind: 'date' },
  timeMillis: { kind: 'time-millis' },
  timeMicros: { kind: 'time-micros' },
  timestampMillis: { kind: 'timestamp-millis' },
  timestampMicros: { kind: 'timestamp-micros' },
} as const satisfies Record<string, AvroType>;

export function decimal(precision: number, scale: number): DecimalType {
  return { kind: 'decimal', precision, scale };
}

export function isNamed(t: AvroType): t is NamedType {
  return t.kind === 'record' || t.kind === 'enum' || t.kind === 'fixed';
}

/** `namespace.name`, or just `name` without a namespace. */
export function fullName(t: NamedType): string {
  return t.namespace ? `${t.namespace}.${t.name}` : t.name;
}

/**
 * The type as the language spells it, for messages and hover:
 * `string?`, `decimal(12,2)`, `record Order`, `array<long>`, `timestamp_millis`.
 */
export function typeToString(t: AvroType): string {
  switch (t.kind) {
    case 'time-millis':
    case 'time-micros':
    case 'timestamp-millis':
    case 'timestamp-micros':
      return t.kind.replace('-', '_');
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'fixed':
      return `fixed ${t.name}(${t.size})`;
    case 'enum':
      return `enum ${t.name}`;
    case 'record':
      return `record ${t.name}`;
    case 'array':
      return `array<${typeToString(t.items)}>`;
    case 'map':
      return `map<${typeToString(t.values)}>`;
    case 'union': {
      const others = t.branches.filter((b) => b.kind !== 'null');
      if (others.length === 1 && others.length < t.branches.length) {
        const inner = typeToString(others[0]!);
        return others[0]!.kind === 'union' ? `(${inner})?` : `${inner}?`;
      }
      return `union<${t.branches.map(typeToString).join(', ')}>`;
    }
    default:
      return t.kind;
  }
}

/** True for `null` and for unions with a null branch. */
export function isNullable(t: AvroType): boolean {
  return t.kind === 'null' || (t.kind === 'union' && t.branches.some((b) => b.kind === 'null'));
}

/** The type without its null branch: `T?` → `T`; a union of several types keeps the others. */
export function nonNull(t: AvroType): AvroType {
  if (t.kind !== 'union') return t;
  const others = t.branches.filter((b) => b.kind !== 'null');
  if (others.length === t.branches.length) return t;
  if (others.length === 1) return others[0]!;
  return others.length === 0 ? T.null : { kind: 'union', branches: others };
}

/** `T?`: the type with a null branch (unchanged when it already has one). */
export function nullable(t: AvroType): AvroType {
  if (isNullable(t)) return t;
  if (t.kind === 'union') return { kind: 'union', branches: [T.null, ...t.branches] };
  return { kind: 'union', branches: [T.null, t] };
}

/** `t` made nullable when `when` is true. */
export function nullableIf(t: AvroType, when: boolean): AvroType {
  return when ? nullable(t) : t;
}

/** Structural equality; named types must also agree on their full name. Union branch order does not matter. */
export function typesEqual(a: AvroType, b: AvroType): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'decimal': {
      const d = b as DecimalType;
      return a.precision === d.precision && a.scale === d.scale;
    }
    case 'fixed': {
      const f = b as FixedType;
      return fullName(a) === fullName(f) && a.size === f.size;
    }
    case 'enum': {
      const e = b as EnumType;
      return fullName(a) === fullName(e) && a.symbols.length === e.symbols.length && a.symbols.every((s, i) => s === e.symbols[i]);
    }
    case 'array':
      return typesEqual(a.items, (b as typeof a).items);
    case 'map':
      return typesEqual(a.values, (b as typeof a).values);
    case 'record': {
      const r = b as RecordType;
      return fullName(a) === fullName(r) && a.fields.length === r.fields.length
        && a.fields.every((f, i) => f.name === r.fields[i]!.name && typesEqual(f.type, r.fields[i]!.type));
    }
    case 'union': {
      const u = b as typeof a;
      return a.branches.length === u.branches.length && a.branches.every((x) => u.branches.some((y) => typesEqual(x, y)));
    }
    default:
      return true;
  }
}

export function isNumeric(t: AvroType): t is NumericType {
  return t.kind === 'int' || t.kind === 'long' || t.kind === 'float' || t.kind === 'double' || t.kind === 'decimal';
}

export function isIntegral(t: AvroType): boolean {
  return t.kind === 'int' || t.kind === 'long';
}

export function isTimestamp(t: AvroType): boolean {
  return t.kind === 'timestamp-millis' || t.kind === 'timestamp-micros';
}

/** Types whose values are strings at run time and compare as text. */
export function isStringLike(t: AvroType): boolean {
  return t.kind === 'string' || t.kind === 'uuid' || t.kind === 'enum';
}

const NUMERIC_RANK = { int: 0, long: 1, float: 2, double: 3 } as const;

/** The decimal that holds every value of an integral type (SQL's rule: int → decimal(10,0), long → decimal(19,0)). */
function asDecimal(t: NumericType): DecimalType | undefined {
  if (t.kind === 'decimal') return t;
  if (t.kind === 'int') return decimal(10, 0);
  if (t.kind === 'long') return decimal(19, 0);
  return undefined;
}

/** Caps a decimal at MAX_DECIMAL_PRECISION, giving up scale first but keeping at least 6 digits of it (SQL Server's rule). */
function boundedDecimal(precision: number, scale: number): DecimalType {
  if (precision <= MAX_DECIMAL_PRECISION) return decimal(precision, scale);
  const excess = precision - MAX_DECIMAL_PRECISION;
  return decimal(MAX_DECIMAL_PRECISION, Math.max(Math.min(scale, 6), scale - excess));
}

/**
 * The common type of two numeric types, following Avro's promotion
 * int → long → float → double. A decimal with an int or long stays a decimal
 * wide enough for both; a decimal with a float or double becomes a double.
 * Undefined when either type is not numeric.
 */
export function promoteNumeric(a: AvroType, b: AvroType): NumericType | undefined {
  if (!isNumeric(a) || !isNumeric(b)) return undefined;
  if (a.kind === 'decimal' || b.kind === 'decimal') {
    const da = asDecimal(a);
    const db = asDecimal(b);
    if (!da || !db) return T.double;
    const scale = Math.max(da.scale, db.scale);
    return boundedDecimal(Math.max(da.precision - da.scale, db.precision - db.scale) + scale, scale);
  }
  return NUMERIC_RANK[a.kind] >= NUMERIC_RANK[b.kind] ? a : b;
}

/**
 * The result type of `a op b` for numeric operands. Decimals follow the SQL
 * rules for precision and scale (as SQL Server documents them):
 * `+ -` scale max(s1,s2), precision max(p1-s1,p2-s2)+scale+1;
 * `*` p1+p2+1, s1+s2; `/` scale max(6, s1+p2+1), precision p1-s1+s2+scale;
 * `%` scale max(s1,s2), precision min(p1-s1,p2-s2)+scale.
 * Integral division stays integral (it truncates).
 */
export function arithmeticType(op: '+' | '-' | '*' | '/' | '%', a: AvroType, b: AvroType): NumericType | undefined {
  const common = promoteNumeric(a, b);
  if (common?.kind !== 'decimal') return common;
  const da = asDecimal(a as NumericType)!;
  const db = asDecimal(b as NumericType)!;
  const [p1, s1, p2, s2] = [da.precision, da.scale, db.precision, db.scale];
  switch (op) {
    case '+':
    case '-': {
      const s = Math.max(s1, s2);
      return boundedDecimal(Math.max(p1 - s1, p2 - s2) + s + 1, s);
    }
    case '*':
      return boundedDecimal(p1 + p2 + 1, s1 + s2);
    case '/': {
      const s = Math.max(6, s1 + p2 + 1);
      return boundedDecimal(p1 - s1 + s2 + s, s);
    }
    case '%': {
      const s = Math.max(s1, s2);
      return boundedDecimal(Math.min(p1 - s1, p2 - s2) + s, s);
    }
  }
}

/**
 * The type that holds values of both `a` and `b`: for the branches of
 * `if`/`case`, `??`, `coalesce` and array literals. Null joins as
 * nullability, numbers promote, enums and uuids join strings as strings,
 * records must be union-compatible. Undefined when there is no such type.
 */
export function unifyTypes(a: AvroType, b: AvroType): AvroType | undefined {
  if (a.kind === 'null') return nullable(b);
  if (b.kind === 'null') return nullable(a);
  const isNull = isNullable(a) || isNullable(b);
  const x = nonNull(a);
  const y = nonNull(b);
  let joined: AvroType | undefined;
  if (typesEqual(x, y)) joined = x;
  else if (isNumeric(x) && isNumeric(y)) joined = promoteNumeric(x, y);
  else if (isStringLike(x) && isStringLike(y)) joined = T.string;
  else if (x.kind === 'array' && y.kind === 'array') {
    const items = unifyTypes(x.items, y.items);
    joined = items && { kind: 'array', items };
  } else if (x.kind === 'map' && y.kind === 'map') {
    const values = unifyTypes(x.values, y.values);
    joined = values && { kind: 'map', values };
  } else if (x.kind === 'record' && y.kind === 'record') {
    joined = recordUnion(x, y).type;
  }
  return joined && nullableIf(joined, isNull);
}

/**
 * Whether records of types `a` and `b` can flow into one stream (`union`):
 * the same field names (in any order) with equal types, where a field may be
 * nullable on one side only (the result is then nullable). Returns the joined
 * record (named and ordered like `a`) or the first field that differs.
 */
export function recordUnion(a: RecordType, b: RecordType): { type?: RecordType; field?: string; reason?: string } {
  const fields = [];
  for (const fa of a.fields) {
    const fb = b.fields.find((f) => f.name === fa.name);
    if (!fb) return { field: fa.name, reason: `\`${fa.name}\` is missing from ${b.name}` };
    const ta = nonNull(fa.type);
    const tb = nonNull(fb.type);
    let joined: AvroType | undefined = typesEqual(ta, tb) ? ta : undefined;
    if (!joined && ta.kind === 'record' && tb.kind === 'record') joined = recordUnion(ta, tb).type;
    if (!joined) {
      return { field: fa.name, reason: `\`${fa.name}\` is ${typeToString(fa.type)} in ${a.name} but ${typeToString(fb.type)} in ${b.name}` };
    }
    const type = nullableIf(joined, isNullable(fa.type) || isNullable(fb.type));
    // A default no longer fits once the field became nullable (Avro wants a union's default to match null first).
    const { default: d, ...rest } = fa;
    fields.push(isNullable(type) === isNullable(fa.type) && d !== undefined ? { ...rest, type, default: d } : { ...rest, type });
  }
  const extra = b.fields.find((fb) => !a.fields.some((f) => f.name === fb.name));
  if (extra) return { field: extra.name, reason: `\`${extra.name}\` is missing from ${a.name}` };
  return { type: { ...a, fields } };
}

/**
 * Whether a value of type `from` may be used where `to` is expected without
 * an explicit cast: equal types, widening numeric promotion, non-null into
 * nullable, null into nullable, and enums or uuids where strings are expected.
 */
export function isAssignable(from: AvroType, to: AvroType): boolean {
  if (from.kind === 'null') return isNullable(to);
  if (isNullable(from) && !isNullable(to)) return false;
  const f = nonNull(from);
  const t = nonNull(to);
  if (t.kind === 'union') return t.branches.some((b) => isAssignable(f, b));
  if (typesEqual(f, t)) return true;
  if (isNumeric(f) && isNumeric(t)) {
    const p = promoteNumeric(f, t);
    return p !== undefined && typesEqual(p, t);
  }
  if (t.kind === 'string') return f.kind === 'enum' || f.kind === 'uuid';
  if (f.kind === 'array' && t.kind === 'array') return isAssignable(f.items, t.items);
  if (f.kind === 'map' && t.kind === 'map') return isAssignable(f.values, t.values);
  return false;
}

/** `paid_orders` → `PaidOrders`: the record name of a stream's output. */
export function pascalCase(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  return /^[0-9]/.test(joined) ? `R${joined}` : joined || 'Record';
}
