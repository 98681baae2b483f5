/**
 * Runtime values ↔ JSON, directed by the schema. The JSON form is what JSON
 * sinks write, dead letters carry and pipeline tests compare:
 * timestamps as ISO-8601 UTC strings, dates as "YYYY-MM-DD", times as
 * "HH:MM:SS.sss", bytes and fixed as hex, decimals as numbers, non-finite
 * floats as null, nullable values plain. Reading also accepts the numeric
 * forms (epoch milliseconds, days since epoch…).
 *
 * Longs are exact over 64 bits: numbers while they are safe integers
 * (|n| < 2^53), bigints beyond. JSON text goes through json-text.ts, which
 * keeps the digits JSON.parse would round as `LosslessNumber`s; here they
 * become the schema's value, or an error naming the field.
 */
import { decimalFromText, decimalProblem, isDecimalText, NUMBER_DIGITS } from '../plan/decimal.ts';
import { isLosslessNumber, parseJson, rawNumber, stringifyJson } from './json-text.ts';
import { setOwn } from './own-keys.ts';
import { branchName, isNullable, type RecordNode, type SchemaNode, type UnionNode } from './schema.ts';
import { longValue } from './long.ts';

type Convert = (value: any) => unknown;

const toCache = new WeakMap<SchemaNode, Convert | null>();

/** The JSON form of a value; converters are built once per schema and skip subtrees that need no conversion. */
export function toJson(node: SchemaNode, value: unknown): unknown {
  const convert = toJsonConverter(node);
  return convert ? convert(value) : value;
}

/** One JSON text line for a value of this schema. */
export function jsonLineEncoder(node: SchemaNode): (value: unknown) => string {
  const convert = toJsonConverter(node);
  return convert ? (v) => stringifyJson(convert(v)) : stringifyJson;
}

/**
 * One human-readable text line: `name=value` pairs for a record (strings
 * bare unless they need quotes, nested values as JSON), JSON otherwise.
 */
export function textLineEncoder(node: SchemaNode): (value: unknown) => string {
  const json = toJsonConverter(node);
  const plain = (v: unknown) => (json ? json(v) : v);
  if (node.kind !== 'record') return (v) => stringifyJson(plain(v));
  return (v) => {
    const obj = plain(v) as Record<string, unknown>;
    return node.fields.map((f) => `${f.name}=${textValue(obj[f.name])}`).join(' ');
  };
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s="]+$/.test(v) ? v : JSON.stringify(v);
  return typeof v === 'object' && v !== null ? stringifyJson(v) : String(v);
}

/** `undefined` when the JSON form of the value is the value itself. */
function toJsonConverter(node: SchemaNode): Convert | undefined {
  const cached = toCache.get(node);
  if (cached !== undefined) return cached ?? undefined;
  // Recursive schemas reach themselves: convert through a late-bound reference.
  let self: Convert | undefined;
  toCache.set(node, (v) => (self ? self(v) : v));
  self = buildToJson(node);
  toCache.set(node, self ?? null);
  return self;
}

