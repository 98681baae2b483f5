// The PostgreSQL connector through PgBouncer in transaction mode (`scripts/services start pgbouncer`:
// default_pool_size 2), so a few server connections serve many client sessions and nothing of a
// session outlives its transaction. Serial: the tests share that small pool, and the prepared
// statement test depends on which server connection PgBouncer hands out next (LIFO).
import test from 'ava';
import pg from 'pg';
import { openPostgresLookup } from '../../connectors/postgres/lookup.ts';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { generatedOrders, runLookup, sorted } from '../support/lookup-run.ts';
import { pgBouncerUrl } from '../support/services.ts';
import { openSink, ORDER, orders, sql, unique, type Order } from './helpers.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

/** A client session through PgBouncer (the `sql` helper's `options` startup parameter is one PgBouncer refuses). */
async function session(database?: string): Promise<pg.Client> {
  const url = new URL(pgBouncerUrl());
  if (database) url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  return client;
}

const count = async (table: string): Promise<number> => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

test.serial('the service is PgBouncer in transaction mode, its two server connections shared by many client sessions', async (t) => {
  const admin = await session('pgbouncer');
  try {
    const config = new Map((await admin.query<{ key: string; value: string }>('SHOW CONFIG')).rows.map((r) => [r.key, r.value]));
    t.is(config.get('pool_mode'), 'transaction');
    t.is(config.get('default_pool_size'), '2');
  } finally {
    await admin.end();
  }
  const clients = await Promise.all(Array.from({ length: 6 }, () => session()));
  try {
    const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')).rows[0]!.pid));
    t.true(new Set(pids).size <= 2, `6 sessions ran on backends ${[...new Set(pids)].join(', ')}`);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});

test.serial('append, with and without exactly_once: every record written once, four lanes over two server connections', async (t) => {
  for (const exactlyOnce of [false, true]) {
    const table = unique('pgb_append');
    const sink = await openSink(ORDER, { url: pgBouncerUrl(), table, create: true, exactly_once: exactlyOnce, pool_size: 4, batch_size: 100 });
    await Promise.all(Array.from({ length: 8 }, (_, p) => sink.write(orders(250, p * 250), { partition: p })));
    await sink.writer.close();
    const [row] = await sql<{ n: string; ids: string; total: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(amount) AS total FROM ${table}`);
    t.deepEqual([Number(row!.n), Number(row!.ids), Number(row!.total)], [2000, 2000, orders(2000).reduce((a, o) => a + o.amount, 0)], `exactly_once: ${exactlyOnce}`);
  }
});

test.serial('exactly_once: the offsets commit with the rows in sensei_offsets, and a replay writes nothing twice', async (t) => {
  const table = unique('pgb_eo');
  const pipeline = unique('p');
  const first = await openSink(ORDER, { url: pgBouncerUrl(), table, create: true, pool_size: 4 }, { pipeline });
  await Promise.all([0, 1, 2, 3].map((p) => first.write(orders(300, p * 1000), { partition: p })));
  await first.writer.close();
  const offsets = await sql<{ partition: number; offset: string }>(`SELECT partition, "offset" FROM sensei_offsets WHERE pipeline = $1 AND sink = 'sink:out:0' ORDER BY partition`, [pipeline]);
  t.deepEqual(offsets.map((o) => [o.partition, Number(o.offset)]), [[0, 299], [1, 299], [2, 299], [3, 299]]);
  // A restarted run reads every partition again from offset 0, now up to 499.
  const second = await openSink(ORDER, { url: pgBouncerUrl(), table, pool_size: 4 }, { pipeline });
  await Promise.all([0, 1, 2, 3].map((p) => second.write(orders(500, p * 1000), { partition: p })));
  await second.writer.close();
  t.is(await count(table), 2000);
  t.deepEqual(await sql(`SELECT id FROM ${table} GROUP BY id HAVING count(*) > 1`), []);
});

test.serial('upsert: the last record of each key wins, the staging table never outlives its transaction, a rejected row is a dead letter', async (t) => {
  const table = unique('pgb_upsert');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) CHECK (amount < 1000), qty integer)`);
  const sink = await openSink(ORDER, { url: pgBouncerUrl(), table, mode: 'upsert', pool_size: 4, batch_size: 50 });
  // Six partitions, each its own keys, each writing five versions of them in order: far more upsert
  // transactions than server connections, so each server runs many (a staging table left behind
  // by one would make the next CREATE TEMP TABLE on that server fail).
  const version = (p: number, v: number): Order[] =>
    Array.from({ length: 40 }, (_, i) => ({ id: `p${p}k${i}`, customer: `v${v}`, amount: v * 10 + i / 4, qty: v }));
  const bad = { id: 'p0k7', customer: 'rejected', amount: 5000, qty: 9 };
  // A record its key's later record overtakes in the batch is never judged (the first upsert tries a
  // direct COPY into the table, which this batch fails: the staging path then keeps the last one only).
  await sink.write([{ id: 'x', customer: 'rejected', amount: 5000, qty: 0 }, { id: 'x', customer: 'kept', amount: 1, qty: 1 }], { partition: 9 });
  await Promise.all(Array.from({ length: 6 }, async (_, p) => {
    for (let v = 0; v < 5; v++) {
      const records = version(p, v);
      if (p === 0 && v === 4) records.splice(8, 0, bad);
      await sink.write(records, { partition: p, from: v * 100 });
    }
  }));
  await sink.writer.close();
  const rows = await sql<{ id: string; customer: string; amount: string; qty: number }>(`SELECT id, customer, amount, qty FROM ${table}`);
  const expected = [{ id: 'x', customer: 'kept', amount: 1, qty: 1 }, ...Array.from({ length: 6 }, (_, p) => version(p, 4)).flat()].map((o) => ({ ...o, amount: o.amount.toFixed(2) }));
  t.deepEqual(sorted(rows), sorted(expected));
  t.deepEqual(sink.letters.map((l) => [l.partition, l.offset, l.value]), [[0, 408, bad]]);
  t.regex(sink.letters[0]!.reason, /check constraint .*amount_check.*SQLSTATE 23514/);
});

test.serial('upsert with delete_field: a tombstone deletes the row of its key', async (t) => {
  const table = unique('pgb_tomb');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), qty integer)`);
  await sql(`INSERT INTO ${table} SELECT 'o' || i, 'old', i, i FROM generate_series(0, 99) i`);
  const schema = { ...ORDER, fields: [...ORDER.fields, { name: 'deleted', type: 'boolean' }] };
  const sink = await openSink(schema, { url: pgBouncerUrl(), table, mode: 'upsert', delete_field: 'deleted', pool_size: 3 });
  // Partition p owns the ids o<i> with i % 4 == p: even ids are deleted, odd ones updated, new ones added.
  await Promise.all([0, 1, 2, 3].map((p) => sink.write(
    Array.from({ length: 30 }, (_, j) => p + 4 * j).map((i) => ({ id: `o${i}`, customer: 'new', amount: i, qty: i, deleted: i % 2 === 0 && i < 100 })),
    { partition: p },
  )));
  await sink.writer.close();
  const rows = await sql<{ id: string; customer: string }>(`SELECT id, customer FROM ${table}`);
  const expected = Array.from({ length: 120 }, (_, i) => i).filter((i) => i % 2 === 1 || i >= 100).map((i) => ({ id: `o${i}`, customer: 'new' }));
  t.deepEqual(sorted(rows), sorted(expected));
});

test.serial('a pipeline run (datagen, 2 workers) writes every record once through PgBouncer', async (t) => {
  const table = unique('pgb_run');
  const n = 4000;
  const plan = compilePlan(`
pipeline ${unique('pgb')}
schema Order { id: string, customer_id: string, amount: decimal(12, 2), created_at: timestamp_millis }
source orders: Order from datagen { partitions: 4, count: ${n}, seed: 5 }
stream paid = orders | select { id, customer_id, cents: long(amount * 100), created_at }
sink paid to postgres { url: "${pgBouncerUrl()}", table: "${table}", create: true, batch_size: 300 }
`);
  await runPipeline(plan, { env: builtinEnvironment(), workers: 2, batchSize: 200 });
  const [row] = await sql<{ n: string; records: string; first: string; last: string }>(`
    SELECT count(*) AS n, count(DISTINCT r) AS records, min(r) AS first, max(r) AS last
      FROM (SELECT floor(extract(epoch FROM created_at - timestamptz '2024-05-01T00:00:00Z')) AS r FROM ${table}) x`);
  // datagen gives record i the timestamp 2024-05-01 + i seconds (+ < 1 s).
  t.deepEqual([row!.n, row!.records, row!.first, row!.last].map(Number), [n, n, 0, n - 1]);
});

const CUSTOMER = { type: 'record', name: 'Customer', fields: [{ name: 'tier', type: 'string' }, { name: 'rank', type: 'long' }] };

async function customers(n: number): Promise<string> {
  const table = unique('pgb_customers');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, tier text NOT NULL, rank bigint NOT NULL)`);
  await sql(`INSERT INTO ${table} SELECT 'c' || i, 'T' || i, i FROM generate_series(0, ${n - 1}) i`);
  return table;
}

