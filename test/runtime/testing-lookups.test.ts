// `sensei test` with lookups: the results come from the test file's `lookups:`, never from a server.
import test from 'ava';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { parseTestFile, runTests, TestFileError } from '../../runtime/testing/testing.ts';
import { compile } from '../../src/compile.ts';
import type { Plan } from '../../src/plan/plan.ts';

/** Orders enriched by a lookup keyed by `key` (a string or long field), `on_missing` as given. */
function plan(missing = 'null', key = 'customer_id'): Plan {
  const text = `pipeline lk
schema Order { id: string, customer_id: string, n: long }
schema Customer { tier: string, since: timestamp_millis }
source orders: Order from datagen { count: 10 }
stream enriched = orders
  | lookup customer: Customer from postgres { query: "select tier, since from customers where id = $1", key: ${key}, on_missing: ${missing} }
  | select { id, tier: customer${missing === 'null' ? '?' : ''}.tier ?? "none", since: customer${missing === 'null' ? '?' : ''}.since }
sink enriched to stdout { format: json }
`;
  const r = compile({ entry: 'lk.sensei', files: new Map([['lk.sensei', text]]), connectors: builtinConnectorSpecs() });
  if (!r.plan) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.plan;
}

const orders = `
    input:
      orders:
        - { id: o1, customer_id: c1, n: 1 }
        - { id: o2, customer_id: c2, n: 2 }
        - { id: o3, customer_id: c1, n: 1 }`;

test('results come from `lookups:`; a case extends and overrides the file-level ones; null is a key without a row', async (t) => {
  const file = parseTestFile(`
lookups:
  customer:
    c1: { tier: GOLD, since: "2024-01-01T00:00:00Z" }
    c2: { tier: SILVER, since: "2023-01-01T00:00:00Z" }
cases:
  - name: shared results
${orders}
    expect:
      enriched:
        - { id: o1, tier: GOLD, since: "2024-01-01T00:00:00.000Z" }
        - { id: o2, tier: SILVER, since: "2023-01-01T00:00:00.000Z" }
        - { id: o3, tier: GOLD, since: "2024-01-01T00:00:00.000Z" }
  - name: c2 has no row here
    lookups:
      customer:
        c2: null
${orders}
    expect:
      enriched:
        - { id: o1, tier: GOLD, since: "2024-01-01T00:00:00.000Z" }
        - { id: o2, tier: none, since: null }
        - { id: o3, tier: GOLD, since: "2024-01-01T00:00:00.000Z" }
`, 'lk.test.yaml');
  const result = await runTests(plan(), file);
  t.deepEqual(result.cases.map((c) => c.failures), [[], []]);
  t.true(result.passed);
});

test('on_missing applies to a null result: drop drops, dead_letter makes a dead letter', async (t) => {
  const file = (expect: string, dead: string) => parseTestFile(`
cases:
  - name: c2 has no row
    lookups:
      customer: { c1: { tier: GOLD, since: 0 }, c2: null }
${orders}
    expect:
      enriched: ${expect}
    dead_letters: ${dead}
`, 'lk.test.yaml');
  const kept = '[{ id: o1, tier: GOLD, since: "1970-01-01T00:00:00.000Z" }, { id: o3, tier: GOLD, since: "1970-01-01T00:00:00.000Z" }]';
  const dropped = await runTests(plan('drop'), file(kept, '[]'));
  t.deepEqual(dropped.cases[0]!.failures, []);
  const dead = await runTests(plan('dead_letter'), file(kept, '[{ operator: "enriched/0:lookup" }]'));
  t.deepEqual(dead.cases[0]!.failures, []);
  t.like(dead.cases[0]!.deadLetters[0], { operator: 'enriched/0:lookup', value: { id: 'o2', customer_id: 'c2', n: 2 } });
});

test('a key the file does not list fails the case, naming the lookup, its operator and the key', async (t) => {
  const file = parseTestFile(`
cases:
  - name: c2 not given
    lookups:
      customer: { c1: { tier: GOLD, since: 0 } }
${orders}
    expect:
      enriched: []
`, 'lk.test.yaml');
  const result = await runTests(plan(), file);
  t.false(result.passed);
  t.deepEqual(result.cases[0]!.failures, ['the run failed: lookup customer (enriched/0:lookup): no result given for key "c2"; add it under `lookups: customer:` (null for a key without one)']);
});

test('a non-string key is matched by its text; the operator id works as a name', async (t) => {
  const file = parseTestFile(`
cases:
  - name: keyed by n
    lookups:
      "enriched/0:lookup": { 1: { tier: ONE, since: 0 }, 2: null }
${orders}
    expect:
      enriched:
        - { id: o1, tier: ONE, since: "1970-01-01T00:00:00.000Z" }
        - { id: o2, tier: none, since: null }
        - { id: o3, tier: ONE, since: "1970-01-01T00:00:00.000Z" }
`, 'lk.test.yaml');
  const result = await runTests(plan('null', 'n'), file);
  t.deepEqual(result.cases[0]!.failures, []);
});

test('unknown lookup names and results that do not fit the schema are reported; malformed `lookups:` are rejected', async (t) => {
  const file = parseTestFile(`
cases:
  - name: wrong
    lookups:
      customr: { c1: { tier: GOLD, since: 0 } }
      customer: { c1: { tier: 5, since: 0 }, c2: null }
${orders}
    expect:
      enriched: []
`, 'lk.test.yaml');
  const failures = (await runTests(plan(), file)).cases[0]!.failures;
  t.is(failures.length, 2);
  t.is(failures[0], 'lookups.customr: no lookup has that name or id (lookups: customer)');
  t.regex(failures[1]!, /^lookups\.customer\.c1 does not fit Customer: /);
  t.throws(() => parseTestFile('lookups: [1]\ncases: []\n', 'x.test.yaml'), { instanceOf: TestFileError, message: 'x.test.yaml: lookups must map lookup names to mappings of keys to result records' });
  t.throws(() => parseTestFile('cases:\n  - lookups: { customer: { c1: 3 } }\n', 'x.test.yaml'), { instanceOf: TestFileError, message: 'x.test.yaml: cases[0].lookups.customer.c1 must be a record or null' });
});
