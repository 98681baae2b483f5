// Exact values: longs over all 64 bits through JSON text, Avro and the worker hop; long arithmetic against a
// BigInt reference; and the records that used to end a run (the regressions of the exact-values issue), each
// now an output or a dead letter with its reason, through the real runtime on 2 workers.
import test from 'ava';
import fc from 'fast-check';
import { avroType } from '../../src/formats/avro-codec.ts';
import { fromJson, toJson } from '../../src/formats/json-codec.ts';
import { parseJson, parseJsonValue, stringifyJson } from '../../src/formats/json-text.ts';
import { schemaNode } from '../../src/formats/schema.ts';
import { runOnLines } from './helpers.ts';
import { bin, call, evaluate, field, lit, record, T } from '../codegen/build.ts';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const SAFE = 2n ** 53n - 1n;

/** A long as the runtime holds it: a number while safe, a bigint beyond. */
const runtimeLong = (n: bigint): number | bigint => (n >= -SAFE && n <= SAFE ? Number(n) : n);

const EXTREMES = [MIN, MIN + 1n, MAX, MAX - 1n, -SAFE, SAFE, -SAFE - 1n, SAFE + 1n, SAFE + 2n, -(2n ** 52n) - 1n, 2n ** 52n + 1n, 0n, -1n, 1n];
const longs = fc.oneof(fc.constantFrom(...EXTREMES), fc.bigInt({ min: MIN, max: MAX }), fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }));

const ROW = { type: 'record', name: 'Row', fields: [
  { name: 'id', type: 'long' },
  { name: 'maybe', type: ['null', 'long'] },
  { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } },
  { name: 'ids', type: { type: 'array', items: 'long' } },
] };

test('longs are exact over 64 bits through Avro and JSON text, numbers while safe and bigints beyond', (t) => {
  const type = avroType(ROW);
  const node = schemaNode(ROW);
  fc.assert(fc.property(longs, longs, (a, b) => {
    const value = { id: runtimeLong(a), maybe: runtimeLong(b), at: runtimeLong(a), ids: [runtimeLong(b), runtimeLong(a)] };
    const fromAvro = type.fromBuffer(type.toBuffer(value));
    const text = stringifyJson(toJson(node, { ...value, at: runtimeLong(b) }));
    const fromText = fromJson(node, parseJson(text)) as Record<string, unknown>;
    return fc.stringify(fromAvro) === fc.stringify(value) && fromText.id === value.id && fromText.at === runtimeLong(b) && fc.stringify(fromText.ids) === fc.stringify(value.ids);
  }), { numRuns: 500 });
  t.is(type.fromBuffer(type.toBuffer({ id: MAX, maybe: null, at: MIN, ids: [] })).id, MAX);
  t.false(type.isValid({ id: MAX + 1n, maybe: null, at: 0, ids: [] }), 'past 64 bits is no long');
  t.is(stringifyJson({ id: MAX, n: 1.5 }), '{"id":9223372036854775807,"n":1.5}', 'bigints are plain JSON numbers');
  t.deepEqual(parseJsonValue('{"id":-9223372036854775808,"n":1.5}'), { id: MIN, n: 1.5 });
});

test('a JSON long outside 64 bits, or not integral, is an error naming the field', (t) => {
  const node = schemaNode(ROW);
  const read = (id: string) => () => fromJson(node, parseJson(`{"id": ${id}, "maybe": null, "at": 0, "ids": []}`));
  t.throws(read('9223372036854775808'), { message: 'id: expected a long (−2^63 … 2^63−1), got 9223372036854775808' });
  t.throws(read('1.5'), { message: /^id: expected a long/ });
  t.is((read('1e18')() as { id: unknown }).id, 10n ** 18n, 'an exact double past 2^53');
});

const LONG_ROW = record('L', { a: T.long, b: T.long });
const OPS = ['+', '-', '*', '/', '%'] as const;

function reference(op: (typeof OPS)[number], a: bigint, b: bigint): bigint | string {
  if ((op === '/' || op === '%') && b === 0n) return 'division by zero';
  const r = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
  return r < MIN || r > MAX ? 'long overflow' : r;
}

