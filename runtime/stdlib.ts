/**
 * The function library at run time: `lib` for generated chains. Names and
 * null rules match `src/check/functions.ts` exactly (a test checks it).
 * Values are in the runtime representation of avro-type.ts: timestamps are
 * epoch milliseconds (the checker converts dates and microsecond
 * timestamps before time functions), decimals numbers, bytes Buffers.
 *
 * Strict functions return null when an argument is null. Errors (malformed
 * text in a cast, an out-of-range integer) are thrown as RangeError; the
 * generated chain applies the stream's error policy.
 *
 * Regular expressions, LIKE patterns, timestamp patterns and JSON paths
 * are compiled once and cached, never per call.
 */
import { createHash, randomUUID } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { ChainFailure } from '../src/plan/chain.ts';
import { LIKE_FLAGS, likeToRegex } from '../src/plan/like.ts';
import { murmur2 } from '../src/formats/murmur2.ts';
import { parseJsonValue, stringifyJson } from '../src/formats/json-text.ts';
import { longValue } from '../src/formats/long.ts';
import {
  decimalAdd, decimalCompare, decimalDiv, decimalMod, decimalMul, decimalNeg, decimalRound, decimalSub, decimalText, decimalTrunc, toDecimal,
  type DecimalOperand,
} from '../src/plan/decimal.ts';

type Fn = (...args: any[]) => unknown;

const fail = (message: string): never => {
  throw new RangeError(message);
};

/** A bounded cache of compiled patterns: cleared when full, which only costs recompiling. */
function cached<T>(compile: (key: string) => T, limit = 512): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size >= limit) cache.clear();
      v = compile(key);
      cache.set(key, v);
    }
    return v;
  };
}

// Strict wrappers by arity: null (or a missing optional argument, undefined) in any given position → null.
const strict1 = (f: (a: any) => unknown): Fn => (a) => (a == null ? null : f(a));
const strict2 = (f: (a: any, b: any) => unknown): Fn => (a, b) => (a == null || b === null ? null : f(a, b));
const strict3 = (f: (a: any, b: any, c: any) => unknown): Fn => (a, b, c) => (a == null || b === null || c === null ? null : f(a, b, c));
const strictN = (f: (args: any[]) => unknown): Fn => (...args) => {
  for (const a of args) if (a == null) return null;
  return f(args);
};

// ---- strings (positions and lengths count Unicode code points) ----

const SURROGATE = /[\uD800-\uDFFF]/;
const chars = (s: string): string[] | string => (SURROGATE.test(s) ? [...s] : s);
const join = (c: string[] | string): string => (typeof c === 'string' ? c : c.join(''));

function substring(s: string, start: number, length?: number): string {
  const c = chars(s);
  const from = start > 0 ? start - 1 : start < 0 ? Math.max(0, c.length + start) : 0;
  const to = length === undefined || length === null ? c.length : from + Math.max(0, length);
  return join(c.slice(from, to));
}

function pad(s: string, length: number, fill: string, left: boolean): string {
  const c = chars(s);
  if (c.length >= length) return join(c.slice(0, Math.max(0, length)));
  if (fill === '') return s;
  const f = [...fill];
  let padding = '';
  for (let i = 0; i < length - c.length; i++) padding += f[i % f.length];
  return left ? padding + s : s + padding;
}

function indexOf(s: string, search: string): number {
  const i = s.indexOf(search);
  if (i < 0) return 0;
  return SURROGATE.test(s) ? [...s.slice(0, i)].length + 1 : i + 1;
}

// No flags: the compiler validates patterns, and codegen compiles literal ones, the same way.
const regex = cached((source) => new RegExp(source));
const globalRegex = cached((source) => new RegExp(source, 'g'));

function regexpExtract(s: string, pattern: string, group?: number): string | null {
  const m = regex(pattern).exec(s);
  return m ? (m[group ?? 0] ?? null) : null;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

// ---- math ----

/** Half away from zero; the tiny nudge makes 1.005 (stored as 1.00499…) round as the decimal it stands for. */
function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  const m = Math.round(Math.abs(x) * f * (1 + 2 ** -50)) / f;
  return x < 0 ? -m : m;
}

