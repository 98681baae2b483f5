// Decimals exact to precision 38: random values of decimal(p, s) at and between their limits through Avro and
// JSON text; arithmetic, comparisons and casts of generated chains against a BigInt reference computed here;
// and wide decimals through the real runtime on 2 workers, their digits checked in the output text.
import test from 'ava';
import fc from 'fast-check';
import { avroType } from '../../src/formats/avro-codec.ts';
import { fromJson, toJson } from '../../src/formats/json-codec.ts';
import { parseJson, stringifyJson } from '../../src/formats/json-text.ts';
import { schemaNode } from '../../src/formats/schema.ts';
import { runOnLines } from './helpers.ts';
import { arithmeticType, decimal } from '../../src/types/type-utils.ts';
import type { AvroType } from '../../src/types/avro-type.ts';
import { bin, call, evaluate, field, record, T, unary } from '../codegen/build.ts';

const pow10 = (n: number) => 10n ** BigInt(n);

/** The reference text of unscaled × 10^-scale: plain notation, no trailing fractional zeros. */
function refText(u: bigint, scale: number): string {
  const neg = u < 0n;
  let digits = (neg ? -u : u).toString().padStart(scale + 1, '0');
  let places = scale;
  while (places > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    places--;
  }
  const text = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return neg ? `-${text}` : text;
}

/** The unscaled value at `scale` of a JSON number's text (`-1.5e-30` too); undefined when it has more places. */
function unscaledFromText(text: string, scale: number): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const shift = scale - frac.length + Number(m[4] ?? 0);
  const digits = BigInt(m[2]! + frac);
  const u = shift >= 0 ? digits * pow10(shift) : digits % pow10(-shift) === 0n ? digits / pow10(-shift) : undefined;
  return u === undefined ? undefined : m[1] ? -u : u;
}

/** What the runtime holds for that value: a number up to 15 significant digits, the text beyond. */
function runtimeDecimal(u: bigint, scale: number): number | string {
  const text = refText(u, scale);
  const significant = text.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
  return significant <= 15 ? Number(text) : text;
}

/** An arbitrary decimal(p, s) with its unscaled value, the extremes of the type among them. */
const decimalType = fc.integer({ min: 1, max: 38 }).chain((p) => fc.record({ p: fc.constant(p), s: fc.integer({ min: 0, max: p }) }));
const unscaledOf = (p: number) => {
  const limit = pow10(p) - 1n;
  const common = limit < 10n ** 15n ? limit : 10n ** 15n;
  return fc.oneof(fc.constantFrom(limit, -limit, 0n, 1n, -1n, limit / 2n), fc.bigInt({ min: -limit, max: limit }), fc.bigInt({ min: -common, max: common }));
};
const typedDecimal = decimalType.chain(({ p, s }) => unscaledOf(p).map((u) => ({ p, s, u })));

test('decimal(p, s) values up to precision 38 are exact through Avro bytes, Avro fixed and JSON text', (t) => {
  let checked = 0;
  fc.assert(fc.property(typedDecimal, ({ p, s, u }) => {
    const schema = { type: 'record', name: 'R', fields: [
      { name: 'd', type: { type: 'bytes', logicalType: 'decimal', precision: p, scale: s } },
      { name: 'f', type: { type: 'fixed', name: 'F', size: 16, logicalType: 'decimal', precision: p, scale: s } },
      { name: 'n', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: p, scale: s }] },
    ] };
    const v = runtimeDecimal(u, s);
    const value = { d: v, f: v, n: v };
    const type = avroType(schema);
    const back = type.fromBuffer(type.toBuffer(value)) as typeof value;
    const node = schemaNode(schema);
    const text = stringifyJson(toJson(node, value));
    const read = fromJson(node, parseJson(text, true)) as typeof value;
    checked++;
    // JSON numbers as JSON.stringify writes doubles (1e-36), or all their digits.
    const written = [...text.matchAll(/":([^,}]+)/g)].map((m) => unscaledFromText(m[1]!, s));
    return back.d === v && back.f === v && back.n === v && written.length === 3 && written.every((w) => w === u) && read.d === v && read.n === v;
  }), { numRuns: 1000 });
  t.is(checked, 1000);
});

