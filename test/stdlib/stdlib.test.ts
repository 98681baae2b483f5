import test from 'ava';
import { FUNCTIONS } from '../../src/check/functions.ts';
import { libraryFunctions, operatorHelpers, stdlib } from '../../runtime/stdlib.ts';
import { ChainFailure } from '../../src/plan/chain.ts';

const f = libraryFunctions;
const TS = Date.UTC(2024, 4, 1, 10, 0, 0); // 2024-05-01T10:00:00Z, a Wednesday

test('functions.ts and stdlib.ts name exactly the same functions', (t) => {
  t.deepEqual(Object.keys(libraryFunctions).sort(), FUNCTIONS.map((x) => x.name).sort());
});

test('operator helpers do not shadow library functions, and lib has both', (t) => {
  for (const name of Object.keys(operatorHelpers)) t.false(name in libraryFunctions, name);
  t.is(stdlib.like, operatorHelpers.like);
  t.is(stdlib.upper, libraryFunctions.upper);
});

test('every documented example holds', (t) => {
  for (const spec of FUNCTIONS) {
    for (const ex of spec.examples) t.deepEqual(f[spec.name]!(...ex.args), ex.result, `${spec.name}(${JSON.stringify(ex.args)})`);
  }
});

test('strict functions return null for a null argument in any position', (t) => {
  const sample: Record<string, unknown[]> = Object.fromEntries(FUNCTIONS.filter((s) => s.examples.length > 0).map((s) => [s.name, s.examples[0]!.args]));
  sample.now = [];
  for (const spec of FUNCTIONS) {
    if (spec.nulls !== 'strict') continue;
    const args = sample[spec.name]!;
    for (let i = 0; i < args.length; i++) {
      const withNull = args.map((a, j) => (j === i ? null : a));
      t.is(f[spec.name]!(...withNull), null, `${spec.name} with null argument ${i}`);
    }
  }
});

test('null-aware functions look at nulls themselves', (t) => {
  t.is(f.concat!(null, null), '');
  t.is(f.coalesce!(null, null), null);
  t.is(f.coalesce!(0, 1), 0);
  t.true(f.is_null!(undefined) as boolean);
  t.is(f.nullif!(null, 1), null);
  t.is(f.nullif!(2, 1), 2);
  t.is(f.to_json!(null), 'null');
});

test('string functions count code points', (t) => {
  t.is(f.length!('a😀b'), 3);
  t.is(f.substring!('a😀bc', 2, 2), '😀b');
  t.is(f.index_of!('😀ab', 'b'), 3);
  t.is(f.reverse!('a😀'), '😀a');
  t.is(f.lpad!('😀', 3, 'ab'), 'ab😀');
  t.is(f.substring!('abc', 0), 'abc');
  t.is(f.substring!('abc', 2, -1), '');
});

test('replace treats its arguments literally', (t) => {
  t.is(f.replace!('a.b.c', '.', '$&'), 'a$&b$&c');
  t.is(f.replace!('abc', '', 'x'), 'abc');
});

test('regexp functions use cached patterns and capture groups', (t) => {
  t.is(f.regexp_extract!('a=1;b=22', '(\\w)=(\\d+)', 1), 'a');
  t.is(f.regexp_extract!('a=1;b=22', 'b=(\\d+)', 1), '22');
  t.is(f.regexp_extract!('a', '(x)?a', 1), null);
  t.is(f.regexp_replace!('2024-05-01', '(\\d+)-(\\d+)-(\\d+)', '$3.$2.$1'), '01.05.2024');
  t.is(f.regexp_replace!('aaa', 'a', 'b'), 'bbb', 'the global regex starts over on every call');
  t.is(f.regexp_replace!('aaa', 'a', 'b'), 'bbb');
});

test('math', (t) => {
  t.is(f.round!(1.005, 2), 1.01);
  t.is(f.round!(-0.5), -1);
  t.is(f.sign!(0), 0);
  t.is(f.least!(2, 1.5, 3), 1.5);
  t.is(f.greatest!(TS, TS + 1), TS + 1);
  t.is(f.least!(1, null), null);
  t.is(f.abs!(-0), 0);
  t.true(Number.isNaN(f.sqrt!(-1)));
});