function pick(args: any[], wantLess: boolean): unknown {
  let best = args[0];
  for (const a of args) if (wantLess ? a < best : a > best) best = a;
  return best;
}

// ---- time (UTC, epoch milliseconds) ----

const DAY = 86_400_000;
const floorTo = (t: number, unit: number) => t - (((t % unit) + unit) % unit);

function dateTrunc(unit: string, t: number): number {
  switch (unit) {
    case 'second':
      return floorTo(t, 1000);
    case 'minute':
      return floorTo(t, 60_000);
    case 'hour':
      return floorTo(t, 3_600_000);
    case 'day':
      return floorTo(t, DAY);
    case 'week': {
      const days = Math.floor(t / DAY);
      return (days - (((days + 3) % 7) + 7) % 7) * DAY; // 1970-01-01 was a Thursday
    }
    case 'month': {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    case 'year':
      return Date.UTC(new Date(t).getUTCFullYear(), 0, 1);
    default:
      return fail(`date_trunc: unknown unit ${JSON.stringify(unit)}`);
  }
}

const PATTERN_TOKENS = /yyyy|MM|dd|HH|mm|ss|SSS/g;
const FIELD_WIDTH: Record<string, number> = { yyyy: 4, MM: 2, dd: 2, HH: 2, mm: 2, ss: 2, SSS: 3 };

/** A pattern as literal text and field tokens. */
const patternParts = cached((pattern) => {
  const parts: { token?: string; text?: string }[] = [];
  let last = 0;
  for (const m of pattern.matchAll(PATTERN_TOKENS)) {
    if (m.index > last) parts.push({ text: pattern.slice(last, m.index) });
    parts.push({ token: m[0] });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) parts.push({ text: pattern.slice(last) });
  return parts;
});

function formatTimestamp(t: number, pattern?: string): string {
  const d = new Date(t);
  if (pattern === undefined || pattern === null) return d.toISOString();
  const fields: Record<string, number> = {
    yyyy: d.getUTCFullYear(), MM: d.getUTCMonth() + 1, dd: d.getUTCDate(), HH: d.getUTCHours(), mm: d.getUTCMinutes(), ss: d.getUTCSeconds(), SSS: d.getUTCMilliseconds(),
  };
  let out = '';
  for (const p of patternParts(pattern)) out += p.token ? String(fields[p.token]).padStart(FIELD_WIDTH[p.token]!, '0') : p.text;
  return out;
}

const escapeRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

const patternParser = cached((pattern) => {
  const parts = patternParts(pattern);
  const tokens = parts.filter((p) => p.token).map((p) => p.token!);
  const re = new RegExp(`^${parts.map((p) => (p.token ? `(\\d{${FIELD_WIDTH[p.token]}})` : escapeRegex(p.text!))).join('')}$`);
  return (s: string): number => {
    const m = re.exec(s.trim());
    if (!m) return fail(`parse_timestamp: ${JSON.stringify(s)} does not match the pattern ${JSON.stringify(pattern)}`);
    const f: Record<string, number> = { yyyy: 1970, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0, SSS: 0 };
    tokens.forEach((token, i) => (f[token] = Number(m[i + 1])));
    const t = Date.UTC(f.yyyy!, f.MM! - 1, f.dd!, f.HH!, f.mm!, f.ss!, f.SSS!);
    const d = new Date(t);
    if (d.getUTCMonth() !== f.MM! - 1 || d.getUTCDate() !== f.dd! || f.HH! > 23 || f.mm! > 59 || f.ss! > 59) {
      return fail(`parse_timestamp: ${JSON.stringify(s)} is not a valid date and time`);
    }
    return t;
  };
});

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO-8601 → epoch millis; a date and time without a zone is UTC. */
function parseIso(s: string): number {
  const trimmed = s.trim();
  const m = ISO.exec(trimmed);
  if (!m) return fail(`not an ISO-8601 timestamp: ${JSON.stringify(s)}`);
  const withZone = trimmed.length > 10 && !m[1] ? `${trimmed.replace(' ', 'T')}Z` : trimmed.replace(' ', 'T');
  const t = Date.parse(withZone.replace(/\.(\d{3})\d+/, '.$1'));
  return Number.isNaN(t) ? fail(`not a valid timestamp: ${JSON.stringify(s)}`) : t;
}

function parseTimestamp(s: string, pattern?: string): number {
  return pattern === undefined || pattern === null ? parseIso(s) : patternParser(pattern)(s);
}

// ---- hashing ----

const content = (x: string | Uint8Array) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x);
const digest = (algorithm: string) => (x: string | Uint8Array) => createHash(algorithm).update(content(x)).digest('hex');

