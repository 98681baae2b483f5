/**
 * The function library: every function an expression may call, with its
 * parameters, result-type rule, null rule, documentation and examples. The
 * type checker reads the signatures; `runtime/stdlib.ts` implements exactly
 * these names; `docs/functions.md` is generated from this file
 * (`npx tsx scripts/gen-functions-doc.ts`).
 *
 * Null rules. A `strict` function returns null when any argument is null,
 * so its result is nullable when any argument is (or when `mayReturnNull`).
 * A `null-aware` function looks at nulls itself and its `result` rule says
 * when the result is nullable.
 *
 * Time functions work on timestamp_millis at run time: the checker converts
 * a date (midnight UTC) or a timestamp_micros argument with `timestamp(x)`.
 */
import type { AvroType } from '../types/avro-type.ts';
import {
  decimal, isIntegral, isNullable, isNumeric, isStringLike, isTimestamp, MAX_DECIMAL_PRECISION, nonNull, nullable, T, typeToString,
  unifyTypes,
} from '../types/type-utils.ts';
import type { Constant } from './typed.ts';

export type Category = 'string' | 'math' | 'time' | 'hash' | 'uuid' | 'json' | 'null' | 'collection' | 'cast';

/** What a parameter accepts (the argument's type without its null branch). */
export type ParamType =
  | 'any'
  /** string, uuid or enum */
  | 'text'
  /** text, a number or a boolean: values with an obvious text form */
  | 'printable'
  | 'numeric'
  | 'integer'
  | 'boolean'
  /** timestamp_millis; date and timestamp_micros are converted */
  | 'timestamp'
  /** string, uuid, bytes or fixed: hashable content */
  | 'binary'
  | 'array'
  | 'map'
  | 'collection';

export interface ParamSpec {
  name: string;
  type: ParamType;
  optional?: boolean;
  /** Takes any number (at least one) of arguments. */
  variadic?: boolean;
  /** The argument must be a literal, checked when compiling. */
  literal?: 'regex' | 'json-path' | 'time-unit' | 'int';
}

export interface Argument {
  /** The argument's type without its null branch. */
  type: AvroType;
  /** The argument's full type. */
  declared: AvroType;
  /** The value of a literal argument. */
  literal?: Constant;
}

export interface FunctionExample {
  /** Arguments in the runtime representation. */
  args: unknown[];
  result: unknown;
  /** How the call is written, when the literals are not plain JSON (`year(timestamp "…")`). */
  text?: string;
}

export interface FunctionSpec {
  name: string;
  category: Category;
  params: ParamSpec[];
  /** The result type as docs show it. */
  returns: string;
  nulls: 'strict' | 'null-aware';
  /** A strict function that may return null for non-null arguments. */
  mayReturnNull?: boolean;
  /** The result type from the arguments, or a message when they do not fit together. */
  result(args: Argument[]): AvroType | string;
  /** A `lossy-cast` warning for this conversion, if it may lose precision. */
  lossy?(from: AvroType, to: AvroType): string | undefined;
  doc: string;
  examples: FunctionExample[];
}

export const TIME_UNITS = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'] as const;

/** Whether a (non-null) type fits a parameter type. */
export function acceptsType(p: ParamType, t: AvroType): boolean {
  if (t.kind === 'null') return true;
  switch (p) {
    case 'any':
      return true;
    case 'text':
      return isStringLike(t);
    case 'printable':
      return isStringLike(t) || isNumeric(t) || t.kind === 'boolean';
    case 'numeric':
      return isNumeric(t);
    case 'integer':
      return isIntegral(t);
    case 'boolean':
      return t.kind === 'boolean';
    case 'timestamp':
      return isTimestamp(t) || t.kind === 'date';
    case 'binary':
      return t.kind === 'string' || t.kind === 'uuid' || t.kind === 'bytes' || t.kind === 'fixed';
    case 'array':
      return t.kind === 'array';
    case 'map':
      return t.kind === 'map';
    case 'collection':
      return t.kind === 'array' || t.kind === 'map';
  }
}

