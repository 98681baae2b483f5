// The PostgreSQL sink while its server goes away and comes back: writes wait (retrying
// with backoff), the sources stop on backpressure, and nothing is lost or written twice.
import anyTest, { type TestFn } from 'ava';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { openSink, sql, unique } from './helpers.ts';
import { startOwnServer, type OwnServer } from './own-server.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

// One server for the file; the tests stop and start it, so they run one at a time.
const test = anyTest as TestFn<{ server: OwnServer }>;
test.before(async (t) => {
  t.context.server = await startOwnServer();
});
test.after.always(async (t) => {
  await t.context.server?.destroy();
});

const ROW = { type: 'record', name: 'Row', fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'long' }] };

test.serial('a server restart mid-run: pending writes resolve once it is back, every row written once', async (t) => {
  const { server } = t.context;
  {
    const table = unique('restart');
    const sink = await openSink(ROW, { url: server.url, table, create: true, retry_backoff: '50ms', retry_max_backoff: '500ms' });
    const partitions = 3;
    const batches = 30;
    const size = 200;
    let down = false;
    let resolvedWhileDown = 0;
    const progress = new Array<number>(partitions).fill(0);
    const loops = Array.from({ length: partitions }, async (_, p) => {
      for (let b = 0; b < batches; b++) {
        const from = b * size;
        await sink.write(Array.from({ length: size }, (_, i) => ({ id: `${p}-${from + i}`, n: from + i })), { partition: p, from });
        if (down) resolvedWhileDown++;
        progress[p] = b + 1;
      }
    });
    while (progress[0]! < 5) await new Promise((r) => setTimeout(r, 20));
    await server.stop();
    down = true;
    await new Promise((r) => setTimeout(r, 1500));
    down = false;
    const pendingAtRestart = progress.some((n) => n < batches);
    await server.start();
    await Promise.all(loops);
    await sink.writer.close();
    t.is(resolvedWhileDown, 0);
    t.true(pendingAtRestart);
    const [row] = await sql<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${table}`, [], server.url);
    t.is(Number(row!.n), partitions * batches * size);
    t.is(Number(row!.ids), partitions * batches * size);
  }
});

test.serial('a pipeline whose database restarts: sources wait on backpressure, the run completes with every record exactly once', async (t) => {
  const { server } = t.context;
  {
    const table = unique('pipeline_restart');
    const count = 12_000;
    const plan = compilePlan(`
pipeline ${unique('restart')}
schema Order { id: string, amount: decimal(12, 2), created_at: timestamp_millis }
source orders: Order from datagen { partitions: 4, count: ${count}, rate: 4000, seed: 3 }
sink orders to postgres { url: "${server.url}", table: "${table}", create: true, retry_backoff: 50ms, retry_max_backoff: 500ms }
`);
    let outage: { maxBuffered: number } | undefined;
    const batchSize = 200;
    const maxInflightPerPartition = 4;
    const run = runPipeline(plan, {
      env: builtinEnvironment(),
      workers: 1, batchSize, maxInflightPerPartition, statusIntervalMs: 100,
      onStatus: (s) => {
        if (outage) outage.maxBuffered = Math.max(outage.maxBuffered, s.recordsIn - s.recordsOut);
      },
    });
    const rows = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], server.url).catch(() => [{ n: '0' }]))[0]!.n);
    while ((await rows()) < count / 4) await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    outage = { maxBuffered: 0 };
    await new Promise((r) => setTimeout(r, 1500));
    await server.start();
    const summary = await run;
    t.is(summary.recordsIn, count);
    // Reading stopped: never more records in flight than the runtime's bound per partition.
    t.true(outage.maxBuffered <= 4 * maxInflightPerPartition * batchSize, `${outage.maxBuffered} records buffered`);
    const [row] = await sql<{ n: string; seconds: string }>(
      `SELECT count(*) AS n, count(DISTINCT date_trunc('second', created_at)) AS seconds FROM ${table}`, [], server.url,
    );
    t.is(Number(row!.n), count);
    // datagen gives record i the timestamp BASE + i seconds (+ < 1 s): one row per second means one per record.
    t.is(Number(row!.seconds), count);
  }
});