test('long arithmetic agrees with a BigInt reference, overflow past 64 bits included', (t) => {
  let checked = 0;
  fc.assert(fc.property(fc.constantFrom(...OPS), longs, longs, (op, a, b) => {
    const expected = reference(op, a, b);
    let got: unknown;
    try {
      got = evaluate(bin(op, field('a', T.long), field('b', T.long), T.long), LONG_ROW, { a: runtimeLong(a), b: runtimeLong(b) });
    } catch (e) {
      got = (e as Error).message.replace(/: .*$/, '');
    }
    checked++;
    return typeof expected === 'string' ? got === expected : got === runtimeLong(expected);
  }), { numRuns: 1000 });
  t.is(checked, 1000);
  t.is(evaluate(bin('<', field('a', T.long), field('b', T.long), T.boolean), LONG_ROW, { a: SAFE + 2n, b: Number(SAFE) }), false, 'numbers and bigints compare by value');
  t.is(evaluate(bin('==', field('a', T.long), lit(9007199254740991, T.long), T.boolean), LONG_ROW, { a: Number(SAFE), b: 0 }), true);
});

/** Runs the pipeline on 2 workers over JSON lines; returns the output records and the dead letters. */
async function run(text: string, lines: string[]): Promise<{ out: Record<string, unknown>[]; letters: { reason: string; value: unknown }[] }> {
  const { out, letters } = await runOnLines(text, lines);
  return { out: out.map((l) => parseJsonValue(l) as Record<string, unknown>), letters: letters.map((l) => parseJsonValue(l) as { reason: string; value: unknown }) };
}

test('longs past 2^52 keep their sign and digits through the workers; a safe 2^53−1 no longer ends the run', async (t) => {
  const { out, letters } = await run(`pipeline longs
schema R { id: long, t: timestamp_micros }
source r: R from file { path: IN, partitions: 2 }
stream s = r | select { id, t, next: id + 1, t_text: string(t) }
sink s to file { path: OUT }
dead letter to file { path: DEAD }
`, [
    '{"id": -4503599627370497, "t": -4503599627370497}',
    '{"id": 9007199254740991, "t": -9007199254740993}',
    '{"id": 9223372036854775806, "t": 0}',
    '{"id": 9223372036854775807, "t": 0}',
  ]);
  // As text: JSON readers other than ours would round these.
  const byId = new Map(out.map((r) => [String(r.id), { next: String(r.next), t: r.t, t_text: r.t_text }]));
  t.deepEqual(byId.get('-4503599627370497'), { next: '-4503599627370496', t: '1827-04-16T00:06:12.629503Z', t_text: '1827-04-16T00:06:12.629503Z' });
  t.like(byId.get('9007199254740991'), { next: '9007199254740992', t: '1684-07-28T00:12:25.259007Z', t_text: '1684-07-28T00:12:25.259007Z' });
  t.like(byId.get('9223372036854775806'), { next: '9223372036854775807' });
  t.is(out.length, 3);
  t.is(letters.length, 1);
  t.like(letters[0], { reason: 'long overflow: 9223372036854775808' });
});

test('a value that does not fit its schema is a dead letter naming the field, and the run goes on', async (t) => {
  const { out, letters } = await run(`pipeline fits
schema R { id: int, d: decimal(6, 2) }
source r: R from file { path: IN }
stream s = r | select { id, d, a: abs(id) }
sink s to file { path: OUT }
dead letter to file { path: DEAD }
`, [
    '{"id": 1, "d": 123456}',
    '{"id": 2, "d": 1.234}',
    '{"id": 3, "d": 1234.5}',
    '{"id": -2147483648, "d": 1}',
  ]);
  t.deepEqual(out, [{ id: 3, d: 1234.5, a: 3 }]);
  t.deepEqual(letters.map((l) => l.reason.replace(/^.*in\.jsonl:\d+: /, '')).sort(), [
    'd: 1.234 has 3 decimal places, more than decimal(6, 2) keeps',
    'd: 123456 does not fit decimal(6, 2) (6 digits before the point, at most 4)',
    'int overflow: 2147483648',
  ]);
});

