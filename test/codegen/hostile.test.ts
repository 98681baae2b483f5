// Names and literals from pipeline files must never become code: every one of these
// would break out of a naively built string, comment, template or property access.
import test from 'ava';
import { bin, dedupe, field, inList, lit, map, ProgramBuilder, record, route, run, select, str, T, where } from './build.ts';

const HOSTILE = [
  'a"b',
  "a'b",
  '*/ globalThis.pwned = 1; /*',
  '${globalThis.pwned = 1}',
  '`; globalThis.pwned = 1; `',
  'line\nbreak\r\u2028\u2029',
  '__proto__',
  'constructor',
  'toString',
  '"]; globalThis.pwned = 1; x["',
  '\\',
  '</script>',
  '',
];

const Hostile = record('Hostile', Object.fromEntries(HOSTILE.map((name) => [name, T.string])));
const value = Object.fromEntries(HOSTILE.map((name, i) => [name, `v${i}`]));
// JSON.parse makes `__proto__` an own property, as a decoded record has it.
const input = JSON.parse(JSON.stringify(value)) as Record<string, string>;

test.afterEach(() => {
  delete (globalThis as { pwned?: unknown }).pwned;
});

test('hostile field names are read and written as data', (t) => {
  // Rename every field to the next hostile name.
  const fields = Object.fromEntries(HOSTILE.map((name, i) => [HOSTILE[(i + 1) % HOSTILE.length]!, field(name, T.string)]));
  const typed = new ProgramBuilder().source('src', Hostile).stream('out', 'src', [select(fields)]).sink('out').build();
  const { out } = run(typed, 'src', [{ value: input }]);
  const result = out['sink:out:0']!.values[0] as Record<string, string>;
  t.deepEqual(Object.keys(result), Object.keys(fields));
  for (const [i, name] of HOSTILE.entries()) t.is(result[HOSTILE[(i + 1) % HOSTILE.length]!], `v${i}`, JSON.stringify(name));
  t.true(Object.hasOwn(result, '__proto__'));
  t.is(Object.getPrototypeOf(result), Object.prototype);
  t.is((globalThis as { pwned?: unknown }).pwned, undefined);
});

test('hostile string literals, regexes, like patterns and map keys stay data', (t) => {
  const s = field('a"b', T.string);
  const conditions = HOSTILE.flatMap((text) => [
    bin('==', s, str(text), T.boolean),
    bin('like', s, str(text), T.boolean),
    bin('matches', s, str(text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')), T.boolean),
  ]);
  const anyOf = conditions.reduce((a, b) => bin('or', a, b, T.boolean));
  const typed = new ProgramBuilder().source('src', Hostile)
    .stream('x', 'src', [
      where(bin('or', anyOf, inList(s, HOSTILE.map(str)), T.boolean)),
      select({ m: map(HOSTILE.map((key) => ({ key, value: str(key) })), { kind: 'map', values: T.string }), l: lit(HOSTILE.join('|'), T.string) }),
    ])
    .sink('x').build();
  const { out } = run(typed, 'src', [{ value: { ...input, 'a"b': 'a"b' } }, { value: { ...input, 'a"b': '*/ globalThis.pwned = 1; /*' } }, { value: input }]);
  const values = out['sink:x:0']!.values as { m: Record<string, string>; l: string }[];
  // All three pass: the empty regex matches anything.
  t.is(values.length, 3);
  t.deepEqual(Object.keys(values[0]!.m), HOSTILE);
  for (const key of HOSTILE) t.is(values[0]!.m[key], key);
  t.is(values[0]!.l, HOSTILE.join('|'));
  t.is((globalThis as { pwned?: unknown }).pwned, undefined);
});

test('hostile stream names become operator ids, state keys and route targets as data', (t) => {
  const name = '"]; globalThis.pwned = 1; //';
  const target = '*/`${globalThis.pwned = 1}`';
  const s = field('a"b', T.string);
  const typed = new ProgramBuilder().source('src', Hostile)
    .stream(name, 'src', [dedupe(s, 1000), route([{ condition: bin('==', s, str('v0'), T.boolean), target }])], { policy: 'dead_letter' })
    .sink(target).build();
  const { out, state } = run(typed, 'src', [{ value: input }, { value: input }]);
  t.is(out[`sink:${target}:0`]!.values.length, 1);
  t.true(state.stores[`${name}/0:dedupe`]!.seen instanceof Map);
  t.is((globalThis as { pwned?: unknown }).pwned, undefined);
});
