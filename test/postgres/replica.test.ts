// A lookup with a read replica, against a real streaming replica (pg_basebackup + a hot
// standby): it reads the replica while the replay lag is within max_staleness, the
// primary once the replica falls behind (replay paused) or goes away, and the replica
// again when it has caught up; its lag is measured for the status and metrics.
import anyTest, { type TestFn } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresLookup } from '../../connectors/postgres/lookup.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { startPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { eventually } from '../daemon/daemon-process.ts';
import { sql } from './helpers.ts';
import { startOwnServer, type OwnServer } from './own-server.ts';

const test = anyTest as TestFn<{ primary: OwnServer; replica: OwnServer }>;
test.before(async (t) => {
  const primary = await startOwnServer();
  await sql('CREATE TABLE customers (id text PRIMARY KEY, tier text NOT NULL)', [], primary.url);
  await sql(`INSERT INTO customers SELECT 'c' || i, 'gold' FROM generate_series(0, 9) i`, [], primary.url);
  t.context = { primary, replica: await primary.replica() };
});
test.after.always(async (t) => t.context.primary?.destroy());

const TIER = { type: 'record', name: 'Tier', fields: [{ name: 'tier', type: 'string' }] };

test.serial('lookups read the replica while it is fresh, the primary while it lags or is away, the replica again once caught up', async (t) => {
  const { primary, replica } = t.context;
  const tierOf = (url: string, id: string) => sql<{ tier: string }>('SELECT tier FROM customers WHERE id = $1', [id], url).then((r) => r[0]?.tier);
  await eventually(async () => ((await tierOf(replica.url, 'c9')) === 'gold' ? true : undefined), 30_000, 'the replica has the rows');
  const lookup = await openPostgresLookup({
    pipeline: 'p', id: 's/0:lookup', keySchema: 'string', schema: TIER,
    options: { url: primary.url, replica_url: replica.url, query: 'select tier from customers where id = $1', pool_size: 1, cache_size: 0, max_staleness: 1000 },
  });
  try {
    t.deepEqual(await lookup.lookup(['c0']), [{ tier: 'gold' }]);
    t.like(lookup.stats!(), { primaryQueries: 0 });
    t.true(lookup.stats!().replicaLagMs! <= 1000);

    // Replay paused: the replica receives the update but keeps serving the old row, more and more stale.
    await sql('SELECT pg_wal_replay_pause()', [], replica.url);
    await sql(`UPDATE customers SET tier = 'platinum' WHERE id = 'c1'`, [], primary.url);
    await eventually(() => (lookup.stats!().replicaLagMs! > 1000 ? true : undefined), 30_000, 'the measured lag passes max_staleness');
    t.is(await tierOf(replica.url, 'c1'), 'gold', 'the replica is stale');
    t.deepEqual(await lookup.lookup(['c1']), [{ tier: 'platinum' }], 'the primary answered');
    t.true(lookup.stats!().primaryQueries! >= 1);

    await sql('SELECT pg_wal_replay_resume()', [], replica.url);
    await eventually(() => (lookup.stats!().replicaLagMs! <= 1000 ? true : undefined), 30_000, 'the replica caught up');
    const before = lookup.stats!().primaryQueries!;
    t.deepEqual(await lookup.lookup(['c2']), [{ tier: 'gold' }]);
    t.is(lookup.stats!().primaryQueries, before, 'the replica answered again');

    await replica.stop();
    t.deepEqual(await lookup.lookup(['c3']), [{ tier: 'gold' }], 'a replica that is away: the primary answers at once');
    t.is(lookup.stats!().replicaLagMs, Number.POSITIVE_INFINITY);
    t.true(lookup.stats!().primaryQueries! > before);
  } finally {
    await lookup.close();
    await replica.start().catch(() => {});
  }
});

test.serial('a running pipeline reports its lookup\'s replica lag in the status', async (t) => {
  const { primary, replica } = t.context;
  const dir = mkdtempSync(join(tmpdir(), 'sensei-replica-'));
  const run = startPipeline(compilePlan(`
pipeline replica_status
schema Order { id: string, customer: string }
schema Tier { tier: string }
source orders: Order from datagen { partitions: 2, count: 100000, rate: 500, seed: 1 }
stream enriched = orders
  | lookup c: Tier from postgres { url: "${primary.url}", replica_url: "${replica.url}", query: "select tier from customers where id = $1", key: customer }
  | select { id, tier: c?.tier }
sink enriched to file { path: "${join(dir, 'out.jsonl')}" }
`), { env: builtinEnvironment(), workers: 2 });
  try {
    const lookups = await eventually(() => (run.status().lookups.length > 0 ? run.status().lookups : undefined), 30_000, 'lookup measures in the status');
    t.is(lookups[0]!.id, 'enriched/0:lookup');
    t.true(lookups[0]!.replicaLagMs !== null && lookups[0]!.replicaLagMs <= 5000, JSON.stringify(lookups));
  } finally {
    run.stop();
    await run.done;
    rmSync(dir, { recursive: true, force: true });
  }
});