function buildToJson(node: SchemaNode): Convert | undefined {
  switch (node.kind) {
    case 'bytes':
    case 'fixed':
      return (v: Buffer) => v.toString('hex');
    case 'timestamp-millis':
      return (v: number) => isoOrNumber(v);
    case 'timestamp-micros':
      return (v: number | bigint) => {
        // Past ±2^53 µs (before 1685, after 2255) the value is a bigint.
        const big = BigInt(v);
        const ms = big / 1000n - (big % 1000n < 0n ? 1n : 0n);
        const iso = isoOrNumber(Number(ms));
        return typeof iso === 'string' ? `${iso.slice(0, -1)}${String(big - ms * 1000n).padStart(3, '0')}Z` : v;
      };
    case 'date':
      return (v: number) => {
        const iso = isoOrNumber(v * 86_400_000);
        return typeof iso === 'string' ? iso.slice(0, 10) : v;
      };
    case 'time-millis':
      return (v: number) => timeOfDay(Math.floor(v), 3, v);
    case 'time-micros':
      return (v: number) => timeOfDay(Math.floor(v / 1000), 6, v);
    case 'decimal':
      // Past 15 digits a decimal is its text at run time, written as a JSON number with all its digits.
      return node.precision > NUMBER_DIGITS ? (v: number | string) => (typeof v === 'string' ? rawNumber(v) : v) : undefined;
    case 'array': {
      const item = toJsonConverter(node.items);
      return item && ((v: unknown[]) => v.map(item));
    }
    case 'map': {
      const value = toJsonConverter(node.values);
      return value && ((v: Record<string, unknown>) => mapValues(v, value));
    }
    case 'record': {
      const fields = node.fields.map((f) => ({ name: f.name, convert: toJsonConverter(f.type) }));
      if (fields.every((f) => !f.convert)) return undefined;
      return (v: Record<string, unknown>) => {
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const x = v[f.name];
          setOwn(out, f.name, f.convert && x !== null && x !== undefined ? f.convert(x) : x);
        }
        return out;
      };
    }
    case 'union':
      return unionToJson(node);
    default:
      return undefined;
  }
}

function unionToJson(node: UnionNode): Convert | undefined {
  const branches = node.branches.map((b) => ({ name: branchName(b), node: b, convert: toJsonConverter(b) }));
  if (node.wrapped) {
    return (v) => {
      if (v === null) return null;
      const [name, inner] = Object.entries(v as object)[0]!;
      const b = branches.find((x) => x.name === name);
      return { [name]: b?.convert ? b.convert(inner) : inner };
    };
  }
  const converting = branches.filter((b) => b.convert && b.node.kind !== 'null');
  if (converting.length === 0) return undefined;
  if (converting.length === 1 && branches.length === 2) {
    const only = converting[0]!.convert!;
    return (v) => (v === null ? null : only(v));
  }
  return (v) => {
    if (v === null) return null;
    const b = branches.find((x) => matchesRuntime(x.node, v));
    return b?.convert ? b.convert(v) : v;
  };
}

/** Whether a runtime value belongs to a branch of an unwrapped union (branches hold distinct kinds of values). */
function matchesRuntime(node: SchemaNode, v: unknown): boolean {
  switch (node.kind) {
    case 'null': return v === null;
    case 'boolean': return typeof v === 'boolean';
    case 'string': case 'uuid': case 'enum': return typeof v === 'string';
    case 'bytes': case 'fixed': return Buffer.isBuffer(v);
    case 'array': return Array.isArray(v);
    case 'map': case 'record': return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
    default: return typeof v === 'number' || typeof v === 'bigint';
  }
}

function isoOrNumber(ms: number): string | number {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? ms : d.toISOString();
}