test.serial('lookup with default options: concurrent batches over a pool larger than the server pool get the right rows', async (t) => {
  const table = await customers(500);
  const lookup = await openPostgresLookup({
    pipeline: 'p', id: 's/0:lookup', keySchema: 'string', schema: CUSTOMER,
    options: { url: pgBouncerUrl(), query: `select tier, rank from ${table} where id = $1`, pool_size: 6, cache_size: 0, cache_ttl: 0 },
  });
  try {
    const batches = Array.from({ length: 24 }, (_, b) => Array.from({ length: 30 }, (_, i) => `c${(b * 37 + i * 11) % 600}`));
    const results = await Promise.all(batches.map((keys) => lookup.lookup(keys)));
    t.deepEqual(results, batches.map((keys) => keys.map((k) => {
      const i = Number(k.slice(1));
      return i < 500 ? { tier: `T${i}`, rank: i } : null;
    })));
  } finally {
    await lookup.close();
  }
});

test.serial('lookup in a pipeline run (2 workers) through PgBouncer', async (t) => {
  const ids = [...new Set(generatedOrders().map((o) => o.customer_id))].sort();
  const table = unique('pgb_customers');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, tier text NOT NULL, rank bigint NOT NULL)`);
  await sql(`INSERT INTO ${table} SELECT id, 'T-' || id, i FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i)`, [ids]);
  const { records } = await runLookup(`lookup customer: Customer from postgres { url: ${JSON.stringify(pgBouncerUrl())}, query: "select tier, rank from ${table} where id = $1", key: customer_id }`);
  const rank = new Map(ids.map((id, i) => [id, i + 1]));
  t.deepEqual(records, sorted(generatedOrders().map((o) => ({ ...o, tier: `T-${o.customer_id}`, rank: rank.get(o.customer_id)! }))));
});

test.serial('prepared_statements: true (PgBouncer 1.18, no max_prepared_statements) fails with an error saying why, once its session moves', async (t) => {
  const table = await customers(3);
  // A name of its own: server connections outlive client sessions, and with them the statements of earlier runs.
  const id = unique('s/0:lookup');
  const lookup = await openPostgresLookup({
    pipeline: 'p', id, keySchema: 'string', schema: CUSTOMER,
    options: { url: pgBouncerUrl(), query: `select tier, rank from ${table} where id = $1`, pool_size: 1, cache_size: 0, cache_ttl: 0, prepared_statements: true },
  });
  const other = await session();
  try {
    // Still on the server connection that prepared the statement.
    t.deepEqual(await lookup.lookup(['c1']), [{ tier: 'T1', rank: 1 }]);
    // Another session's open transaction takes that connection (PgBouncer reuses the most recently
    // used one): the lookup's next query runs on the other one, where the statement does not exist.
    await other.query('BEGIN');
    const e = await t.throwsAsync(lookup.lookup(['c2']));
    t.regex(e!.message, /^postgres lookup s\/0:lookup_\w+: prepared statement "sensei_lookup_s_0_lookup_\w+" does not exist \(SQLSTATE 26000\); prepared_statements: true needs every query of a connection to run in the same server session, which PgBouncer in transaction mode does not give .*: set prepared_statements: false$/);
  } finally {
    await other.query('COMMIT');
    await other.end();
    await lookup.close();
  }
});
