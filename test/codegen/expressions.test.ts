import test from 'ava';
import type { AvroType } from '../../src/types/avro-type.ts';
import { decimal } from '../../src/types/type-utils.ts';
import {
  array, between, bin, call, caseOf, evaluate, field, iff, index, inList, int, lit, map, member, nul, nullable, record, str, T, testLib, unary,
} from './build.ts';

const Address = record('Address', { city: T.string, zip: nullable(T.string) });
const R = record('R', {
  i: T.int,
  j: T.int,
  l: T.long,
  f: T.float,
  d: T.double,
  m: decimal(12, 2),
  s: T.string,
  ns: nullable(T.string),
  ni: nullable(T.int),
  nb: nullable(T.boolean),
  b: T.boolean,
  ts: T.timestampMillis,
  raw: T.bytes,
  xs: { kind: 'array', items: T.int },
  attrs: { kind: 'map', values: T.string },
  addr: Address,
  naddr: nullable(Address),
});
const row = {
  i: 7, j: 2, l: 10, f: 1.5, d: 2.5, m: 19.99, s: 'hello', ns: null, ni: null, nb: null, b: true, ts: Date.UTC(2024, 4, 1, 10),
  raw: Buffer.from('cafe', 'hex'), xs: [10, 20, 30], attrs: { channel: 'web' }, addr: { city: 'Berlin', zip: null }, naddr: null,
};
const f = (name: keyof typeof row): ReturnType<typeof field> => field(name, R.fields.find((x) => x.name === name)!.type);
const ev = (e: Parameters<typeof evaluate>[0], value: Record<string, unknown> = row) => evaluate(e, R, value);
const fails = (e: Parameters<typeof evaluate>[0], value: Record<string, unknown> = row) => {
  try {
    ev(e, value);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
};

test('literals of every kind', (t) => {
  t.is(ev(int(-3)), -3);
  t.is(ev(lit(1.5, T.double)), 1.5);
  t.is(ev(lit(12.5, decimal(4, 2))), 12.5);
  t.is(ev(str('a"b\n${x}`')), 'a"b\n${x}`');
  t.is(ev(lit(true, T.boolean)), true);
  t.is(ev(lit(null, T.null)), null);
  t.deepEqual(ev(lit('cafe', T.bytes)), Buffer.from([0xca, 0xfe]));
  t.is(ev(lit(1714557600000, T.timestampMillis)), 1714557600000);
  t.deepEqual(ev(lit([1, 2], { kind: 'array', items: T.int })), [1, 2]);
  t.deepEqual(ev(lit({ a: 1, __proto__x: 2 }, { kind: 'map', values: T.int })), { a: 1, __proto__x: 2 });
});

test('array and map literals', (t) => {
  t.deepEqual(ev(array([f('i'), int(2)], { kind: 'array', items: T.int })), [7, 2]);
  const m = ev(map([{ key: 'k', value: f('s') }, { key: '__proto__', value: str('p') }], { kind: 'map', values: T.string })) as Record<string, string>;
  t.true(Object.hasOwn(m, '__proto__'));
  // biome-ignore lint/suspicious/noProto: the test is that a map key named __proto__ is an ordinary key
  t.is(m['__proto__'], 'p');
  t.is(Object.getPrototypeOf(m), Object.prototype);
});

test('member access, null-safe on nullable records', (t) => {
  t.is(ev(member(f('addr'), 'city', T.string)), 'Berlin');
  t.is(ev(member(f('naddr'), 'city', nullable(T.string), true)), null);
  t.is(ev(member(f('naddr'), 'city', nullable(T.string), true), { ...row, naddr: { city: 'Paris', zip: null } }), 'Paris');
});

test('indexing arrays and maps; missing is null, inherited properties are not entries', (t) => {
  t.is(ev(index(f('xs'), int(1), nullable(T.int))), 20);
  t.is(ev(index(f('xs'), int(5), nullable(T.int))), null);
  t.is(ev(index(f('xs'), int(-1), nullable(T.int))), null);
  t.is(ev(index(f('attrs'), str('channel'), nullable(T.string))), 'web');
  t.is(ev(index(f('attrs'), str('nope'), nullable(T.string))), null);
  t.is(ev(index(f('attrs'), str('constructor'), nullable(T.string))), null);
  t.is(ev(index(f('attrs'), f('ns'), nullable(T.string))), null);
});

test('int arithmetic stays in 32 bits and fails on overflow', (t) => {
  t.is(ev(bin('+', f('i'), f('j'), T.int)), 9);
  t.is(ev(bin('/', f('i'), f('j'), T.int)), 3);
  t.is(ev(bin('/', unary('-', f('i'), T.int), f('j'), T.int)), -3);
  t.is(ev(bin('%', unary('-', f('i'), T.int), f('j'), T.int)), -1);
  t.is(fails(bin('*', int(2 ** 30), int(4), T.int)), 'int overflow: 4294967296');
  t.is(fails(bin('-', int(-(2 ** 31)), int(1), T.int)), 'int overflow: -2147483649');
  t.is(fails(bin('/', int(-(2 ** 31)), int(-1), T.int)), 'int overflow: 2147483648');
  t.is(fails(bin('/', f('i'), int(0), T.int)), 'division by zero');
  t.is(fails(bin('%', f('i'), int(0), T.int)), 'division by zero');
  t.true(Object.is(ev(bin('*', int(0), int(-3), T.int)), 0));
});

test('long arithmetic is exact over 64 bits (bigints past 2^53) and fails beyond; long division is exact', (t) => {
  t.is(ev(bin('*', f('l'), lit(1000, T.long), T.long)), 10000);
  t.is(ev(bin('*', lit(2 ** 52, T.long), lit(4, T.long), T.long)), 18014398509481984n);
  t.is(ev(bin('+', lit(9007199254740991, T.long), lit(2, T.long), T.long)), 9007199254740993n, 'past 2^53 by one odd step: no rounding');
  t.is(ev(bin('-', bin('*', lit(2 ** 52, T.long), lit(4, T.long), T.long), bin('*', lit(2 ** 52, T.long), lit(4, T.long), T.long), T.long)), 0, 'back in range: a number again');
  t.is(fails(bin('*', lit(2 ** 40, T.long), lit(2 ** 40, T.long), T.long)), 'long overflow: 1208925819614629174706176');
  t.is(ev(bin('/', lit(9007199254740991, T.long), lit(10, T.long), T.long)), 900719925474099);
  t.is(fails(bin('/', lit(1, T.long), lit(0, T.long), T.long)), 'division by zero');
  t.is(fails(unary('-', bin('*', lit(-(2 ** 31), T.long), lit(2 ** 32, T.long), T.long), T.long)), 'long overflow: 9223372036854775808', '-(-2^63)');
  t.is(fails(call('abs', [lit(-(2 ** 31), T.int)], T.int)), 'int overflow: 2147483648', 'abs(-2^31) is past an int');
});

test('float, double and decimal arithmetic', (t) => {
  t.is(ev(bin('*', f('f'), lit(0.1, T.float), T.float)), Math.fround(1.5 * Math.fround(0.1)));
  t.is(ev(bin('/', f('d'), lit(0, T.double), T.double)), Infinity);
  // 19.99 * 100 is 1998.9999999999998 in binary floating point
  t.is(ev(bin('*', f('m'), int(100), decimal(23, 2))), 1999);
  t.is(ev(bin('/', lit(1, decimal(1, 0)), lit(3, decimal(1, 0)), decimal(8, 6))), 0.333333);
  t.is(ev(bin('+', lit(1.005, decimal(4, 3)), lit(0, decimal(1, 0)), decimal(3, 2))), 1.01);
  t.is(ev(bin('-', lit(0, decimal(1, 0)), lit(1.005, decimal(4, 3)), decimal(3, 2))), -1.01);
  t.is(fails(bin('/', f('m'), lit(0, decimal(1, 0)), decimal(20, 6))), 'division by zero');
  t.regex(fails(bin('*', f('m'), f('m'), decimal(3, 2))), /^decimal\(3,2\) overflow: 399.6/);
});

test('arithmetic and unary minus on null are null', (t) => {
  t.is(ev(bin('+', f('ni'), int(1), nullable(T.int))), null);
  t.is(ev(bin('+', int(1), f('ni'), nullable(T.int)), { ...row, ni: 4 }), 5);
  t.is(ev(unary('-', f('ni'), nullable(T.int))), null);
  t.is(ev(bin('+', f('s'), str('!'), T.string)), 'hello!');
});

test('equality is null-aware; ordering with null is false', (t) => {
  t.is(ev(bin('==', f('ns'), nul(), T.boolean)), true);
  t.is(ev(bin('!=', f('ns'), nul(), T.boolean)), false);
  t.is(ev(bin('==', f('ns'), str('x'), T.boolean)), false);
  t.is(ev(bin('!=', f('ns'), str('x'), T.boolean)), true);
  t.is(ev(bin('==', f('ns'), f('ni'), T.boolean)), true);
  t.is(ev(bin('<', f('ni'), int(3), T.boolean)), false);
  t.is(ev(bin('>=', f('ni'), int(3), T.boolean)), false);
  t.is(ev(bin('<', f('ni'), int(3), T.boolean), { ...row, ni: 1 }), true);
  t.is(ev(bin('<', nul(), int(3), T.boolean)), false);
});

test('comparisons of strings, bytes and records', (t) => {
  t.is(ev(bin('<', f('s'), str('world'), T.boolean)), true);
  t.is(ev(bin('==', f('raw'), lit('cafe', T.bytes), T.boolean)), true);
  t.is(ev(bin('>', f('raw'), lit('caff', T.bytes), T.boolean)), false);
  t.is(ev(bin('==', f('addr'), f('addr'), T.boolean)), true);
  t.is(ev(bin('==', f('xs'), array([int(10), int(20), int(30)], { kind: 'array', items: T.int }), T.boolean)), true);
  t.is(ev(bin('!=', f('naddr'), f('addr'), T.boolean)), true);
});

test('and, or, not: three-valued on nullable booleans', (t) => {
  const nb = f('nb');
  const yes = lit(true, T.boolean);
  const no = lit(false, T.boolean);
  const bool = nullable(T.boolean);
  t.is(ev(bin('and', nb, no, bool)), false);
  t.is(ev(bin('and', nb, yes, bool)), null);
  t.is(ev(bin('or', nb, yes, bool)), true);
  t.is(ev(bin('or', nb, no, bool)), null);
  t.is(ev(unary('not', nb, bool)), null);
  t.is(ev(unary('not', f('b'), T.boolean)), false);
  t.is(ev(bin('and', f('b'), no, T.boolean)), false);
  t.is(ev(bin('or', nb, yes, T.boolean)), true);
  t.is(ev(bin('and', nb, yes, T.boolean)), false);
});

test('the right operand of and/or is not evaluated when the left decides', (t) => {
  const crash = bin('==', bin('/', f('i'), int(0), T.int), int(1), T.boolean);
  t.is(ev(bin('and', lit(false, T.boolean), crash, T.boolean)), false);
  t.is(ev(bin('or', lit(true, T.boolean), crash, T.boolean)), true);
  t.is(ev(bin('and', f('nb'), crash, nullable(T.boolean)), { ...row, nb: false }), false);
});

test('?? picks the first non-null', (t) => {
  t.is(ev(bin('??', f('ns'), str('zz'), T.string)), 'zz');
  t.is(ev(bin('??', f('ns'), str('zz'), T.string), { ...row, ns: 'de' }), 'de');
});

test('in and not in, inline and with a set; null equals only null', (t) => {
  const small = [str('a'), str('hello')];
  const many = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'hello'].map(str);
  t.is(ev(inList(f('s'), small)), true);
  t.is(ev(inList(f('s'), many)), true);
  t.is(ev(inList(f('s'), many.slice(0, 7))), false);
  t.is(ev(inList(f('s'), small, true)), false);
  t.is(ev(inList(f('ns'), small)), false);
  t.is(ev(inList(f('ns'), small, true)), true);
  t.is(ev(inList(f('ns'), [str('a'), nul()])), true);
  t.is(ev(inList(f('i'), [int(1), f('j'), bin('+', f('j'), int(5), T.int)])), true);
  t.is(ev(inList(f('raw'), [lit('00', T.bytes), lit('cafe', T.bytes)])), true);
});