const OPS = ['+', '-', '*', '/', '%'] as const;
type Op = (typeof OPS)[number];

function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  return (r < 0n ? -r : r) * 2n >= (d < 0n ? -d : d) ? q + ((n < 0n) !== (d < 0n) ? -1n : 1n) : q;
}

/** a op b for a of scale sa and b of scale sb, as the unscaled value at the result's scale: the reference. */
function reference(op: Op, a: bigint, sa: number, b: bigint, sb: number, p: number, s: number): bigint | string {
  if ((op === '/' || op === '%') && b === 0n) return 'division by zero';
  const c = Math.max(sa, sb);
  const [x, y] = [a * pow10(c - sa), b * pow10(c - sb)];
  let exact: bigint;
  let scale: number;
  if (op === '+' || op === '-' || op === '%') [exact, scale] = [op === '+' ? x + y : op === '-' ? x - y : x % y, c];
  else if (op === '*') [exact, scale] = [a * b, sa + sb];
  else {
    const k = s + sb - sa;
    [exact, scale] = [k >= 0 ? divideRounded(a * pow10(k), b) : divideRounded(a, b * pow10(-k)), s];
  }
  const r = scale > s ? divideRounded(exact, pow10(scale - s)) : exact * pow10(s - scale);
  return r >= pow10(p) || r <= -pow10(p) ? `decimal(${p},${s}) overflow` : r;
}