function timeOfDay(ms: number, digits: 3 | 6, raw: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}`;
  const frac = digits === 3 ? pad(ms % 1000, 3) : pad(raw % 1_000_000, 6);
  return `${base}.${frac}`;
}

function mapValues(v: Record<string, unknown>, f: Convert): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in v) setOwn(out, k, f(v[k]));
  return out;
}

/** A JSON value that does not fit the schema; `path` says where (`items[0].sku`). */
export class JsonValueError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'JsonValueError';
  }
}

export interface FromJsonOptions {
  /** Reject record fields the schema does not have (default true). */
  strict?: boolean;
}

/** A reader of JSON text as values of this schema; with decimals past 15 digits, fractions are read from their digits too. */
export function jsonTextReader(node: SchemaNode, options: FromJsonOptions = {}): (text: string) => unknown {
  const exactFractions = hasWideDecimals(node);
  return (text) => fromJson(node, parseJson(text, exactFractions), options);
}

/** Whether values of the schema may hold decimals past 15 digits, which JSON readers must take from their digits. */
export function hasWideDecimals(node: SchemaNode): boolean {
  return hasWideDecimal(node, new Set());
}

function hasWideDecimal(node: SchemaNode, seen: Set<SchemaNode>): boolean {
  if (seen.has(node)) return false;
  seen.add(node);
  switch (node.kind) {
    case 'decimal': return node.precision > NUMBER_DIGITS;
    case 'array': return hasWideDecimal(node.items, seen);
    case 'map': return hasWideDecimal(node.values, seen);
    case 'record': return node.fields.some((f) => hasWideDecimal(f.type, seen));
    case 'union': return node.branches.some((b) => hasWideDecimal(b, seen));
    default: return false;
  }
}

/**
 * The runtime value of a JSON value (as toJson writes it, or the numeric
 * forms). Missing record fields take their default, or null when nullable.
 */
export function fromJson(node: SchemaNode, json: unknown, options: FromJsonOptions = {}): unknown {
  return read(node, json, '', options.strict ?? true);
}

function read(node: SchemaNode, v: unknown, path: string, strict: boolean): unknown {
  const fail = (what: string): never => {
    throw new JsonValueError(path, `expected ${what}, got ${isLosslessNumber(v) ? v.value : (stringifyJson(v) ?? String(v))}`);
  };
  switch (node.kind) {
    case 'null':
      return v === null ? null : fail('null');
    case 'boolean':
      return typeof v === 'boolean' ? v : fail('a boolean');
    case 'int':
      return Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31 ? v : fail('an int (−2^31 … 2^31−1)');
    case 'long':
      return readLong(v) ?? fail('a long (−2^63 … 2^63−1)');
    case 'float':
    case 'double':
      if (typeof v === 'number') return v;
      if (isLosslessNumber(v)) return Number(v.value);
      if (typeof v === 'bigint') return Number(v);
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      return fail('a number');
    case 'decimal': {
      const text = typeof v === 'number' && Number.isFinite(v) ? String(v)
        : isLosslessNumber(v) ? v.value
        : typeof v === 'bigint' ? String(v)
        : typeof v === 'string' && v.trim() !== '' ? v.trim()
        : '';
      if (!isDecimalText(text)) fail(`decimal(${node.precision}, ${node.scale})`);
      const problem = decimalProblem(text, node.precision, node.scale);
      if (problem) throw new JsonValueError(path, problem);
      return node.precision <= NUMBER_DIGITS ? Number(text) : decimalFromText(text);
    }
    case 'string':
    case 'uuid':
      return typeof v === 'string' ? v : fail('a string');
    case 'enum':
      return typeof v === 'string' && node.symbols.includes(v) ? v : fail(`one of ${node.symbols.join(', ')}`);
    case 'bytes':
    case 'fixed': {
      const buf = typeof v === 'string' && /^([0-9a-fA-F]{2})*$/.test(v) ? Buffer.from(v, 'hex')
        : Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256) ? Buffer.from(v as number[])
        : fail('hex bytes');
      if (node.kind === 'fixed' && buf.length !== node.size) fail(`${node.size} bytes`);
      return buf;
    }
    case 'timestamp-millis':
      if (typeof v === 'string') return parseTimestamp(v, 1, fail);
      return readLong(v) ?? fail('a timestamp (ISO-8601 or epoch milliseconds)');
    case 'timestamp-micros':
      if (typeof v === 'string') return parseTimestamp(v, 1000, fail);
      return readLong(v) ?? fail('a timestamp (ISO-8601 or epoch microseconds)');
    case 'date': {
      if (Number.isInteger(v)) return v;
      const ms = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN;
      return Number.isNaN(ms) ? fail('a date ("YYYY-MM-DD" or days since epoch)') : ms / 86_400_000;
    }
    case 'time-millis':
    case 'time-micros': {
      const unit = node.kind === 'time-millis' ? 1 : 1000;
      if (Number.isInteger(v)) return v;
      const m = typeof v === 'string' ? /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(v) : null;
      if (!m) return fail('a time ("HH:MM:SS.sss")');
      const micros = Number((m[4] ?? '').padEnd(6, '0'));
      return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? 0)) * 1000 * unit + Math.floor(micros / (1000 / unit));
    }
    case 'array':
      return Array.isArray(v) ? v.map((x, i) => read(node.items, x, `${path}[${i}]`, strict)) : fail('an array');
    case 'map': {
      if (!isPlainObject(v)) return fail('an object (map)');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) setOwn(out, k, read(node.values, x, `${path}[${JSON.stringify(k)}]`, strict));
      return out;
    }
    case 'record':
      return isPlainObject(v) ? readRecord(node, v, path, strict) : fail(`a record ${node.name}`);
    case 'union':
      return readUnion(node, v, path, strict);
  }
}

function readRecord(node: RecordNode, v: Record<string, unknown>, path: string, strict: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of node.fields) {
    const at = path ? `${path}.${f.name}` : f.name;
    if (Object.hasOwn(v, f.name)) setOwn(out, f.name, read(f.type, v[f.name], at, strict));
    else if (f.default !== undefined) setOwn(out, f.name, read(f.type, f.default, at, strict));
    else if (isNullable(f.type)) setOwn(out, f.name, null);
    else throw new JsonValueError(at, 'missing field');
  }
  if (strict) {
    const unknown = Object.keys(v).filter((k) => !node.fields.some((f) => f.name === k));
    if (unknown.length > 0) throw new JsonValueError(path, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (record ${node.name})`);
  }
  return out;
}

