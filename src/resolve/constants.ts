/**
 * Literals → values: the type and the value of a literal expression, shared
 * by field defaults (resolve) and expressions (check). Values follow the
 * runtime representation of avro-type.ts, except that a bytes literal keeps
 * its hex text (a Constant is JSON) and a timestamp is epoch milliseconds.
 */
import type { Span } from '../diagnostics/diagnostic.ts';
import type { Constant } from '../plan/plan.ts';
import type { AvroType } from '../types/avro-type.ts';
import type { Expr, NumberLiteral, TypedLiteral } from '../syntax/ast.ts';
import { decimal, MAX_DECIMAL_PRECISION, T, unifyTypes } from '../types/type-utils.ts';
import { decimalFromText } from '../plan/decimal.ts';

export type Evaluated = { type: AvroType; value: Constant } | { error: string; span: Span };

const INT_MAX = 2 ** 31 - 1;

/**
 * The type of a number literal: `42` int (long when it does not fit), `42L` long, `1.5` double,
 * `1.5f` float, `12.50d` decimal(4,2). `negative` for the literal under a unary minus, so that
 * −2^63 is a long. Values follow the run-time form: a long past 2^53 and a decimal past 15 digits
 * hold their digits as text (a Constant is JSON).
 */
export function numberLiteral(lit: NumberLiteral, negative = false): Evaluated {
  const digits = lit.text.replace(/_/g, '');
  const text = negative ? `-${digits}` : digits;
  const shown = negative ? `-${lit.text}` : lit.text;
  const value = Number(text);
  if (!Number.isFinite(value)) return { error: `${shown} is not a finite number`, span: lit.span };
  switch (lit.suffix) {
    case 'L':
      if (!Number.isInteger(value)) return { error: `${shown}L is not an integer`, span: lit.span };
      return longLiteral(text, value, `${shown}L`, lit.span);
    case 'f':
      return { type: T.float, value: Math.fround(value) };
    case 'd': {
      const m = /^(\d*)(?:\.(\d*))?$/.exec(digits);
      if (!m) return { error: `${shown}d is not a decimal number (digits with an optional fraction)`, span: lit.span };
      const scale = (m[2] ?? '').length;
      const precision = Math.max(1, (m[1] ?? '').replace(/^0+/, '').length + scale);
      if (precision > MAX_DECIMAL_PRECISION) return { error: `${shown}d has ${precision} digits; a decimal has at most ${MAX_DECIMAL_PRECISION}`, span: lit.span };
      return { type: decimal(precision, scale), value: decimalFromText(text)! };
    }
    default:
      if (/^\d+$/.test(digits)) return Number(digits) <= INT_MAX ? { type: T.int, value } : longLiteral(text, value, shown, lit.span);
      return { type: T.double, value };
  }
}

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

function longLiteral(text: string, value: number, shown: string, span: Span): Evaluated {
  if (Number.isSafeInteger(value)) return { type: T.long, value };
  if (!/^-?\d+$/.test(text)) return { error: `${shown} is past 2^53: write a long that large with all its digits`, span };
  const n = BigInt(text);
  if (n < MIN_LONG || n > MAX_LONG) return { error: `${shown} is outside the long range (−2^63 … 2^63−1)`, span };
  return { type: T.long, value: n.toString() };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** `2024-05-01T10:00:00.123456Z` → epoch microseconds. A missing zone means UTC. */
export function parseTimestampMicros(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1, 7).map((x) => x ?? undefined) as string[];
  const days = civilDays(Number(y), Number(mo), Number(d));
  if (days === undefined || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const z = zone.replace(':', '');
    offsetMinutes = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
  }
  const fraction = Number((m[7] ?? '').padEnd(6, '0'));
  const seconds = days * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMinutes * 60;
  return seconds * 1_000_000 + fraction;
}

/** `2024-05-01` → days since the epoch. */
export function parseDateDays(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? civilDays(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

/** `10:00`, `10:00:00`, `10:00:00.250` → microseconds since midnight. */
export function parseTimeMicros(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(text);
  if (!m) return undefined;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return undefined;
  return ((h * 60 + mi) * 60 + s) * 1_000_000 + Number((m[4] ?? '').padEnd(6, '0'));
}

function civilDays(y: number, m: number, d: number): number | undefined {
  const ms = Date.UTC(y, m - 1, d);
  const date = new Date(ms);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return ms / 86_400_000;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function typedLiteral(lit: TypedLiteral): Evaluated {
  const text = lit.value.value;
  const bad = (what: string): Evaluated => ({ error: `"${text}" is not a valid ${lit.type} (${what})`, span: lit.value.span });
  switch (lit.type) {
    case 'timestamp': {
      const micros = parseTimestampMicros(text);
      return micros === undefined ? bad('expected ISO-8601 like 2024-05-01T10:00:00Z') : { type: T.timestampMillis, value: Math.floor(micros / 1000) };
    }
    case 'date': {
      const days = parseDateDays(text);
      return days === undefined ? bad('expected YYYY-MM-DD') : { type: T.date, value: days };
    }
    case 'time': {
      const micros = parseTimeMicros(text);
      return micros === undefined ? bad('expected HH:MM:SS') : { type: T.timeMillis, value: Math.floor(micros / 1000) };
    }
    case 'uuid':
      return UUID_PATTERN.test(text) ? { type: T.uuid, value: text.toLowerCase() } : bad('expected 8-4-4-4-12 hex digits');
    case 'bytes':
      return /^([0-9a-f]{2})*$/i.test(text) ? { type: T.bytes, value: text.toLowerCase() } : bad('expected an even number of hex digits');
  }
}

/**
 * Evaluates a literal expression: numbers, strings, booleans, null, typed
 * literals, durations (a long of milliseconds), negated numbers, and arrays
 * and maps of literals. Undefined when `expr` is not a literal.
 */
export function evalLiteral(expr: Expr): Evaluated | undefined {
  switch (expr.kind) {
    case 'number':
      return numberLiteral(expr);
    case 'string':
      return { type: T.string, value: expr.value };
    case 'boolean':
      return { type: T.boolean, value: expr.value };
    case 'null':
      return { type: T.null, value: null };
    case 'typed':
      return typedLiteral(expr);
    case 'duration':
      return { type: T.long, value: expr.millis };
    case 'unary': {
      if (expr.op !== '-' || expr.operand.kind !== 'number') return undefined;
      return numberLiteral(expr.operand, true);
    }
    case 'array': {
      const items: Constant[] = [];
      let type: AvroType = T.null;
      for (const item of expr.items) {
        const v = evalLiteral(item);
        if (!v || 'error' in v) return v;
        const joined: AvroType | undefined = items.length === 0 ? v.type : unifyTypes(type, v.type);
        if (!joined) return { error: 'the items of this array have different types', span: item.span };
        type = joined;
        items.push(v.value);
      }
      return { type: { kind: 'array', items: type }, value: items };
    }
    case 'map': {
      const value: Record<string, Constant> = {};
      let type: AvroType = T.null;
      for (const [i, e] of expr.entries.entries()) {
        const v = evalLiteral(e.value);
        if (!v || 'error' in v) return v;
        const joined: AvroType | undefined = i === 0 ? v.type : unifyTypes(type, v.type);
        if (!joined) return { error: 'the values of this map have different types', span: e.value.span };
        type = joined;
        value[e.key.value] = v.value;
      }
      return { type: { kind: 'map', values: type }, value };
    }
    default:
      return undefined;
  }
}