export const PARAM_TYPE_TEXT: Record<ParamType, string> = {
  any: 'any type',
  text: 'string',
  printable: 'a string, number or boolean',
  numeric: 'a number',
  integer: 'int or long',
  boolean: 'boolean',
  timestamp: 'a timestamp or date',
  binary: 'string or bytes',
  array: 'an array',
  map: 'a map',
  collection: 'an array or a map',
};

const p = (name: string, type: ParamType, more: Partial<ParamSpec> = {}): ParamSpec => ({ name, type, ...more });
const fixed = (t: AvroType) => () => t;
const sameAsFirst = (args: Argument[]) => args[0]!.type;

type Def = Omit<FunctionSpec, 'nulls' | 'examples'> & { nulls?: FunctionSpec['nulls']; examples?: FunctionExample[] };
const ex = (args: unknown[], result: unknown, text?: string): FunctionExample => (text ? { args, result, text } : { args, result });

function strict(defs: Def[]): FunctionSpec[] {
  return defs.map((d) => ({ nulls: 'strict', examples: [], ...d }));
}

/** The common type of several arguments (least, greatest, coalesce). */
function unifyAll(args: Argument[], full: boolean): AvroType | string {
  let t: AvroType | undefined = full ? args[0]!.declared : args[0]!.type;
  for (const a of args.slice(1)) {
    t = t && unifyTypes(t, full ? a.declared : a.type);
    if (!t) return `the arguments have no common type (${args.map((x) => typeToString(x.declared)).join(', ')})`;
  }
  return t!;
}

const FLOAT_DIGITS = 7;
const DOUBLE_DIGITS = 15;