// ---- uuid ----

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuid(s?: string | null): string | null {
  if (s === undefined) return randomUUID();
  if (s === null) return null;
  return UUID.test(s) ? s.toLowerCase() : fail(`not a UUID: ${JSON.stringify(s)}`);
}

// ---- json ----

/** Runtime values → JSON-ready values: bytes as base64. */
function jsonReady(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(jsonReady);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonReady(x);
    return out;
  }
  return v;
}

const toJson = (v: unknown): string => stringifyJson(jsonReady(v ?? null));

type PathStep = string | number;
const jsonPath = cached((path): PathStep[] => {
  const steps: PathStep[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  if (path[0] !== '$') return fail(`not a JSON path: ${JSON.stringify(path)}`);
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return fail(`not a JSON path: ${JSON.stringify(path)}`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4])!);
  }
  return steps;
});

/** The last parsed document: several json_* calls on one field parse it once. */
let lastText: string | undefined;
let lastDoc: unknown;

function jsonAt(textValue: string, path: string): unknown {
  const steps = jsonPath(path);
  if (textValue !== lastText) {
    try {
      lastDoc = parseJsonValue(textValue);
    } catch {
      lastDoc = undefined;
    }
    lastText = textValue;
  }
  let v = lastDoc;
  for (const step of steps) {
    if (v === null || typeof v !== 'object') return undefined;
    v = typeof step === 'number' ? (Array.isArray(v) ? v[step] : undefined) : Array.isArray(v) ? undefined : Object.hasOwn(v, step) ? (v as Record<string, unknown>)[step] : undefined;
  }
  return v;
}

function jsonString(t: string, path: string): string | null {
  const v = jsonAt(t, path);
  return v === undefined || v === null ? null : typeof v === 'string' ? v : stringifyJson(v);
}

function jsonLong(t: string, path: string): number | bigint | null {
  const v = jsonAt(t, path);
  const n = typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'bigint' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : undefined;
  return n === undefined ? null : (longValue(n) ?? null);
}

function jsonDouble(t: string, path: string): number | null {
  const v = jsonAt(t, path);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function jsonBoolean(t: string, path: string): boolean | null {
  const v = jsonAt(t, path);
  if (typeof v === 'boolean') return v;
  return v === 'true' ? true : v === 'false' ? false : null;
}

// ---- equality (null-aware, deep for bytes, arrays, records and maps) ----

function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => eq(x, b[i]));
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && eq((a as any)[k], (b as any)[k]));
}

// ---- casts (by runtime value; codegen lowers casts whose meaning depends on the static type) ----

const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Decimal notation only: Number() would also take `0x10`, `0b1` and `0o7`. */
const DECIMAL_NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$|^\s*(?:NaN|[+-]?Infinity)\s*$/;

function parseNumber(s: string): number {
  return DECIMAL_NUMBER.test(s) ? Number(s) : fail(`not a number: ${JSON.stringify(s)}`);
}

/** A long as it is at run time: a number while it is a safe integer, else a bigint; past 64 bits an overflow. */
function long(n: bigint, from: unknown): number | bigint {
  return longValue(n) ?? fail(`long overflow: ${String(from)}`);
}