test('time functions work in UTC on epoch milliseconds', (t) => {
  t.is(f.year!(0), 1970);
  t.is(f.day_of_week!(Date.UTC(2024, 4, 5)), 7, 'Sunday');
  t.is(f.day_of_week!(Date.UTC(2024, 4, 6)), 1, 'Monday');
  t.is(f.date_trunc!('minute', TS + 61_500), TS + 60_000);
  t.is(f.date_trunc!('day', TS), Date.UTC(2024, 4, 1));
  t.is(f.date_trunc!('week', TS), Date.UTC(2024, 3, 29), 'the Monday before');
  t.is(f.date_trunc!('month', TS), Date.UTC(2024, 4, 1));
  t.is(f.date_trunc!('year', TS), Date.UTC(2024, 0, 1));
  t.is(f.date_trunc!('hour', -1), -3_600_000, 'before the epoch, truncation goes down');
  t.throws(() => f.date_trunc!('fortnight', TS), { message: /unknown unit/ });
  t.is(f.to_date!(-1), -1);
  t.is(f.format_timestamp!(TS + 42, 'yyyyMMdd-HHmmss.SSS'), '20240501-100000.042');
  t.is(typeof f.now!(), 'number');
});

test('parse_timestamp reads ISO-8601 (UTC without a zone) and patterns, and rejects the rest', (t) => {
  t.is(f.parse_timestamp!('2024-05-01T10:00:00'), TS);
  t.is(f.parse_timestamp!('2024-05-01 10:00:00.123456Z'), TS + 123);
  t.is(f.parse_timestamp!('2024-05-01'), Date.UTC(2024, 4, 1));
  t.is(f.parse_timestamp!('2024-05-01T12:00+02:00'), TS);
  t.is(f.parse_timestamp!('20240501', 'yyyyMMdd'), Date.UTC(2024, 4, 1));
  t.throws(() => f.parse_timestamp!('yesterday'), { instanceOf: RangeError });
  t.throws(() => f.parse_timestamp!('31.02.2024', 'dd.MM.yyyy'), { message: /not a valid date/ });
  t.throws(() => f.parse_timestamp!('2024/05/01', 'dd.MM.yyyy'), { message: /does not match/ });
});

test("murmur2 matches Kafka's test vectors", (t) => {
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of cases) t.is(f.murmur2!(input), expected, input);
  t.is(f.murmur2!(Buffer.from('abc')), 479470107, 'bytes hash like their string');
});

test('hashes accept bytes', (t) => {
  t.is(f.md5!(Buffer.from('abc')), '900150983cd24fb0d6963f7d28e17f72');
  t.is(f.crc32!(Buffer.alloc(0)), 0);
});