test('between and not between; null is never between nor not between', (t) => {
  t.is(ev(between(f('i'), int(1), int(7))), true);
  t.is(ev(between(f('i'), int(8), int(9))), false);
  t.is(ev(between(f('i'), int(8), int(9), true)), true);
  t.is(ev(between(f('ni'), int(1), int(7))), false);
  t.is(ev(between(f('ni'), int(1), int(7), true)), false);
});

test('like and matches, with literal and computed patterns', (t) => {
  t.is(ev(bin('like', f('s'), str('he%o'), T.boolean)), true);
  t.is(ev(bin('like', f('s'), str('h_llo'), T.boolean)), true);
  t.is(ev(bin('like', f('s'), str('h.llo'), T.boolean)), false);
  t.is(ev(bin('like', str('50%'), str('50\\%'), T.boolean)), true);
  t.is(ev(bin('like', str('a\nb'), str('a%b'), T.boolean)), true);
  t.is(ev(bin('like', f('ns'), str('%'), T.boolean)), false);
  t.is(ev(bin('matches', f('s'), str('^h[a-z]+$'), T.boolean)), true);
  t.is(ev(bin('matches', f('s'), str('^x'), T.boolean)), false);
  t.is(ev(bin('matches', f('s'), f('s'), T.boolean)), true);
  t.is(ev(bin('like', f('s'), bin('+', str('he'), str('%'), T.string), T.boolean)), true);
});