test('fields named __proto__, constructor and toString work end to end', async (t) => {
  const { out, letters } = await run(`pipeline protos
schema R { __proto__: string, constructor: string, toString: string, tags: map<string> }
source r: R from file { path: IN, partitions: 2 }
stream s = r | select { __proto__, constructor, toString, tags, again: __proto__ + "!" }
sink s to file { path: OUT }
dead letter to file { path: DEAD }
`, ['{"__proto__": "p", "constructor": "c", "toString": "s", "tags": {"__proto__": "x"}}']);
  t.deepEqual(letters, []);
  t.is(out.length, 1);
  t.deepEqual(Object.entries(out[0]!), [['__proto__', 'p'], ['constructor', 'c'], ['toString', 's'], ['tags', { ['__proto__']: 'x' }], ['again', 'p!']]);
  t.is(Object.getPrototypeOf(out[0]), Object.prototype);
});

test('the difference of two timestamps is in milliseconds at either precision', async (t) => {
  const { out, letters } = await run(`pipeline gaps
schema R { start: timestamp_micros, stop: timestamp_micros, a: timestamp_millis, b: timestamp_millis }
source r: R from file { path: IN }
stream s = r | select { micros_gap: stop - start, millis_gap: b - a, over_2s: stop - start > 2s, over_1s: stop - start > 1s }
sink s to file { path: OUT }
dead letter to file { path: DEAD }
`, ['{"start": "2024-05-01T10:00:00.000000Z", "stop": "2024-05-01T10:00:01.500250Z", "a": "2024-05-01T10:00:00.000Z", "b": "2024-05-01T10:00:01.500Z"}']);
  t.deepEqual(letters, []);
  t.deepEqual(out, [{ micros_gap: 1500, millis_gap: 1500, over_2s: false, over_1s: true }]);
});

test('Avro decimals whose bytes hold more digits than their precision are errors, not wrong numbers', (t) => {
  const bytes = avroType('bytes');
  const unscaled = (n: bigint) => {
    const hex = BigInt.asUintN(136, n).toString(16).padStart(34, '0');
    return bytes.toBuffer(Buffer.from(hex, 'hex'));
  };
  const narrow = avroType({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 });
  t.is(narrow.fromBuffer(unscaled(9999n)), 99.99);
  t.throws(() => narrow.fromBuffer(unscaled(10000n)), { message: 'a decimal with unscaled value 10000 does not fit decimal(4, 2)' });
  const wide = avroType({ type: 'bytes', logicalType: 'decimal', precision: 38, scale: 2 });
  t.notThrows(() => wide.fromBuffer(unscaled(10n ** 38n - 1n)), 'the widest value of decimal(38, 2) fits');
  t.throws(() => wide.fromBuffer(unscaled(-(10n ** 38n))), { message: /does not fit decimal\(38, 2\)/ });
});

test('time functions and casts of timestamp_micros before 1685 and after 2255 (bigints) are exact', (t) => {
  const schema = record('M', { t: T.timestampMicros });
  const millis = call('timestamp', [field('t', T.timestampMicros)], T.timestampMillis);
  // 1600-03-01T12:34:56.789012Z and 2300-12-31T23:59:59.999999Z in microseconds, past ±2^53.
  const early = BigInt(Date.UTC(1600, 2, 1, 12, 34, 56, 789)) * 1000n + 12n;
  const late = BigInt(Date.UTC(2300, 11, 31, 23, 59, 59, 999)) * 1000n + 999n;
  t.is(evaluate(call('year', [millis], T.int), schema, { t: early }), 1600);
  t.is(evaluate(call('month', [millis], T.int), schema, { t: early }), 3);
  t.is(evaluate(millis, schema, { t: early }), Date.UTC(1600, 2, 1, 12, 34, 56, 789));
  t.is(evaluate(call('year', [millis], T.int), schema, { t: late }), 2300);
  t.is(evaluate(call('date', [field('t', T.timestampMicros)], T.date), schema, { t: early }), Date.UTC(1600, 2, 1) / 86_400_000);
  t.is(evaluate(call('string', [field('t', T.timestampMicros)], T.string), schema, { t: -early }), '2339-11-02T11:25:03.210988Z');
});