const operand = fc.oneof(
  typedDecimal.map(({ p, s, u }) => ({ type: decimal(p, s) as AvroType, scale: s, u, value: runtimeDecimal(u, s) as unknown })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((u) => ({ type: T.long, scale: 0, u, value: (u >= -(2n ** 53n) + 1n && u < 2n ** 53n ? Number(u) : u) as unknown })),
  fc.integer().map((n) => ({ type: T.int, scale: 0, u: BigInt(n), value: n as unknown })),
);

test('decimal arithmetic of generated chains agrees with a BigInt reference, rounding and overflow included', (t) => {
  let checked = 0;
  let overflows = 0;
  fc.assert(fc.property(fc.constantFrom(...OPS), operand, operand, (op, a, b) => {
    const type = arithmeticType(op, a.type, b.type);
    if (type?.kind !== 'decimal') return true;
    const expected = reference(op, a.u, a.scale, b.u, b.scale, type.precision, type.scale);
    let got: unknown;
    try {
      got = evaluate(bin(op, field('a', a.type), field('b', b.type), type), record('R', { a: a.type, b: b.type }), { a: a.value, b: b.value });
    } catch (e) {
      got = (e as Error).message.replace(/: .*$/, '');
    }
    checked++;
    if (typeof expected === 'string') {
      overflows++;
      return got === expected;
    }
    return got === runtimeDecimal(expected, type.scale);
  }), { numRuns: 1500 });
  t.true(checked > 500, `${checked} checked`);
  t.true(overflows > 0, 'overflow is among the cases');
});

test('comparisons of decimals, ints and longs agree with a BigInt reference', (t) => {
  fc.assert(fc.property(operand, operand, (a, b) => {
    const c = Math.max(a.scale, b.scale);
    const [x, y] = [a.u * pow10(c - a.scale), b.u * pow10(c - b.scale)];
    const schema = record('R', { a: a.type, b: b.type });
    const values = { a: a.value, b: b.value };
    const lt = evaluate(bin('<', field('a', a.type), field('b', b.type), T.boolean), schema, values);
    const eq = evaluate(bin('==', field('a', a.type), field('b', b.type), T.boolean), schema, values);
    return lt === x < y && eq === (x === y);
  }), { numRuns: 500 });
  t.pass();
});

test('casts and math functions of wide decimals are exact', (t) => {
  const D = decimal(38, 10);
  const schema = record('R', { a: D });
  const run = (expr: ReturnType<typeof field>, a: unknown) => evaluate(expr, schema, { a });
  const a = '-1234567890123456789012345678.0123456789';
  t.is(run(call('string', [field('a', D)], T.string), a), a);
  t.is(run(call('string', [field('a', D)], T.string), 12.5), '12.5000000000');
  t.is(run(call('round', [field('a', D), { k: 'literal', value: 2, type: T.int } as never], D), a), '-1234567890123456789012345678.01');
  t.is(run(call('floor', [field('a', D)], D), a), '-1234567890123456789012345679');
  t.is(run(call('ceil', [field('a', D)], D), a), '-1234567890123456789012345678');
  t.is(run(call('abs', [field('a', D)], D), a), a.slice(1));
  t.is(run(unary('-', field('a', D), D), a), a.slice(1));
  t.is(run(call('long', [field('a', D)], T.long), '-9223372036854775808.9'), -(2n ** 63n), 'truncated toward zero, exact past 2^53');
  t.throws(() => run(call('long', [field('a', D)], T.long), a), { message: /long overflow/ });
  t.is(run(call('double', [field('a', D)], T.double), a), Number(a), 'the nearest double, by the user\'s choice');
  t.is(run(call('decimal', [field('a', D), { k: 'literal', value: 38, type: T.int } as never, { k: 'literal', value: 2, type: T.int } as never], decimal(38, 2)), a), '-1234567890123456789012345678.01');
  t.is(run(call('greatest', [field('a', D), field('a', D)], D), a), a);
});


test('wide decimals keep every digit through the workers, and one that overflows is a dead letter', async (t) => {
  const { out, letters: lines } = await runOnLines(`pipeline decimals
schema R { k: int, a: decimal(38, 10), b: decimal(20, 2) }
source r: R from file { path: IN, partitions: 2 }
stream s = r | select { k, a, total: a + b, product: b * 3, share: b / 7, grow: a * 100000 }
sink s to file { path: OUT }
dead letter to file { path: DEAD }
`, [
    '{"k": 1, "a": 1234567890123456789012345.0123456789, "b": 123456789012345678.91}',
    '{"k": 2, "a": -0.0000000001, "b": "0.01"}',
    '{"k": 3, "a": 12.5, "b": 999999999999999999.99}',
    '{"k": 4, "a": 9999999999999999999999999999.9999999999, "b": 1}',
  ]);
  // Expected values from Python's decimal module (ROUND_HALF_UP, which rounds half away from zero).
  const byKey = new Map(out.map((l) => [Number(/"k":(\d+)/.exec(l)![1]), l]));
  t.is(byKey.get(1), '{"k":1,"a":1234567890123456789012345.0123456789,"total":1234568013580245801358023.922345679,"product":370370367037037036.73,"share":17636684144620811.2728571428571,"grow":123456789012345678901234501234.56789}');
  t.is(byKey.get(2), '{"k":2,"a":-1e-10,"total":0.01,"product":0.03,"share":0.0014285714286,"grow":-0.00001}');
  t.is(byKey.get(3), '{"k":3,"a":12.5,"total":1000000000000000012.49,"product":2999999999999999999.97,"share":142857142857142857.1414285714286,"grow":1250000}');
  t.is(out.length, 3);
  const letters = lines.map((l) => JSON.parse(l) as { reason: string });
  t.is(letters.length, 1);
  t.is(letters[0]!.reason, 'decimal(38,6) overflow: 999999999999999999999999999999999.99999');
});

test('a long past 2^53 that reaches a decimal field (if, coalesce, greatest) is written as that decimal', (t) => {
  const schema = record('R', { a: T.long, d: decimal(19, 0) });
  const chosen = evaluate(call('greatest', [field('a', T.long), field('d', decimal(19, 0))], decimal(19, 0)), schema, { a: 2n ** 60n, d: 5 });
  t.is(chosen, 2n ** 60n);
  const type = avroType({ type: 'bytes', logicalType: 'decimal', precision: 19, scale: 0 });
  t.is(type.fromBuffer(type.toBuffer(chosen)), '1152921504606846976');
  t.is(stringifyJson(toJson(schemaNode({ type: 'bytes', logicalType: 'decimal', precision: 19, scale: 0 }), chosen)), '1152921504606846976');
});
