// `sensei check --against OLD_PLAN.json`: whether each stateful operator of
// the changed pipeline can read the state the deployed plan keeps.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, sensei, tempDir } from './run-cli.ts';

const original = await readFile(join(ROOT, 'pipelines/revenue.sensei'), 'utf8');
const GROUP = '| group by country: country ?? "unknown" { orders: count(), revenue: sum(amount), largest: max(amount) }';

/** Compiles the deployed version to plan.json, then checks `changed` against it. */
async function against(changed: string) {
  const dir = await tempDir({ 'deployed.sensei': original, 'changed.sensei': changed });
  const compiled = await sensei(['compile', 'deployed.sensei', '-o', 'deployed'], { cwd: dir });
  if (compiled.code !== 0) throw new Error(compiled.stderr);
  const r = await sensei(['check', 'changed.sensei', '--against', 'deployed/plan.json', '--format', 'json'], { cwd: dir });
  return { ...r, json: JSON.parse(r.stdout) as { diagnostics: { code: string; message: string; severity: string }[] } };
}

test('an unchanged pipeline reads its state: no diagnostic, exit 0', async (t) => {
  const r = await against(original);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.deepEqual(r.json.diagnostics, []);
});

test('a where added before the group keeps the state readable', async (t) => {
  const r = await against(original.replace('| where status == "PAID"', '| where status == "PAID" and amount > 0'));
  t.is(r.code, 0, r.stdout);
});

test('an aggregate added: the operator and the aggregate are named, exit 1', async (t) => {
  const r = await against(original.replace('largest: max(amount) }', 'largest: max(amount), smallest: min(amount) }'));
  t.is(r.code, 1);
  const d = r.json.diagnostics.find((x) => x.code === 'incompatible-state');
  t.truthy(d, r.stdout);
  t.regex(d!.message, /operator `revenue_per_minute\/2:aggregate` cannot read the state plan\.json left: store `groups`: aggregate `smallest: min` was added/);
});

test('a window of another size cannot read the windows kept', async (t) => {
  const r = await against(original.replace('window tumbling 1m', 'window tumbling 5m'));
  t.regex(r.json.diagnostics.find((x) => x.code === 'incompatible-state')!.message, /window changed from tumbling 60000 ms to tumbling 300000 ms/);
});

test('another group key: the key named', async (t) => {
  const r = await against(original.replace(GROUP, '| group by country: country ?? "unknown", customer_id { orders: count(), revenue: sum(amount), largest: max(amount) }'));
  t.regex(r.json.diagnostics.find((x) => x.code === 'incompatible-state')!.message, /store `groups`: key changed|group key `customer_id` was added/);
});

test('a group that is gone leaves its state behind: a warning, exit 0', async (t) => {
  const r = await against(original.replace('| window tumbling 1m\n', '').replace(GROUP, '| select { country, amount }'));
  t.is(r.code, 0, r.stdout);
  t.is(r.json.diagnostics.find((x) => x.code === 'state-dropped')?.severity, 'warning');
});

test('a group that is repartitioned now keeps its state per partition of another input: named, exit 1', async (t) => {
  const r = await against(original.replace('{ count: 600, seed: 7 }', '{ count: 600, seed: 7, partitions: 4 }'));
  t.is(r.code, 1, r.stdout);
  t.regex(r.json.diagnostics.find((x) => x.code === 'incompatible-state')!.message, /its state was kept per partition of `orders` and would be per partition of `revenue_per_minute-repartition` \(the group is repartitioned now\)/);
});

test('an unreadable old plan names the file', async (t) => {
  const dir = await tempDir({ 'changed.sensei': original });
  const r = await sensei(['check', 'changed.sensei', '--against', 'missing.json'], { cwd: dir });
  t.is(r.code, 1);
  t.regex(r.stderr, /--against missing\.json/);
});