test('if and case; a null condition takes the else branch', (t) => {
  t.is(ev(iff(f('b'), str('y'), str('n'), T.string)), 'y');
  t.is(ev(iff(f('nb'), str('y'), str('n'), T.string)), 'n');
  const c = caseOf([
    { condition: bin('<', f('i'), int(5), T.boolean), value: str('small') },
    { condition: bin('<', f('i'), int(10), T.boolean), value: str('medium') },
  ], str('large'), T.string);
  t.is(ev(c), 'medium');
  t.is(ev(c, { ...row, i: 50 }), 'large');
});

test('library calls are strict: a null argument gives null without calling', (t) => {
  let calls = 0;
  const lib = { ...testLib, upper: (s: string) => (calls++, s.toUpperCase()) };
  t.is(evaluate(call('upper', [f('s')], T.string), R, row, lib), 'HELLO');
  t.is(evaluate(call('upper', [f('ns')], nullable(T.string)), R, row, lib), null);
  t.is(calls, 1);
  t.is(ev(call('coalesce', [f('ns'), str('x')], T.string)), 'x');
});

test('a missing library function fails when the chain is created', (t) => {
  t.is(fails(call('no_such_fn', [f('s')], T.string)), 'the function library has no no_such_fn');
});

const castTo = (fn: string, arg: ReturnType<typeof field>, type: AvroType) => ev(call(fn, [arg], type));

