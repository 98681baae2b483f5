/**
 * Type expressions of .sensei files → AvroTypes, and field defaults →
 * Avro's JSON encoding. Name lookup is the caller's (resolve.ts): it knows
 * every schema and named type of the program.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { diagnostic } from '../diagnostics/codes.ts';
import type { AvroType, RecordField, RecordType } from '../types/avro-type.ts';
import type { Expr, FieldDecl, Identifier, PrimitiveName, TypeExpr } from '../syntax/ast.ts';
import { defaultError } from '../types/from-avsc.ts';
import { isNullable, MAX_DECIMAL_PRECISION, nonNull, T, typeToString, type NamedType } from '../types/type-utils.ts';
import { evalLiteral, parseTimestampMicros, parseTimeMicros } from './constants.ts';

const PRIMITIVE_TYPES: Record<PrimitiveName, AvroType> = {
  null: T.null,
  boolean: T.boolean,
  int: T.int,
  long: T.long,
  float: T.float,
  double: T.double,
  bytes: T.bytes,
  string: T.string,
  uuid: T.uuid,
  date: T.date,
  time_millis: T.timeMillis,
  time_micros: T.timeMicros,
  timestamp_millis: T.timestampMillis,
  timestamp_micros: T.timestampMicros,
};

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TypeContext {
  diagnostics: Diagnostic[];
  /** The type a name refers to; reports and returns undefined when there is none. */
  lookup(name: Identifier): AvroType | undefined;
  /** Registers a named type declared inline (`record Address { … }`); reports a clash. */
  define(type: NamedType, name: Identifier): void;
}

/** Converts a type expression; undefined after reporting an error. */
export function typeExprToType(te: TypeExpr, ctx: TypeContext): AvroType | undefined {
  switch (te.kind) {
    case 'primitive':
      return PRIMITIVE_TYPES[te.name];
    case 'decimal':
      if (!Number.isInteger(te.precision) || te.precision < 1 || te.precision > MAX_DECIMAL_PRECISION) {
        ctx.diagnostics.push(diagnostic('invalid-schema', te.span, `decimal precision must be from 1 to ${MAX_DECIMAL_PRECISION}, not ${te.precision}`));
        return undefined;
      }
      if (!Number.isInteger(te.scale) || te.scale < 0 || te.scale > te.precision) {
        ctx.diagnostics.push(diagnostic('invalid-schema', te.span, `decimal scale must be from 0 to the precision (${te.precision}), not ${te.scale}`));
        return undefined;
      }
      return { kind: 'decimal', precision: te.precision, scale: te.scale };
    case 'fixed': {
      if (!validName(te.name, ctx)) return undefined;
      if (!Number.isInteger(te.size) || te.size < 1) {
        ctx.diagnostics.push(diagnostic('invalid-schema', te.span, `fixed ${te.name.name} needs a positive size, not ${te.size}`));
        return undefined;
      }
      const t: NamedType = { kind: 'fixed', name: te.name.name, size: te.size };
      ctx.define(t, te.name);
      return t;
    }
    case 'enum': {
      if (!validName(te.name, ctx)) return undefined;
      const symbols: string[] = [];
      for (const s of te.symbols) {
        if (!validName(s, ctx)) return undefined;
        if (symbols.includes(s.name)) {
          ctx.diagnostics.push(diagnostic('invalid-schema', s.span, `enum ${te.name.name} lists ${s.name} twice`));
          return undefined;
        }
        symbols.push(s.name);
      }
      if (symbols.length === 0) {
        ctx.diagnostics.push(diagnostic('invalid-schema', te.span, `enum ${te.name.name} needs at least one symbol`));
        return undefined;
      }
      const t: NamedType = { kind: 'enum', name: te.name.name, symbols };
      ctx.define(t, te.name);
      return t;
    }
    case 'array': {
      const items = typeExprToType(te.items, ctx);
      return items && { kind: 'array', items };
    }
    case 'map': {
      const values = typeExprToType(te.values, ctx);
      return values && { kind: 'map', values };
    }
    case 'record': {
      if (!validName(te.name, ctx)) return undefined;
      const t = recordType(te.name.name, te.fields, ctx);
      if (t) ctx.define(t, te.name);
      return t;
    }
    case 'named':
      return ctx.lookup(te.name);
    case 'nullable': {
      const inner = typeExprToType(te.inner, ctx);
      if (!inner || isNullable(inner)) return inner;
      return inner.kind === 'union' ? { kind: 'union', branches: [T.null, ...inner.branches] } : { kind: 'union', branches: [T.null, inner] };
    }
  }
}

function validName(id: Identifier, ctx: TypeContext): boolean {
  return validAvroName(id, ctx.diagnostics);
}

/** Field and type names must be Avro names, or the inferred schemas could not be written. */
export function validAvroName(id: Identifier, diagnostics: Diagnostic[]): boolean {
  if (AVRO_NAME.test(id.name)) return true;
  diagnostics.push(diagnostic('invalid-schema', id.span, `"${id.name}" is not a valid Avro name (letters, digits and _, not starting with a digit)`));
  return false;
}