/** An int or long, truncated toward zero; outside the type's range is an overflow, not a wrap-around. */
function toInteger(x: unknown, bits: 32 | 64): number | bigint {
  let n: number | bigint;
  if (typeof x === 'boolean') n = x ? 1 : 0;
  else if (typeof x === 'string') n = INTEGER.test(x) ? long(BigInt(x.trim()), x) : fail(`not an integer: ${JSON.stringify(x)}`);
  else if (typeof x === 'bigint') n = long(x, x);
  else {
    const t = Math.trunc(x as number) + 0;
    n = Number.isSafeInteger(t) ? t : Number.isFinite(t) ? long(BigInt(t), x) : fail(`long overflow: ${String(x)}`);
  }
  if (bits === 32 && (typeof n === 'bigint' || (n | 0) !== n)) fail(`int overflow: ${String(x)}`);
  return n;
}

/** |x| of a long (|-2^63| is an overflow) or a decimal (past 15 digits its text, plan/decimal.ts). */
function abs(x: number | bigint | string): number | bigint | string {
  if (typeof x === 'number') return Math.abs(x);
  if (typeof x === 'string') return x.startsWith('-') ? x.slice(1) : x;
  return long(x < 0n ? -x : x, x);
}

function toBoolean(x: unknown): boolean {
  if (typeof x === 'boolean') return x;
  if (typeof x === 'number') return x !== 0;
  const t = String(x).trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : fail(`not a boolean: ${JSON.stringify(x)}`);
}

function castToString(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return Buffer.from(x).toString('utf8');
  if (typeof x === 'object') return toJson(x);
  return String(x);
}

function toDate(x: unknown): number {
  if (typeof x === 'number') return x;
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(String(x));
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || new Date(t).getUTCDate() !== Number(m[3])) return fail(`not a date (YYYY-MM-DD): ${JSON.stringify(x)}`);
  return t / DAY;
}

