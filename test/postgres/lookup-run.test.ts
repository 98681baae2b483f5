// `lookup … from postgres` run by the runtime: datagen → lookup → file, 2 workers, against the real server.
import test from 'ava';
import { COUNT, generatedOrders, runLookup, sorted } from '../support/lookup-run.ts';
import { pgUrl } from '../support/services.ts';
import { sql, unique } from './helpers.ts';

/** A customers table holding every other customer id of the generated orders: tier `T-<id>`, rank its position. */
async function customers(): Promise<{ table: string; rows: Map<string, { tier: string; rank: number }> }> {
  const table = unique('customers');
  const ids = [...new Set(generatedOrders().map((o) => o.customer_id))].sort();
  const rows = new Map(ids.filter((_, i) => i % 2 === 0).map((id, i) => [id, { tier: `T-${id}`, rank: i }]));
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, tier text NOT NULL, rank bigint NOT NULL)`);
  await sql(`INSERT INTO ${table} SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])`, [[...rows.keys()], [...rows.values()].map((r) => r.tier), [...rows.values()].map((r) => r.rank)]);
  return { table, rows };
}

const lookup = (table: string, missing: string) =>
  `lookup customer: Customer from postgres { url: ${JSON.stringify(pgUrl())}, query: "select tier, rank from ${table} where id = $1", key: customer_id, on_missing: ${missing} }`;

test('every record gets its customer row, a missing key gives null, each partition keeps its order', async (t) => {
  const { table, rows } = await customers();
  const { records, written, summary } = await runLookup(lookup(table, 'null'));
  const expected = sorted(generatedOrders().map((o) => ({ ...o, tier: rows.get(o.customer_id)?.tier ?? null, rank: rows.get(o.customer_id)?.rank ?? null })));
  t.true(expected.some((r) => r.tier === null) && expected.some((r) => r.tier !== null));
  t.deepEqual(records, expected);
  t.is(summary.recordsOut, expected.length);
  t.is(summary.workers.initial, 2);
  // Datagen puts record i in partition i mod 4 (no key): within a partition the file has them in order of i.
  // (Datagen repeats a few ids: those records are left out of the check.)
  const orders = generatedOrders();
  const index = new Map(orders.map((o, i) => [o.id, i]).filter(([id]) => orders.filter((o) => o.id === id).length === 1) as [string, number][]);
  t.true(index.size > COUNT / 2);
  for (let p = 0; p < 4; p++) {
    const seen = written.filter((r) => index.has(r.id)).map((r) => index.get(r.id)!).filter((i) => i % 4 === p);
    t.deepEqual(seen, [...seen].sort((a, b) => a - b), `partition ${p}`);
  }
});

test('on_missing: drop drops the records without a row', async (t) => {
  const { table, rows } = await customers();
  const { records } = await runLookup(lookup(table, 'drop'), '{ id, customer_id, tier: customer.tier, rank: customer.rank }');
  const expected = sorted(generatedOrders().filter((o) => rows.has(o.customer_id)).map((o) => ({ ...o, ...rows.get(o.customer_id)! })));
  t.true(expected.length > 0 && expected.length < generatedOrders().length);
  t.deepEqual(records, expected);
});