/** A record of field declarations; undefined when a field failed (reported). */
export function recordType(name: string, decls: FieldDecl[], ctx: TypeContext, doc?: string): RecordType | undefined {
  const fields: RecordField[] = [];
  let ok = true;
  const seen = new Set<string>();
  for (const decl of decls) {
    if (seen.has(decl.name.name)) {
      ctx.diagnostics.push(diagnostic('duplicate-field', decl.name.span, `record ${name} declares field \`${decl.name.name}\` twice`));
      ok = false;
      continue;
    }
    seen.add(decl.name.name);
    if (!validName(decl.name, ctx)) {
      ok = false;
      continue;
    }
    let type = typeExprToType(decl.type, ctx);
    if (!type) {
      ok = false;
      continue;
    }
    const field: RecordField = { name: decl.name.name, type };
    if (decl.doc !== undefined) field.doc = decl.doc;
    if (decl.default) {
      const d = defaultToJson(decl.default, type);
      if ('error' in d) {
        ctx.diagnostics.push(diagnostic('invalid-default', decl.default.span, `invalid default for \`${decl.name.name}: ${typeToString(type)}\`: ${d.error}`));
        ok = false;
        continue;
      }
      // Avro wants a union's default to match its first branch: put the default's branch first.
      if (type.kind === 'union' && d.value !== null && type.branches[0]!.kind === 'null') {
        type = { kind: 'union', branches: [...type.branches.slice(1), T.null] };
        field.type = type;
      }
      field.default = d.value;
    }
    fields.push(field);
  }
  if (!ok) return undefined;
  const t: RecordType = { kind: 'record', name, fields };
  if (doc !== undefined) t.doc = doc;
  return t;
}

/**
 * A default written as a literal → its Avro JSON encoding for `type`
 * (bytes as a string of code points 0-255, decimals as their two's
 * complement bytes, timestamps and dates as numbers).
 */
export function defaultToJson(expr: Expr, type: AvroType): { value: unknown } | { error: string } {
  if (type.kind === 'union') {
    if (expr.kind === 'null') return isNullable(type) ? { value: null } : { error: `${typeToString(type)} is not nullable` };
    const inner = nonNull(type);
    if (inner.kind === 'union') return { error: 'defaults of unions of several types are not supported; write the schema in an .avsc file' };
    return defaultToJson(expr, inner);
  }
  if (expr.kind === 'array' && type.kind === 'array') {
    const items = [];
    for (const item of expr.items) {
      const v = defaultToJson(item, type.items);
      if ('error' in v) return v;
      items.push(v.value);
    }
    return { value: items };
  }
  if (expr.kind === 'map' && type.kind === 'map') {
    const value: Record<string, unknown> = {};
    for (const e of expr.entries) {
      const v = defaultToJson(e.value, type.values);
      if ('error' in v) return v;
      value[e.key.value] = v.value;
    }
    return { value };
  }
  const lit = evalLiteral(expr);
  if (!lit) return { error: 'a default must be a literal' };
  if ('error' in lit) return lit;
  const found = typeToString(lit.type);
  const mismatch = { error: `expected ${typeToString(type)}, found ${found}` };
  let value: unknown = lit.value;
  switch (type.kind) {
    case 'int':
    case 'long':
      if (lit.type.kind !== 'int' && lit.type.kind !== 'long') return mismatch;
      // The plan carries schemas as JSON, whose numbers are doubles.
      if (typeof lit.value === 'string') return { error: `a default past 2^53 (${lit.value}) cannot be kept exactly in the schema's JSON; use a smaller default or null` };
      break;
    case 'float':
    case 'double':
      if (!['int', 'long', 'float', 'double', 'decimal'].includes(lit.type.kind)) return mismatch;
      value = Number(lit.value);
      break;
    case 'decimal': {
      if (!['int', 'long', 'decimal'].includes(lit.type.kind)) return mismatch;
      const text = expr.kind === 'unary' && expr.operand.kind === 'number' ? `-${expr.operand.text}` : expr.kind === 'number' ? expr.text : String(lit.value);
      const encoded = encodeDecimal(text.replace(/_/g, ''), type.precision, type.scale);
      if (typeof encoded !== 'string') return encoded;
      value = encoded;
      break;
    }
    case 'enum':
      if (lit.type.kind !== 'string') return mismatch;
      if (!type.symbols.includes(lit.value as string)) return { error: `"${lit.value as string}" is not a symbol of enum ${type.name} (${type.symbols.join(', ')})` };
      break;
    case 'uuid':
      if (lit.type.kind !== 'uuid' && lit.type.kind !== 'string') return mismatch;
      break;
    case 'timestamp-millis':
    case 'timestamp-micros':
      if (lit.type.kind !== 'timestamp-millis' || expr.kind !== 'typed') return mismatch;
      value = type.kind === 'timestamp-micros' ? parseTimestampMicros(expr.value.value) : lit.value;
      break;
    case 'time-millis':
    case 'time-micros':
      if (lit.type.kind !== 'time-millis' || expr.kind !== 'typed') return mismatch;
      value = type.kind === 'time-micros' ? parseTimeMicros(expr.value.value) : lit.value;
      break;
    case 'bytes':
    case 'fixed':
      if (lit.type.kind !== 'bytes') return mismatch;
      value = Buffer.from(lit.value as string, 'hex').toString('latin1');
      break;
    default:
      if (lit.type.kind !== type.kind) return mismatch;
  }
  const problem = defaultError(value, type);
  return problem ? { error: problem } : { value };
}

/** `-12.5` at scale 2 → the big-endian two's complement bytes of -1250, as a latin1 string. */
function encodeDecimal(text: string, precision: number, scale: number): string | { error: string } {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return { error: `${text} is not a decimal number` };
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > scale) return { error: `${text} has more than ${scale} digits after the point` };
  const digits = ((m[2] ?? '') + fraction.padEnd(scale, '0')).replace(/^0+(?=\d)/, '') || '0';
  if (digits.length > precision) return { error: `${text} has more than ${precision} digits` };
  let n = BigInt(digits) * (m[1] ? -1n : 1n);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (!(n === 0n && (bytes[0]! & 0x80) === 0) && !(n === -1n && (bytes[0]! & 0x80) !== 0));
  return String.fromCharCode(...bytes);
}