const STRING_FUNCTIONS = strict([
  { name: 'upper', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string in upper case.', examples: [ex(['Hello'], 'HELLO')] },
  { name: 'lower', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string in lower case.', examples: [ex(['Hello'], 'hello')] },
  { name: 'trim', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string without leading and trailing white space.', examples: [ex(['  a b '], 'a b')] },
  { name: 'ltrim', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string without leading white space.', examples: [ex(['  a '], 'a ')] },
  { name: 'rtrim', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string without trailing white space.', examples: [ex(['  a '], '  a')] },
  { name: 'length', category: 'string', params: [p('s', 'text')], returns: 'int', result: fixed(T.int), doc: 'The number of characters (Unicode code points).', examples: [ex(['héllo'], 5)] },
  {
    name: 'substring', category: 'string', params: [p('s', 'text'), p('start', 'integer'), p('length', 'integer', { optional: true })], returns: 'string',
    result: fixed(T.string), doc: 'The characters from position `start` (1-based; negative counts from the end), at most `length` of them.',
    examples: [ex(['sensei', 2, 3], 'ens'), ex(['sensei', 4], 'sei'), ex(['sensei', -2], 'ei')],
  },
  { name: 'replace', category: 'string', params: [p('s', 'text'), p('search', 'text'), p('replacement', 'text')], returns: 'string', result: fixed(T.string), doc: 'The string with every occurrence of `search` replaced.', examples: [ex(['a-b-c', '-', '+'], 'a+b+c')] },
  { name: 'split', category: 'string', params: [p('s', 'text'), p('separator', 'text')], returns: 'array<string>', result: fixed({ kind: 'array', items: T.string }), doc: 'The parts of the string between separators.', examples: [ex(['a,b,,c', ','], ['a', 'b', '', 'c'])] },
  { name: 'starts_with', category: 'string', params: [p('s', 'text'), p('prefix', 'text')], returns: 'boolean', result: fixed(T.boolean), doc: 'Whether the string starts with `prefix`.', examples: [ex(['sensei', 'sen'], true)] },
  { name: 'ends_with', category: 'string', params: [p('s', 'text'), p('suffix', 'text')], returns: 'boolean', result: fixed(T.boolean), doc: 'Whether the string ends with `suffix`.', examples: [ex(['sensei', 'sen'], false)] },
  { name: 'contains', category: 'string', params: [p('s', 'text'), p('search', 'text')], returns: 'boolean', result: fixed(T.boolean), doc: 'Whether `search` occurs in the string.', examples: [ex(['sensei', 'ns'], true)] },
  {
    name: 'lpad', category: 'string', params: [p('s', 'text'), p('length', 'integer'), p('fill', 'text', { optional: true })], returns: 'string', result: fixed(T.string),
    doc: 'The string padded on the left with `fill` (default a space) to `length` characters; longer strings are cut to `length`.', examples: [ex(['7', 3, '0'], '007'), ex(['abcd', 2], 'ab')],
  },
  {
    name: 'rpad', category: 'string', params: [p('s', 'text'), p('length', 'integer'), p('fill', 'text', { optional: true })], returns: 'string', result: fixed(T.string),
    doc: 'The string padded on the right with `fill` (default a space) to `length` characters; longer strings are cut to `length`.', examples: [ex(['ab', 4, '.'], 'ab..')],
  },
  { name: 'reverse', category: 'string', params: [p('s', 'text')], returns: 'string', result: fixed(T.string), doc: 'The characters in reverse order.', examples: [ex(['abc'], 'cba')] },
  { name: 'index_of', category: 'string', params: [p('s', 'text'), p('search', 'text')], returns: 'int', result: fixed(T.int), doc: 'The 1-based position of the first `search` in the string, 0 when absent.', examples: [ex(['banana', 'na'], 3), ex(['banana', 'x'], 0)] },
  {
    name: 'regexp_extract', category: 'string', params: [p('s', 'text'), p('pattern', 'text', { literal: 'regex' }), p('group', 'integer', { optional: true })], returns: 'string?', mayReturnNull: true,
    result: fixed(T.string), doc: 'The first match of the regular expression (JavaScript syntax), or its capture `group`; null when it does not match.',
    examples: [ex(['order-123', '\\d+'], '123'), ex(['k=v', '(\\w)=(\\w)', 2], 'v'), ex(['abc', '\\d'], null)],
  },
  {
    name: 'regexp_replace', category: 'string', params: [p('s', 'text'), p('pattern', 'text', { literal: 'regex' }), p('replacement', 'text')], returns: 'string',
    result: fixed(T.string), doc: 'The string with every match of the regular expression replaced; `$1` in `replacement` inserts a capture group.', examples: [ex(['a1b22', '\\d+', '#'], 'a#b#')],
  },
  {
    name: 'concat', category: 'string', params: [p('values', 'printable', { variadic: true })], returns: 'string', nulls: 'null-aware', result: fixed(T.string),
    doc: 'The values as text, joined; null values are skipped (unlike `+`, which gives null).', examples: [ex(['id-', 42, null, true], 'id-42true')],
  },
]);

const MATH_FUNCTIONS = strict([
  { name: 'abs', category: 'math', params: [p('x', 'numeric')], returns: 'type of x', result: sameAsFirst, doc: 'The absolute value; for an int or a long, one past its range (`abs` of −2^31 as an int) is an overflow error.', examples: [ex([-3], 3)] },
  {
    name: 'round', category: 'math', params: [p('x', 'numeric'), p('digits', 'integer', { optional: true })], returns: 'type of x', result: sameAsFirst,
    doc: 'Rounded half away from zero, to `digits` decimal places (default 0; negative digits round to tens, hundreds…). A decimal stays exact and keeps its type; an int or a long is already whole unless `digits` is negative.', examples: [ex([2.5], 3), ex([-2.5], -3), ex([1.23456, 2], 1.23)],
  },
  { name: 'floor', category: 'math', params: [p('x', 'numeric')], returns: 'type of x', result: sameAsFirst, doc: 'The largest integral value not above x.', examples: [ex([-1.5], -2)] },
  { name: 'ceil', category: 'math', params: [p('x', 'numeric')], returns: 'type of x', result: sameAsFirst, doc: 'The smallest integral value not below x.', examples: [ex([1.2], 2)] },
  { name: 'sqrt', category: 'math', params: [p('x', 'numeric')], returns: 'double', result: fixed(T.double), doc: 'The square root (NaN for negative x).', examples: [ex([9], 3)] },
  { name: 'pow', category: 'math', params: [p('x', 'numeric'), p('y', 'numeric')], returns: 'double', result: fixed(T.double), doc: 'x to the power y.', examples: [ex([2, 10], 1024)] },
  { name: 'exp', category: 'math', params: [p('x', 'numeric')], returns: 'double', result: fixed(T.double), doc: 'e to the power x.', examples: [ex([0], 1)] },
  { name: 'ln', category: 'math', params: [p('x', 'numeric')], returns: 'double', result: fixed(T.double), doc: 'The natural logarithm.', examples: [ex([1], 0)] },
  { name: 'log10', category: 'math', params: [p('x', 'numeric')], returns: 'double', result: fixed(T.double), doc: 'The base-10 logarithm.', examples: [ex([1000], 3)] },
  { name: 'sign', category: 'math', params: [p('x', 'numeric')], returns: 'int', result: fixed(T.int), doc: '-1, 0 or 1 by the sign of x.', examples: [ex([-0.5], -1)] },
  {
    name: 'least', category: 'math', params: [p('values', 'any', { variadic: true })], returns: 'common type', result: (args) => orderable(args),
    doc: 'The smallest argument (numbers, strings or timestamps); null when any is null.', examples: [ex([3, 1, 2], 1)],
  },
  {
    name: 'greatest', category: 'math', params: [p('values', 'any', { variadic: true })], returns: 'common type', result: (args) => orderable(args),
    doc: 'The largest argument (numbers, strings or timestamps); null when any is null.', examples: [ex(['a', 'c', 'b'], 'c')],
  },
]);

function orderable(args: Argument[]): AvroType | string {
  const t = unifyAll(args, false);
  if (typeof t === 'string') return t;
  const k = t.kind;
  if (isNumeric(t) || k === 'string' || k === 'date' || isTimestamp(t) || k === 'time-millis' || k === 'time-micros') return t;
  return `${typeToString(t)} values cannot be ordered`;
}

const TS = '1714557600000';
const TIME_FUNCTIONS = strict([
  { name: 'now', category: 'time', params: [], returns: 'timestamp_millis', result: fixed(T.timestampMillis), doc: 'The current wall-clock time when the record is processed.' },
  { name: 'epoch_millis', category: 'time', params: [p('t', 'timestamp')], returns: 'long', result: fixed(T.long), doc: 'Milliseconds since 1970-01-01T00:00:00Z.', examples: [ex([1714557600000], 1714557600000, 'epoch_millis(timestamp "2024-05-01T10:00:00Z")')] },
  { name: 'year', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The year (UTC).', examples: [ex([1714557600000], 2024, 'year(timestamp "2024-05-01T10:00:00Z")')] },
  { name: 'month', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The month, 1-12 (UTC).', examples: [ex([1714557600000], 5, 'month(timestamp "2024-05-01T10:00:00Z")')] },
  { name: 'day', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The day of the month, 1-31 (UTC).', examples: [ex([1714557600000], 1, 'day(timestamp "2024-05-01T10:00:00Z")')] },
  { name: 'hour', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The hour, 0-23 (UTC).', examples: [ex([1714557600000], 10, 'hour(timestamp "2024-05-01T10:00:00Z")')] },
  { name: 'minute', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The minute, 0-59.', examples: [ex([1714557600000 + 5 * 60000], 5, 'minute(timestamp "2024-05-01T10:05:00Z")')] },
  { name: 'second', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The second, 0-59.', examples: [ex([1714557600000 + 7000], 7, 'second(timestamp "2024-05-01T10:00:07Z")')] },
  { name: 'day_of_week', category: 'time', params: [p('t', 'timestamp')], returns: 'int', result: fixed(T.int), doc: 'The ISO day of the week: 1 = Monday … 7 = Sunday (UTC).', examples: [ex([1714557600000], 3, 'day_of_week(timestamp "2024-05-01T10:00:00Z")')] },
  {
    name: 'date_trunc', category: 'time', params: [p('unit', 'text', { literal: 'time-unit' }), p('t', 'timestamp')], returns: 'timestamp_millis', result: fixed(T.timestampMillis),
    doc: `The timestamp truncated to the start of its ${TIME_UNITS.join(', ')} (weeks start on Monday; UTC).`,
    examples: [ex(['hour', 1714557600000 + 25 * 60000], 1714557600000, 'date_trunc("hour", timestamp "2024-05-01T10:25:00Z")')],
  },
  {
    name: 'format_timestamp', category: 'time', params: [p('t', 'timestamp'), p('pattern', 'text', { optional: true })], returns: 'string', result: fixed(T.string),
    doc: 'The timestamp as text (UTC): ISO-8601 by default, or a pattern of `yyyy MM dd HH mm ss SSS` and literal characters.',
    examples: [ex([1714557600000], '2024-05-01T10:00:00.000Z', `format_timestamp(timestamp "2024-05-01T10:00:00Z")`), ex([1714557600000, 'yyyy/MM/dd HH:mm'], '2024/05/01 10:00', `format_timestamp(timestamp "2024-05-01T10:00:00Z", "yyyy/MM/dd HH:mm")`)],
  },
  {
    name: 'parse_timestamp', category: 'time', params: [p('s', 'text'), p('pattern', 'text', { optional: true })], returns: 'timestamp_millis', result: fixed(T.timestampMillis),
    doc: 'Text to a timestamp: ISO-8601 by default (UTC when no zone is given), or a pattern as in `format_timestamp`. Malformed text is an error (the record goes to the error policy).',
    examples: [ex(['2024-05-01T10:00:00Z'], Number(TS)), ex(['01.05.2024 10:00', 'dd.MM.yyyy HH:mm'], Number(TS))],
  },
  { name: 'to_date', category: 'time', params: [p('t', 'timestamp')], returns: 'date', result: fixed(T.date), doc: 'The calendar date (UTC) of the timestamp.', examples: [ex([1714557600000], 19844, 'to_date(timestamp "2024-05-01T10:00:00Z")')] },
]);

const HASH_FUNCTIONS = strict([
  { name: 'md5', category: 'hash', params: [p('x', 'binary')], returns: 'string', result: fixed(T.string), doc: 'The MD5 digest as lower-case hex (strings hash as UTF-8).', examples: [ex(['abc'], '900150983cd24fb0d6963f7d28e17f72')] },
  { name: 'sha1', category: 'hash', params: [p('x', 'binary')], returns: 'string', result: fixed(T.string), doc: 'The SHA-1 digest as lower-case hex.', examples: [ex(['abc'], 'a9993e364706816aba3e25717850c26c9cd0d89d')] },
  { name: 'sha256', category: 'hash', params: [p('x', 'binary')], returns: 'string', result: fixed(T.string), doc: 'The SHA-256 digest as lower-case hex.', examples: [ex(['abc'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')] },
  { name: 'murmur2', category: 'hash', params: [p('x', 'binary')], returns: 'int', result: fixed(T.int), doc: "Kafka's murmur2 hash (signed 32-bit), as its default partitioner computes it.", examples: [ex(['21'], -973932308)] },
  { name: 'crc32', category: 'hash', params: [p('x', 'binary')], returns: 'long', result: fixed(T.long), doc: 'The CRC-32 checksum (unsigned).', examples: [ex(['abc'], 891568578)] },
]);

const UUID_FUNCTIONS = strict([
  {
    name: 'uuid', category: 'uuid', params: [p('s', 'text', { optional: true })], returns: 'uuid', result: fixed(T.uuid),
    doc: 'Without an argument, a new random (version 4) UUID; with a string, that string checked and lower-cased as a UUID.',
    examples: [ex(['9F6B0B3E-7D1C-4C25-9D7A-0E4F3C2B1A00'], '9f6b0b3e-7d1c-4c25-9d7a-0e4f3c2b1a00')],
  },
]);

const JSON_FUNCTIONS: FunctionSpec[] = [
  {
    name: 'to_json', category: 'json', params: [p('x', 'any')], returns: 'string', nulls: 'null-aware', result: fixed(T.string),
    doc: 'The value as JSON text (bytes as base64; null as `null`).', examples: [ex([{ a: [1, 'x'] }], '{"a":[1,"x"]}'), ex([null], 'null')],
  },
  ...strict([
    { name: 'json_string', category: 'json', params: [p('json', 'text'), p('path', 'text', { literal: 'json-path' })], returns: 'string?', mayReturnNull: true, result: fixed(T.string), doc: 'The value at a path like `$.a.b[0]` in JSON text: strings as they are, other values as JSON text; null when absent or when the text is not JSON.', examples: [ex(['{"a":{"b":"x"}}', '$.a.b'], 'x'), ex(['{"a":[1,2]}', '$.a'], '[1,2]')] },
    { name: 'json_long', category: 'json', params: [p('json', 'text'), p('path', 'text', { literal: 'json-path' })], returns: 'long?', mayReturnNull: true, result: fixed(T.long), doc: 'The integer at a path in JSON text (numeric strings too); null when absent or not an integer.', examples: [ex(['{"n":[5,6]}', '$.n[1]'], 6), ex(['{"n":"7"}', '$.n'], 7)] },
    { name: 'json_double', category: 'json', params: [p('json', 'text'), p('path', 'text', { literal: 'json-path' })], returns: 'double?', mayReturnNull: true, result: fixed(T.double), doc: 'The number at a path in JSON text (numeric strings too); null when absent or not a number.', examples: [ex(['{"p":1.5}', '$.p'], 1.5)] },
    { name: 'json_boolean', category: 'json', params: [p('json', 'text'), p('path', 'text', { literal: 'json-path' })], returns: 'boolean?', mayReturnNull: true, result: fixed(T.boolean), doc: 'The boolean at a path in JSON text ("true"/"false" strings too); null otherwise.', examples: [ex(['{"ok":true}', "$['ok']"], true)] },
  ]),
];

const NULL_FUNCTIONS: FunctionSpec[] = [
  {
    name: 'coalesce', category: 'null', params: [p('values', 'any', { variadic: true })], returns: 'common type', nulls: 'null-aware',
    result: (args) => {
      const t = unifyAll(args, true);
      if (typeof t === 'string') return t;
      return args.every((a) => isNullable(a.declared)) ? nullable(t) : nonNull(t);
    },
    doc: 'The first argument that is not null; nullable only when every argument is.', examples: [ex([null, 'b', 'c'], 'b')],
  },
  { name: 'is_null', category: 'null', params: [p('x', 'any')], returns: 'boolean', nulls: 'null-aware', result: fixed(T.boolean), doc: 'Whether the value is null.', examples: [ex([null], true), ex([0], false)] },
  {
    name: 'nullif', category: 'null', params: [p('x', 'any'), p('y', 'any')], returns: 'type of x, nullable', nulls: 'null-aware',
    result: (args) => (unifyTypes(args[0]!.type, args[1]!.type) ? nullable(args[0]!.declared) : `cannot compare ${typeToString(args[0]!.type)} with ${typeToString(args[1]!.type)}`),
    doc: 'Null when x equals y, otherwise x.', examples: [ex(['', ''], null), ex(['a', ''], 'a')],
  },
];

const COLLECTION_FUNCTIONS = strict([
  { name: 'size', category: 'collection', params: [p('c', 'collection')], returns: 'int', result: fixed(T.int), doc: 'The number of items of an array or entries of a map.', examples: [ex([[1, 2, 3]], 3)] },
  {
    name: 'array_contains', category: 'collection', params: [p('a', 'array'), p('value', 'any')], returns: 'boolean',
    result: (args) => {
      const items = (args[0]!.type as { items: AvroType }).items;
      return unifyTypes(items, args[1]!.type) ? T.boolean : `cannot look for ${typeToString(args[1]!.type)} in ${typeToString(args[0]!.type)}`;
    },
    doc: 'Whether the array has an item equal to `value`.', examples: [ex([['a', 'b'], 'b'], true)],
  },
  {
    name: 'array_join', category: 'collection', params: [p('a', 'array'), p('separator', 'text')], returns: 'string',
    result: (args) => {
      const items = nonNull((args[0]!.type as { items: AvroType }).items);
      return acceptsType('printable', items) ? T.string : `array_join needs an array of strings, numbers or booleans, not ${typeToString(args[0]!.type)}`;
    },
    doc: 'The items as text joined by `separator`; null items are skipped.', examples: [ex([['a', null, 'c'], '/'], 'a/c')],
  },
  { name: 'keys', category: 'collection', params: [p('m', 'map')], returns: 'array<string>', result: fixed({ kind: 'array', items: T.string }), doc: 'The keys of a map.', examples: [ex([{ a: 1, b: 2 }], ['a', 'b'])] },
  { name: 'values', category: 'collection', params: [p('m', 'map')], returns: 'array<T>', result: (args) => ({ kind: 'array', items: (args[0]!.type as { values: AvroType }).values }), doc: 'The values of a map.', examples: [ex([{ a: 1, b: 2 }], [1, 2])] },
]);

/** The allowed source types of a cast, as a predicate and a phrase for messages. */
function castFrom(name: string, ok: (t: AvroType) => boolean, phrase: string, to: (args: Argument[]) => AvroType) {
  return (args: Argument[]): AvroType | string => (ok(args[0]!.type) ? to(args) : `cannot convert ${typeToString(args[0]!.declared)} to ${name}; ${name}() takes ${phrase}`);
}

const digits = (t: AvroType): number | undefined =>
  t.kind === 'int' ? 10 : t.kind === 'long' ? 19 : t.kind === 'double' ? DOUBLE_DIGITS : t.kind === 'decimal' ? t.precision : undefined;

const CAST_FUNCTIONS = strict([
  {
    name: 'boolean', category: 'cast', params: [p('x', 'any')], returns: 'boolean',
    result: castFrom('boolean', (t) => t.kind === 'boolean' || t.kind === 'string' || isNumeric(t), 'a string ("true"/"false") or a number', fixed(T.boolean)),
    doc: 'Converts "true"/"false" (any case) or a number (non-zero is true); other text is an error.', examples: [ex(['TRUE'], true), ex([0], false)],
  },
  {
    name: 'int', category: 'cast', params: [p('x', 'any')], returns: 'int',
    result: castFrom('int', (t) => isNumeric(t) || t.kind === 'string' || t.kind === 'boolean' || t.kind === 'date' || t.kind === 'time-millis', 'a number, string, boolean, date or time_millis', fixed(T.int)),
    doc: 'Converts to a 32-bit integer, truncating fractions toward zero; out of range or non-numeric text is an error.', examples: [ex([-2.7], -2), ex(['42'], 42)],
  },
  {
    name: 'long', category: 'cast', params: [p('x', 'any')], returns: 'long',
    result: castFrom('long', (t) => isNumeric(t) || t.kind === 'string' || t.kind === 'boolean' || t.kind === 'date' || t.kind.startsWith('time'), 'a number, string, boolean or a date/time type (its stored number)', fixed(T.long)),
    doc: 'Converts to a long (exact over 64 bits), truncating fractions toward zero; a timestamp gives its epoch value. Text must be decimal digits; other text and values past 64 bits are errors.', examples: [ex([1234.9], 1234), ex(['-5'], -5)],
  },
  {
    name: 'float', category: 'cast', params: [p('x', 'any')], returns: 'float',
    result: castFrom('float', (t) => isNumeric(t) || t.kind === 'string', 'a number or a string', fixed(T.float)),
    lossy: (from) => {
      const d = digits(from);
      return d !== undefined && d > FLOAT_DIGITS ? `float keeps about ${FLOAT_DIGITS} significant digits; ${typeToString(from)} values may have ${d}` : undefined;
    },
    doc: 'Converts to a 32-bit float (about 7 significant digits).', examples: [ex(['0.5'], 0.5)],
  },
  {
    name: 'double', category: 'cast', params: [p('x', 'any')], returns: 'double',
    result: castFrom('double', (t) => isNumeric(t) || t.kind === 'string', 'a number or a string', fixed(T.double)),
    lossy: (from) => (from.kind === 'decimal' && from.precision > DOUBLE_DIGITS ? `double keeps about ${DOUBLE_DIGITS} significant digits; ${typeToString(from)} values may have ${from.precision}` : undefined),
    doc: 'Converts to a double; text in decimal notation (`2.5e3`, `NaN`, `Infinity`), not hexadecimal.', examples: [ex(['2.5e3'], 2500)],
  },
  {
    name: 'string', category: 'cast', params: [p('x', 'any')], returns: 'string', result: fixed(T.string),
    doc: 'Any value as text: numbers as digits, timestamps and dates as ISO-8601, bytes decoded as UTF-8, records, arrays and maps as JSON.', examples: [ex([42], '42'), ex([true], 'true')],
  },
  {
    name: 'decimal', category: 'cast', params: [p('x', 'any'), p('precision', 'integer', { literal: 'int' }), p('scale', 'integer', { literal: 'int' })], returns: 'decimal(precision,scale)',
    result: (args) => {
      const [x, precision, scale] = [args[0]!, args[1]!.literal, args[2]!.literal];
      if (!isNumeric(x.type) && x.type.kind !== 'string') return `cannot convert ${typeToString(x.declared)} to decimal; decimal() takes a number or a string`;
      if (typeof precision !== 'number' || precision < 1 || precision > MAX_DECIMAL_PRECISION) return `the precision must be from 1 to ${MAX_DECIMAL_PRECISION}`;
      if (typeof scale !== 'number' || scale < 0 || scale > precision) return `the scale must be from 0 to the precision (${precision})`;
      return decimal(precision, scale);
    },
    doc: 'Converts to a decimal (exact to precision 38), rounding half away from zero to `scale` digits: a double by its shortest decimal text, so `decimal(1.005, 3, 2)` is 1.01; text in decimal notation only. More than `precision` digits is an error.', examples: [ex([12.345, 5, 2], 12.35, 'decimal(12.345, 5, 2)')],
  },
  {
    name: 'timestamp', category: 'cast', params: [p('x', 'any')], returns: 'timestamp_millis',
    result: castFrom('timestamp', (t) => isIntegral(t) || t.kind === 'string' || t.kind === 'date' || isTimestamp(t), 'epoch milliseconds (int or long), ISO-8601 text, a date or a timestamp', fixed(T.timestampMillis)),
    lossy: (from) => (from.kind === 'timestamp-micros' ? 'timestamp_millis drops the microseconds of a timestamp_micros' : undefined),
    doc: 'Converts epoch milliseconds, ISO-8601 text (UTC when no zone), a date (midnight UTC) or a timestamp_micros to a timestamp_millis.', examples: [ex(['2024-05-01T12:00:00+02:00'], Number(TS))],
  },
  {
    name: 'date', category: 'cast', params: [p('x', 'any')], returns: 'date',
    result: castFrom('date', (t) => t.kind === 'int' || t.kind === 'string' || t.kind === 'date' || isTimestamp(t), 'days since 1970 (int), YYYY-MM-DD text or a timestamp', fixed(T.date)),
    doc: 'Converts YYYY-MM-DD text, days since 1970-01-01 or a timestamp (its UTC date) to a date.', examples: [ex(['2024-05-01'], 19844)],
  },
  {
    name: 'bytes', category: 'cast', params: [p('x', 'any')], returns: 'bytes',
    result: castFrom('bytes', (t) => t.kind === 'string' || t.kind === 'bytes' || t.kind === 'fixed', 'a string (encoded as UTF-8) or bytes', fixed(T.bytes)),
    doc: 'Converts a string to its UTF-8 bytes; fixed to bytes.', examples: [ex(['hi'], Buffer.from('hi'), 'bytes("hi")')],
  },
]);

export const FUNCTIONS: readonly FunctionSpec[] = [
  ...STRING_FUNCTIONS, ...MATH_FUNCTIONS, ...TIME_FUNCTIONS, ...HASH_FUNCTIONS, ...UUID_FUNCTIONS,
  ...JSON_FUNCTIONS, ...NULL_FUNCTIONS, ...COLLECTION_FUNCTIONS, ...CAST_FUNCTIONS,
];

export const FUNCTIONS_BY_NAME: ReadonlyMap<string, FunctionSpec> = new Map(FUNCTIONS.map((f) => [f.name, f]));

/** The signature as docs and hover show it: `substring(s: string, start: int, length?: int): string`. */
export function signatureText(f: FunctionSpec): string {
  const params = f.params.map((x) => `${x.variadic ? '...' : ''}${x.name}${x.optional ? '?' : ''}: ${PARAM_TYPE_TEXT[x.type].replace(/^an? /, '')}`);
  return `${f.name}(${params.join(', ')}): ${f.returns}`;
}

/** Checks an argument count: undefined when it fits, else the expected count as text. */
export function arityProblem(f: FunctionSpec, count: number): string | undefined {
  const required = f.params.filter((x) => !x.optional).length;
  const variadic = f.params.some((x) => x.variadic);
  if (variadic) return count >= required ? undefined : `at least ${required}`;
  if (count >= required && count <= f.params.length) return undefined;
  return required === f.params.length ? `${required}` : `${required} to ${f.params.length}`;
}
