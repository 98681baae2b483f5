import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { compileFile } from '../../src/tooling/host/load.ts';
import { formatTestResult, parseTestFile, runTests, TestFileError } from '../../runtime/testing/testing.ts';
import { DEDUPE_CHAIN, makePlan, MAP_CHAIN } from './helpers.ts';

const pipelines = new URL('../../pipelines/', import.meta.url);

for (const name of readdirSync(pipelines).filter((f) => f.endsWith('.sensei'))) {
  const testFile = join(pipelines.pathname, name.replace(/\.sensei$/, '.test.yaml'));
  if (!existsSync(testFile)) continue;
  test(`the tests of pipelines/${name} pass`, async (t) => {
    const compiled = await compileFile(join(pipelines.pathname, name), builtinConnectorSpecs());
    t.truthy(compiled.plan, JSON.stringify(compiled.diagnostics));
    const result = await runTests(compiled.plan!, testFile);
    t.true(result.passed, formatTestResult(result));
    t.true(result.cases.length > 0);
  });
}

const plan = makePlan({ code: MAP_CHAIN, source: { options: { partitions: 2, key: 'customer' } } });
const order = (n: number, amount = 1, customer = 'a') => ({ id: `o${n}`, customer, amount, n });

test('a passing case: outputs in input order, dead letters matched by the fields given (reason as substring)', async (t) => {
  const file = parseTestFile(`
cases:
  - name: maps and rejects
    input:
      orders:
        - ${JSON.stringify(order(1, 2.5))}
        - ${JSON.stringify(order(2, -1, 'b'))}
        - ${JSON.stringify(order(3, 1, 'b'))}
        - ${JSON.stringify(order(4, 1))}
    expect:
      out:
        - { id: o1, cents: 250, n: 1 }
        - { id: o4, cents: 100, n: 4 }
    dead_letters:
      - { operator: "s/0:where", reason: negative, source: orders, value: { id: o2, customer: b, amount: -1, n: 2 } }
`, 'x.test.yaml');
  const result = await runTests(plan, file);
  t.true(result.passed, formatTestResult(result));
});

test('a failing case explains itself with a diff', async (t) => {
  const file = parseTestFile(`
cases:
  - name: wrong
    input: { orders: [${JSON.stringify(order(1))}, ${JSON.stringify(order(4))}] }
    expect:
      sink:out:0: [{ id: o1, cents: 100, n: 1 }, { id: o9, cents: 100, n: 9 }]
`, 'x.test.yaml');
  const result = await runTests(plan, file);
  t.false(result.passed);
  t.is(result.cases[0]!.failures[0], [
    'sink out (sink:out:0): 2 records expected, 2 written',
    '    {"id":"o1","cents":100,"n":1}',
    '  - {"id":"o9","cents":100,"n":9}',
    '  + {"id":"o4","cents":100,"n":4}',
  ].join('\n'));
  t.regex(formatTestResult(result), /✘ wrong\n {6}sink out/);
});

test('unordered cases compare multisets', async (t) => {
  const file = parseTestFile(`
cases:
  - name: any order
    unordered: true
    input: { orders: [${JSON.stringify(order(1))}, ${JSON.stringify(order(4))}] }
    expect: { out: [{ id: o4, cents: 100, n: 4 }, { id: o1, cents: 100, n: 1 }] }
`, 'x.test.yaml');
  t.true((await runTests(plan, file)).passed);
});

test('inputs that do not fit the schema, unknown sources and sinks are reported', async (t) => {
  const file = parseTestFile(`
cases:
  - name: bad input
    input: { orders: [{ id: o1, customer: a, amount: lots, n: 1 }] }
    expect: { out: [] }
  - name: unknown names
    input: { clicks: [] }
    expect: { nowhere: [] }
`, 'x.test.yaml');
  const [bad, unknown] = (await runTests(plan, file)).cases;
  t.deepEqual(bad!.failures, ['input orders[0] does not fit the source schema: amount: expected decimal(12, 2), got "lots"']);
  t.regex(unknown!.failures[0]!, /input for unknown source clicks \(sources: orders\)/);
});

test('a case can expect the run to fail', async (t) => {
  const failing = makePlan({ code: `return function () { throw new Error('division by zero'); };` });
  const file = parseTestFile(`
cases:
  - { name: fails as expected, input: { orders: [${JSON.stringify(order(1))}] }, error: division }
  - { name: fails unexpectedly, input: { orders: [${JSON.stringify(order(1))}] } }
`, 'x.test.yaml');
  const [expected, unexpected] = (await runTests(failing, file)).cases;
  t.true(expected!.passed);
  t.deepEqual(unexpected!.failures, ['the run failed: division by zero']);
});