test('uuid generates version 4 UUIDs and validates text', (t) => {
  const u = f.uuid!() as string;
  t.regex(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.not(f.uuid!(), u);
  t.is(f.uuid!(null), null);
  t.throws(() => f.uuid!('nope'), { message: /not a UUID/ });
});

test('json functions extract by path, and give null when absent or of another kind', (t) => {
  const doc = '{"a":{"b":[10,{"c":"x"}]},"n":1.5,"s":"12","odd key":true}';
  t.is(f.json_string!(doc, '$.a.b[1].c'), 'x');
  t.is(f.json_long!(doc, '$.a.b[0]'), 10);
  t.is(f.json_long!(doc, '$.n'), null);
  t.is(f.json_long!(doc, '$.s'), 12);
  t.is(f.json_double!(doc, '$.s'), 12);
  t.is(f.json_boolean!(doc, "$['odd key']"), true);
  t.is(f.json_string!(doc, '$.missing.deeper'), null);
  t.is(f.json_string!(doc, '$.a.b[5]'), null);
  t.is(f.json_string!('not json', '$.a'), null);
  t.is(f.json_string!('{"constructor":1}', '$.toString'), null, 'no inherited properties');
  t.is(f.json_string!(doc, '$'), doc);
  t.throws(() => f.json_string!(doc, 'a.b'), { message: /not a JSON path/ });
});

test('to_json writes bytes as base64 and nested values as JSON', (t) => {
  t.is(f.to_json!({ b: Buffer.from('hi'), xs: [1, null] }), '{"b":"aGk=","xs":[1,null]}');
  t.is(f.to_json!('a"b'), '"a\\"b"');
});

test('collections', (t) => {
  t.is(f.size!({}), 0);
  t.true(f.array_contains!([Buffer.from('a')], Buffer.from('a')) as boolean, 'deep equality for bytes');
  t.true(f.array_contains!([{ a: [1] }], { a: [1] }) as boolean, 'deep equality for records');
  t.false(f.array_contains!([1, 2], 3) as boolean);
  t.is(f.array_join!([1, 2.5, true], '-'), '1-2.5-true');
});

test('casts convert by value and throw on malformed input', (t) => {
  t.is(f.int!(' 42 '), 42);
  t.is(f.int!(true), 1);
  t.throws(() => f.int!('4.2'), { message: /not an integer/ });
  t.throws(() => f.int!(2 ** 31), { message: /int overflow/ });
  t.is(f.long!(-0.5), 0);
  t.true(Object.is(f.long!(-0.5), 0), 'no negative zero');
  t.is(f.long!(2 ** 60), 2n ** 60n, 'an integral double past 2^53 is an exact long');
  t.is(f.long!('-9223372036854775808'), -(2n ** 63n));
  t.is(f.long!('9007199254740991'), 9007199254740991, 'a safe long is a number');
  t.throws(() => f.long!(2 ** 64), { message: /long overflow/ });
  t.throws(() => f.long!('9223372036854775808'), { message: /long overflow/ });
  t.throws(() => f.int!(2n ** 60n), { message: /int overflow/ });
  t.throws(() => f.double!('0x10'), { message: /not a number/ });
  t.throws(() => f.decimal!('0x10', 5, 2), { message: /not a decimal/ });
  t.is(f.abs!(-(2n ** 62n)), 2n ** 62n);
  t.throws(() => f.abs!(-(2n ** 63n)), { message: /long overflow/ });
  t.is(f.float!(0.1), Math.fround(0.1));
  t.throws(() => f.double!('abc'), { message: /not a number/ });
  t.is(f.double!('NaN'), NaN);
  t.throws(() => f.boolean!('yes'), { message: /not a boolean/ });
  t.is(f.string!(Buffer.from('hé')), 'hé');
  t.is(f.string!({ a: 1 }), '{"a":1}');
  t.is(f.string!(1.5), '1.5');
  t.is(f.decimal!('-1.005', 5, 2), -1.01);
  t.throws(() => f.decimal!(1000, 4, 2), { message: /decimal\(4,2\) overflow/ });
  t.is(f.timestamp!(TS), TS);
  t.is(f.timestamp!('2024-05-01T10:00:00Z'), TS);
  t.is(f.date!('1970-01-02'), 1);
  t.throws(() => f.date!('2024-02-30'), { message: /not a date/ });
  t.deepEqual(f.bytes!('hi'), Buffer.from('hi'));
});

test('like matches SQL patterns with escapes; matches finds a regex anywhere', (t) => {
  const { like, matches } = operatorHelpers;
  t.true(like!('ABC-1', 'A%-_') as boolean);
  t.false(like!('ABC-12', 'A%-_') as boolean);
  t.true(like!('100%', '100\\%') as boolean);
  t.false(like!('1000', '100\\%') as boolean);
  t.true(like!('a\nb', 'a_b') as boolean, '_ matches a newline');
  t.true(like!('a.b', 'a.b') as boolean);
  t.false(like!('axb', 'a.b') as boolean, 'regex characters are literal');
  t.false(like!(null, '%') as boolean);
  t.true(matches!('FAILED', '^FAIL') as boolean);
  t.false(matches!('X FAILED', '^FAIL') as boolean);
  t.false(matches!(null, 'x') as boolean);
});

test('fail builds the ChainFailure of `on error fail`', (t) => {
  const e = operatorHelpers.fail!('boom', 's/1:where', 7) as ChainFailure;
  t.true(e instanceof ChainFailure);
  t.like(e, { message: 'boom', operator: 's/1:where', offset: 7 });
});