test('casts between numbers', (t) => {
  t.is(castTo('long', f('m'), T.long), 19);
  t.is(castTo('int', lit(-2.7, T.double), T.int), -2);
  t.is(castTo('double', f('i'), T.double), 7);
  t.is(castTo('float', lit(0.1, T.double), T.float), Math.fround(0.1));
  t.is(castTo('decimal', lit(2.345, T.double), decimal(5, 2)), 2.35);
  t.is(fails(call('int', [lit(3e9, T.double)], T.int)), 'int overflow: 3000000000');
  t.is(castTo('long', f('ni'), nullable(T.long)), null);
  t.is(castTo('long', f('b'), T.long), 1);
});

test('casts from and to strings', (t) => {
  t.is(castTo('int', str(' 42 '), T.int), 42);
  t.is(fails(call('int', [str('4x')], T.int)), 'not an integer: "4x"');
  t.is(castTo('double', str('2.5'), T.double), 2.5);
  t.is(fails(call('double', [str('')], T.double)), 'not a number: ""');
  t.is(castTo('boolean', str('TRUE'), T.boolean), true);
  t.is(castTo('string', f('i'), T.string), '7');
  t.is(castTo('string', f('m'), T.string), '19.99');
  t.is(castTo('string', lit(12, decimal(2, 0)), T.string), '12');
  t.is(castTo('string', lit(-1.5, decimal(3, 2)), T.string), '-1.50');
  t.is(castTo('string', f('ts'), T.string), '2024-05-01T10:00:00.000Z');
  t.is(castTo('string', lit(19844, T.date), T.string), '2024-05-01');
  t.is(castTo('string', lit(1714557600000123, T.timestampMicros), T.string), '2024-05-01T10:00:00.000123Z');
  t.is(castTo('string', lit(36000000, T.timeMillis), T.string), '10:00:00.000');
  t.is(castTo('timestamp', str('2024-05-01T10:00:00Z'), T.timestampMillis), Date.UTC(2024, 4, 1, 10));
  t.is(castTo('date', str('2024-05-01'), T.date), 19844);
  t.is(fails(call('date', [str('2024-02-30')], T.date)), 'not a date (YYYY-MM-DD): "2024-02-30"');
  t.is(castTo('date', f('ts'), T.date), 19844);
  t.is(castTo('timestamp', lit(19844, T.date), T.timestampMillis), Date.UTC(2024, 4, 1));
  t.is(castTo('timestamp', lit(1714557600000123, T.timestampMicros), T.timestampMillis), Date.UTC(2024, 4, 1, 10));
  t.deepEqual(castTo('bytes', str('hi'), T.bytes), Buffer.from('hi'));
  t.is(castTo('string', lit('6869', T.bytes), T.string), 'hi');
});
