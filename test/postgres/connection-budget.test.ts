// The process's PostgreSQL connection budget against the real server: a pipeline with a lookup and a sink
// holds no more connections than the budget (counted in pg_stat_activity), reports its shares in the status,
// and the `sensei run` whose minimum does not fit fails at start naming the setting.
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinConnectorSpecs, builtinEnvironment } from '../../connectors/registry.ts';
import { ConnectionBudget, startPipeline } from '../../runtime/index.ts';
import { compile } from '../../src/compile.ts';
import { sensei, tempDir } from '../cli/run-cli.ts';
import { pgUrl } from '../support/services.ts';
import { sql, unique } from './helpers.ts';

const COUNT = 20_000;

async function setUp(): Promise<{ pipeline: string; customers: string; out: string; text: string }> {
  const [pipeline, customers, out] = [unique('budget'), unique('customers'), unique('enriched')];
  await sql(`CREATE TABLE ${customers} (id text PRIMARY KEY, tier text NOT NULL)`);
  await sql(`INSERT INTO ${customers} SELECT 'c' || i, CASE WHEN i % 2 = 0 THEN 'gold' ELSE 'basic' END FROM generate_series(0, 99) i`);
  const text = `pipeline ${pipeline}
schema Order { id: string, n: int }
schema Customer { tier: string }
source orders: Order from datagen { count: ${COUNT}, partitions: 4, seed: 3 }
stream enriched = orders
  | lookup customer: Customer from postgres { url: "${pgUrl()}", query: "select tier from ${customers} where id = $1", key: "c" + string(abs(n) % 100), cache_size: 0 }
  | select { id, tier: customer?.tier }
sink enriched to postgres { url: "${pgUrl()}", table: "${out}", create: true, batch_size: 200 }
`;
  return { pipeline, customers, out, text };
}

/** The connections of one pipeline (sink `sensei:NAME`, lookups `sensei-lookup:NAME`) the server has now. */
async function connectionsOf(pipeline: string): Promise<number> {
  const [row] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name IN ($1, $2)`, [`sensei:${pipeline}`, `sensei-lookup:${pipeline}`]);
  return row!.n;
}

test('a pipeline with a lookup and a sink holds no more connections than its budget, and says how it shared them', async (t) => {
  const { pipeline, customers, out, text } = await setUp();
  try {
    const r = compile({ entry: 'b.sensei', files: new Map([['b.sensei', text]]), connectors: builtinConnectorSpecs() });
    t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    // Unbudgeted this would be the sink's 5 plus 5 in each of 2 workers; 5 gives the sink 3 and each worker's lookup 1.
    const budget = new ConnectionBudget('postgres', 5, 'postgres.connections');
    const run = startPipeline(r.plan!, { env: builtinEnvironment(), workers: 2, batchSize: 100, connectionBudgets: [budget] });
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        peak = Math.max(peak, await connectionsOf(pipeline));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const summary = await run.done.finally(() => (watching = false));
    await watch;
    t.is(summary.recordsOut, COUNT);
    t.true(peak <= 5, `at most 5 connections at once, saw ${peak}`);
    t.true(peak >= 3, `the run did connect (saw ${peak} at most)`);
    const [report] = run.status().connections;
    t.like(report, { connector: 'postgres', budget: 5, held: 5, workers: 2 });
    t.deepEqual(report!.shares.map((s) => [s.id, s.role, s.connections]), [['sink:enriched:0', 'sink', 3], ['enriched/0:lookup', 'lookup', 1]]);
    t.is(budget.inUse, 0, 'the ended run gave its connections back');
    const [{ found }] = await sql<{ found: number }>(`SELECT count(tier)::int AS found FROM ${out}`);
    t.is(found, COUNT, 'every lookup answered');
  } finally {
    await sql(`DROP TABLE IF EXISTS ${customers}, ${out}`);
  }
});

test('sensei run refuses a pipeline whose minimum does not fit --pg-connections, before it connects', async (t) => {
  const { pipeline, customers, text } = await setUp();
  const dir = await tempDir();
  try {
    const file = join(dir, 'b.sensei');
    await writeFile(file, text);
    const r = await sensei(['run', file, '--workers', '2', '--pg-connections', '2']);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, new RegExp(`pipeline ${pipeline} needs at least 3 postgres connections \\(sink:enriched:0: 1, enriched/0:lookup: 1 in each of 2 workers\\), but the process's budget --pg-connections \\(SENSEI_PG_CONNECTIONS\\) is 2`));
    const env = await sensei(['run', file, '--workers', '2'], { env: { SENSEI_PG_CONNECTIONS: '2' } });
    t.is(env.code, 1, 'the environment variable sets it too');
    t.regex(env.stderr, /budget --pg-connections \(SENSEI_PG_CONNECTIONS\) is 2/);
  } finally {
    await sql(`DROP TABLE IF EXISTS ${customers}`);
  }
});
