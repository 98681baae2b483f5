// Hostile JSON lines through the real runtime on 2 workers: prototype keys, numbers past every range, deep
// nesting, wrong types, invalid UTF-8 and random JSON. The run never fails, no prototype is polluted, and every
// input line is accounted for: written to the sink or a dead letter with its reason.
import test from 'ava';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';

const PIPELINE = (input: string, output: string, dead: string) => `pipeline hostile
schema Inner { a: int }
schema R { id: long, n: int, d: decimal(10, 2), w: decimal(38, 10), x: double, s: string, tags: array<string>, m: map<long>, inner: Inner?, at: timestamp_micros }
source r: R from file { path: ${JSON.stringify(input)}, partitions: 3 }
stream s = r | select { id, next: id + 1, n, twice: n * 2, d, w, wide: w * 1000 + d, x, s, tags, m, inner, at, gap: at - at }
sink s to file { path: ${JSON.stringify(output)} }
dead letter to file { path: ${JSON.stringify(dead)} }
`;

const valid = fc.record({
  id: fc.oneof(fc.integer(), fc.constantFrom('9223372036854775807', '-9223372036854775808', '9007199254740993', '9223372036854775808', '1e400', '-0', '1.5')),
  n: fc.oneof(fc.integer(), fc.constantFrom('2147483647', '-2147483648', '2147483648', '1e10', '"7"', 'null')),
  d: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('99999999.99', '123456789', '0.001', '"12.5"', '"0x10"', '1e-400')),
  w: fc.oneof(
    { weight: 9, arbitrary: fc.oneof(fc.integer().map(String), fc.constantFrom('9999999999999999999999999999.9999999999', '-0.0000000001', '12345678901234567.25', '1e27', '"1.5e-3"')) },
    { weight: 1, arbitrary: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)), fc.constantFrom('-0.00000000001', '12345678901234567890123456789', '"--1"', '0.12345678901234567890')) },
  ),
  x: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('"NaN"', '"Infinity"', '1e999', 'true')),
  s: fc.oneof(fc.string(), fc.constantFrom('\u0000', '\ud800', '"'.repeat(3))),
  at: fc.oneof(fc.integer(), fc.constantFrom('"1969-12-31T23:59:59.999999Z"', '"+275760-09-13T00:00:00Z"', '"0000-01-01"', '9223372036854775807', '"not a time"')),
});

/** One line: a record of the schema with hostile values, or JSON of any shape. */
const line = fc.oneof(
  { weight: 3, arbitrary: valid.map((r) => `{"id": ${r.id}, "n": ${r.n}, "d": ${typeof r.d === 'number' ? JSON.stringify(r.d) : r.d}, "w": ${r.w}, "x": ${typeof r.x === 'number' ? JSON.stringify(r.x) : r.x}, "s": ${JSON.stringify(r.s)}, "tags": ["a"], "m": {"__proto__": 1, "constructor": 9007199254740993}, "inner": {"a": 1}, "at": ${r.at}}`) },
  { weight: 1, arbitrary: fc.json() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__": {"polluted": true}, "id": 1}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      `{"id": 1, "tags": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`,
      '{"id": 1, "id": 2, "n": 1, "d": 1, "x": 1, "s": "", "tags": [], "m": {}, "inner": null, "at": 0}',
      '{"id": 12345678901234567890123, "n": 1}',
      '',
      '   ',
      'null',
      '[1, 2, 3]',
      '{"id": 1,',
      '\u00ff\u00fe not json',
    ),
  },
);

test('hostile JSON lines: the run completes, nothing is polluted, and every line is written or a dead letter', async (t) => {
  const lines = fc.sample(line, { numRuns: 400, seed: 20261207 });
  const dir = await mkdtemp(join(tmpdir(), 'sensei-hostile-'));
  try {
    const [input, output, dead] = ['in.jsonl', 'out.jsonl', 'dead.jsonl'].map((f) => join(dir, f)) as [string, string, string];
    // Invalid UTF-8 between the lines: a lone continuation byte and a truncated sequence.
    const bytes = Buffer.concat(lines.flatMap((l, i) => [Buffer.from(l.replaceAll('\n', ' ')), ...(i % 50 === 7 ? [Buffer.from([0x0a, 0x80, 0xe2, 0x82])] : []), Buffer.from('\n')]));
    await writeFile(input, bytes);
    const inputLines = bytes.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
    const summary = await runPipeline(compilePlan(PIPELINE(input, output, dead)), { env: builtinEnvironment(), workers: 2 });
    const count = async (f: string) => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const [written, letters] = [await count(output), await count(dead)];
    t.is(summary.recordsOut, written);
    t.is(written + letters, inputLines, `every line accounted for: ${written} written, ${letters} dead letters`);
    t.log(`${inputLines} lines: ${written} written, ${letters} dead letters`);
    t.true(written > 0 && letters > 0, 'both outcomes occur');
    t.is(({} as Record<string, unknown>).polluted, undefined, 'no prototype polluted');
    const reasons = (await readFile(dead, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { reason: string }).reason);
    t.true(reasons.every((r) => r.length > 0), 'every dead letter says why');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