test('state is kept per partition within a case and fresh for every case', async (t) => {
  const dedupe = makePlan({ code: DEDUPE_CHAIN, stateful: true });
  const rows = [order(1), order(1), order(2)].map((r) => JSON.stringify(r)).join(', ');
  const file = parseTestFile(`
cases:
  - { name: first, input: { orders: [${rows}] }, expect: { out: [{ id: o1, cents: 100, n: 1 }, { id: o2, cents: 100, n: 2 }] } }
  - { name: second, input: { orders: [${rows}] }, expect: { out: [{ id: o1, cents: 100, n: 1 }, { id: o2, cents: 100, n: 2 }] } }
`, 'x.test.yaml');
  t.true((await runTests(dedupe, file)).passed);
});

test('input records can come from a JSON-lines file beside the test file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-test-'));
  await writeFile(join(dir, 'orders.jsonl'), `${JSON.stringify(order(1))}\n${JSON.stringify(order(2))}\n`);
  const path = join(dir, 'p.test.yaml');
  await writeFile(path, `cases:\n  - name: from a file\n    input: { orders: { file: orders.jsonl } }\n    expect: { out: [{ id: o1, cents: 100, n: 1 }, { id: o2, cents: 100, n: 2 }] }\n`);
  t.true((await runTests(plan, path)).passed);
});

test('malformed test files are rejected with the place of the problem', (t) => {
  t.throws(() => parseTestFile('nope: 1', 'a.test.yaml'), { instanceOf: TestFileError, message: 'a.test.yaml: the file must have a `cases:` list' });
  t.throws(() => parseTestFile('cases:\n  - input: { orders: 3 }', 'a.test.yaml'), { message: 'a.test.yaml: cases[0].input.orders must be a list of records or { file: path }' });
  t.throws(() => parseTestFile('cases: [', 'a.test.yaml'), { message: /^a\.test\.yaml: / });
});

test('longs past 2^53 in a test file are exact: an expectation a double could not tell apart fails', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-test-longs-'));
  const pipeline = join(dir, 'ids.sensei');
  await writeFile(pipeline, `pipeline ids
schema R { id: long }
source r: R from stdin {}
stream s = r | select { id, next: id + 1 }
sink s to stdout {}
`);
  const compiled = await compileFile(pipeline, builtinConnectorSpecs());
  t.truthy(compiled.plan, JSON.stringify(compiled.diagnostics));
  const file = (next: string) => `
cases:
  - name: ids past 2^53
    input:
      r:
        - { id: 9007199254740993 }
        - { id: 9223372036854775806 }
    expect:
      sink:s:0:
        - { id: 9007199254740993, next: 9007199254740994 }
        - { id: 9223372036854775806, next: ${next} }
`;
  const passing = await runTests(compiled.plan!, parseTestFile(file('9223372036854775807'), 'ids.test.yaml'));
  t.true(passing.passed, formatTestResult(passing));
  const failing = await runTests(compiled.plan!, parseTestFile(file('9223372036854775805'), 'ids.test.yaml'));
  t.false(failing.passed, 'a value a double could not tell from the right one still fails');
  t.regex(formatTestResult(failing), /9223372036854775805/);
});

test('wide decimals in a test file are exact: an expectation off in the 20th digit fails', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-test-decimals-'));
  const pipeline = join(dir, 'amounts.sensei');
  await writeFile(pipeline, `pipeline amounts
schema R { amount: decimal(38, 10) }
source r: R from stdin {}
stream s = r | select { amount, doubled: amount * 2 }
sink s to stdout {}
`);
  const compiled = await compileFile(pipeline, builtinConnectorSpecs());
  t.truthy(compiled.plan, JSON.stringify(compiled.diagnostics));
  const file = (doubled: string) => `
cases:
  - name: amounts past 15 digits
    input:
      r:
        - { amount: 1234567890123456789.0123456789 }
        - { amount: 0.25 }
    expect:
      sink:s:0:
        - { amount: 1234567890123456789.0123456789, doubled: ${doubled} }
        - { amount: 0.25, doubled: 0.5 }
`;
  const passing = await runTests(compiled.plan!, parseTestFile(file('2469135780246913578.024691'), 'amounts.test.yaml'));
  t.true(passing.passed, formatTestResult(passing));
  const failing = await runTests(compiled.plan!, parseTestFile(file('2469135780246913578.024692'), 'amounts.test.yaml'));
  t.false(failing.passed, 'a value a double could not tell from the right one still fails');
  t.regex(formatTestResult(failing), /2469135780246913578\.024692/);
  await rm(dir, { recursive: true, force: true });
});