function readUnion(node: UnionNode, v: unknown, path: string, strict: boolean): unknown {
  if (v === null && node.branches.some((b) => b.kind === 'null')) return null;
  if (node.wrapped && isPlainObject(v)) {
    const entries = Object.entries(v);
    const b = entries.length === 1 ? node.branches.find((x) => branchName(x) === entries[0]![0]) : undefined;
    if (b) return { [entries[0]![0]]: read(b, entries[0]![1], path, strict) };
  }
  const problems: string[] = [];
  for (const b of node.branches) {
    if (b.kind === 'null') continue;
    try {
      const value = read(b, v, path, strict);
      return node.wrapped ? { [branchName(b)]: value } : value;
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  throw new JsonValueError(path, `matches no branch of the union: ${problems.join('; ')}`);
}

function parseTimestamp(s: string, unit: 1 | 1000, fail: (what: string) => never): number | bigint {
  // Years past 9999 or before 0000 come as ISO-8601's extended years (`+010000-01-01`), as toISOString writes them.
  const m = /^((?:[+-]\d{6}|\d{4})-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return fail('an ISO-8601 timestamp');
  const ms = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[4] ?? 'Z'}`);
  if (Number.isNaN(ms)) return fail('an ISO-8601 timestamp');
  const frac = (m[3] ?? '').padEnd(6, '0');
  if (unit === 1) return ms + Math.floor(Number(frac) / 1000);
  // Microseconds past ±2^53 (before 1685, after 2255) are bigints, like other longs.
  const micros = ms * 1000 + Number(frac);
  return Number.isSafeInteger(micros) ? micros : longValue(BigInt(ms) * 1000n + BigInt(frac))!;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !isLosslessNumber(v);
}

/** A JSON long: an integral number (kept exact past 2^53 by json-text.ts), or a bigint. */
function readLong(v: unknown): number | bigint | undefined {
  if (Number.isSafeInteger(v)) return v as number;
  // A short text such as 1e18 parses to an exact double past 2^53.
  if (typeof v === 'number') return Number.isInteger(v) ? longValue(BigInt(v)) : undefined;
  if (typeof v === 'bigint') return longValue(v);
  if (isLosslessNumber(v) && /^-?\d+$/.test(v.value)) return longValue(BigInt(v.value));
  return undefined;
}

/** JSON for values without a schema (dead-letter payloads): bytes as hex, everything else as is. */
export function genericJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map(genericJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, genericJson(v));
    return out;
  }
  return value;
}