/** Exactly the functions of src/check/functions.ts. */
export const libraryFunctions: Record<string, Fn> = {
  // strings
  upper: strict1((s: string) => s.toUpperCase()),
  lower: strict1((s: string) => s.toLowerCase()),
  trim: strict1((s: string) => s.trim()),
  ltrim: strict1((s: string) => s.trimStart()),
  rtrim: strict1((s: string) => s.trimEnd()),
  length: strict1((s: string) => chars(s).length),
  substring: strict3(substring),
  replace: strict3((s: string, search: string, replacement: string) => (search === '' ? s : s.replaceAll(search, () => replacement))),
  split: strict2((s: string, sep: string) => s.split(sep)),
  starts_with: strict2((s: string, prefix: string) => s.startsWith(prefix)),
  ends_with: strict2((s: string, suffix: string) => s.endsWith(suffix)),
  contains: strict2((s: string, search: string) => s.includes(search)),
  lpad: strict3((s: string, length: number, fill?: string) => pad(s, length, fill ?? ' ', true)),
  rpad: strict3((s: string, length: number, fill?: string) => pad(s, length, fill ?? ' ', false)),
  reverse: strict1((s: string) => [...s].reverse().join('')),
  index_of: strict2(indexOf),
  regexp_extract: strict3(regexpExtract),
  regexp_replace: strict3((s: string, pattern: string, replacement: string) => s.replace(globalRegex(pattern), replacement)),
  concat: (...values: unknown[]) => {
    let out = '';
    for (const v of values) if (v != null) out += text(v);
    return out;
  },
  // math
  abs: strict1(abs),
  round: strict2(round),
  floor: strict1(Math.floor),
  ceil: strict1(Math.ceil),
  sqrt: strict1(Math.sqrt),
  pow: strict2(Math.pow),
  exp: strict1(Math.exp),
  ln: strict1(Math.log),
  log10: strict1(Math.log10),
  sign: strict1((x: number | bigint) => (x > 0 ? 1 : x < 0 ? -1 : 0)),
  least: strictN((args) => pick(args, true)),
  greatest: strictN((args) => pick(args, false)),
  // time
  now: () => Date.now(),
  epoch_millis: strict1((t: number) => t),
  year: strict1((t: number) => new Date(t).getUTCFullYear()),
  month: strict1((t: number) => new Date(t).getUTCMonth() + 1),
  day: strict1((t: number) => new Date(t).getUTCDate()),
  hour: strict1((t: number) => new Date(t).getUTCHours()),
  minute: strict1((t: number) => new Date(t).getUTCMinutes()),
  second: strict1((t: number) => new Date(t).getUTCSeconds()),
  day_of_week: strict1((t: number) => new Date(t).getUTCDay() || 7),
  date_trunc: strict2(dateTrunc),
  format_timestamp: strict2(formatTimestamp),
  parse_timestamp: strict2(parseTimestamp),
  to_date: strict1((t: number) => Math.floor(t / DAY)),
  // hashing
  md5: strict1(digest('md5')),
  sha1: strict1(digest('sha1')),
  sha256: strict1(digest('sha256')),
  murmur2: strict1((x: string | Uint8Array) => murmur2(content(x))),
  crc32: strict1((x: string | Uint8Array) => zlibCrc32(content(x))),
  // uuid
  uuid,
  // json
  to_json: toJson,
  json_string: strict2(jsonString),
  json_long: strict2(jsonLong),
  json_double: strict2(jsonDouble),
  json_boolean: strict2(jsonBoolean),
  // null
  coalesce: (...values: unknown[]) => {
    for (const v of values) if (v != null) return v;
    return null;
  },
  is_null: (x: unknown) => x == null,
  nullif: (x: unknown, y: unknown) => (x == null || eq(x, y) ? null : x),
  // collections
  size: strict1((c: unknown[] | Record<string, unknown>) => (Array.isArray(c) ? c.length : Object.keys(c).length)),
  array_contains: strict2((a: unknown[], v: unknown) => a.some((x) => eq(x, v))),
  array_join: strict2((a: unknown[], sep: string) => a.filter((x) => x != null).map(text).join(sep)),
  keys: strict1((m: Record<string, unknown>) => Object.keys(m)),
  values: strict1((m: Record<string, unknown>) => Object.values(m)),
  // casts
  boolean: strict1(toBoolean),
  int: strict1((x: unknown) => toInteger(x, 32)),
  long: strict1((x: unknown) => toInteger(x, 64)),
  float: strict1((x: unknown) => Math.fround(typeof x === 'string' ? parseNumber(x) : Number(x))),
  double: strict1((x: unknown) => (typeof x === 'string' ? parseNumber(x) : Number(x))),
  string: strict1(castToString),
  decimal: strict3(toDecimal),
  timestamp: strict1((x: unknown) => (typeof x === 'string' ? parseIso(x) : toInteger(x, 64))),
  date: strict1(toDate),
  bytes: strict1((x: string | Uint8Array) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from(x))),
};

const likeRegex = cached((pattern) => new RegExp(likeToRegex(pattern), LIKE_FLAGS));

/** Helpers generated chains need besides the library. */
export const operatorHelpers: Record<string, Fn> = {
  // `like` and `matches` with a pattern that is not a literal (codegen hoists literal ones); false when either side is null.
  like: (s: string | null, pattern: string | null) => s != null && pattern != null && likeRegex(pattern).test(s),
  matches: (s: string | null, pattern: string | null) => s != null && pattern != null && regex(pattern).test(s),
  // Decimal arithmetic, comparison and conversions, exact to precision 38 (plan/decimal.ts).
  dadd: decimalAdd,
  dsub: decimalSub,
  dmul: decimalMul,
  ddiv: decimalDiv,
  dmod: decimalMod,
  dneg: decimalNeg,
  dcmp: decimalCompare,
  dtext: decimalText,
  dtrunc: decimalTrunc,
  dround: decimalRound,
  dleast: strictN((args: DecimalOperand[]) => args.reduce((a, b) => (decimalCompare(b, a) < 0 ? b : a))),
  dgreatest: strictN((args: DecimalOperand[]) => args.reduce((a, b) => (decimalCompare(b, a) > 0 ? b : a))),
  /** The error a chain throws under `on error fail`. */
  fail: (message: string, operator: string, offset: number) => new ChainFailure(message, operator, offset),
};

/** `lib` for generated chains. */
export const stdlib: Record<string, Fn> = { ...libraryFunctions, ...operatorHelpers };
