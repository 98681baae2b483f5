import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ChainFailure } from '../../src/plan/chain.ts';
import type { SourceBatch, SourceReader } from '../../src/spi/connector.ts';
import { runPipeline, startPipeline } from '../../runtime/index.ts';
import { expectedMap, LIB, lines, makePlan, MAP_CHAIN, DEDUPE_CHAIN, orders, testEnv } from './helpers.ts';


for (const workers of [1, 2, 3, 4]) {
  test.serial(`${workers} worker(s) give exactly the expected records, partition by partition in order`, async (t) => {
    const parts = orders(8000, 6, { negativeEvery: 101 });
    const { env, out } = testEnv(parts);
    const summary = await runPipeline(makePlan({ code: MAP_CHAIN }), { workers, env, libModule: LIB, batchSize: 64 });
    t.deepEqual(lines(out), expectedMap(parts));
    t.is(summary.workers.final, workers);
  });
}

/** An endless source: record n of partition p has offset n. */
function endless(partitions: number): () => SourceReader {
  return () => {
    const next = new Array<number>(partitions).fill(0);
    return {
      partitions,
      async read(p: number, max: number): Promise<SourceBatch> {
        const from = next[p]!;
        next[p] = from + max;
        const offsets = Array.from({ length: max }, (_, i) => from + i);
        return { offsets, timestamps: offsets, keys: offsets.map(() => `k${p}`), values: offsets.map((n) => ({ id: `p${p}-${n}`, customer: `k${p}`, amount: 1, n })) };
      },
      async close() {},
    };
  };
}

test.serial('a stalled sink pauses the sources: records read stay bounded, then everything read is written', async (t) => {
  let release!: () => void;
  const stalled = new Promise<void>((r) => (release = r));
  const { env, out, read } = testEnv(endless(3), () => stalled);
  const run = startPipeline(makePlan({ code: `return function (b, out) { for (let i = 0; i < b.values.length; i++) { out[0].keys.push(b.keys[i]); out[0].values.push({ id: b.values[i].id, cents: 1, n: b.values[i].n }); out[0].offsets.push(b.offsets[i]); } };` }), {
    workers: 2, env, libModule: LIB, batchSize: 50, maxInflightPerPartition: 3,
  });
  // Wait until reading stops: the same count three times in a row.
  let last = -1;
  for (let same = 0; same < 3; ) {
    await sleep(100);
    const now = read();
    same = now === last && now > 0 ? same + 1 : 0;
    last = now;
  }
  t.true(last <= 3 * 3 * 50, `read ${last} records with a stalled sink`);
  t.is(out.length, 0);
  run.stop();
  release();
  const summary = await run.done;
  t.is(out.length, summary.recordsIn);
  t.is(summary.recordsOut, summary.recordsIn);
});

test.serial('partitions move when the pool grows and shrinks mid-run: no loss, duplicate or reordering', async (t) => {
  const parts = orders(60_000, 8);
  let writes = 0;
  let resize: ((n: number) => Promise<void>) | undefined;
  const resizes: Promise<void>[] = [];
  const { env, out } = testEnv(parts, async () => {
    writes++;
    if (writes === 20) resizes.push(resize!(4));
    if (writes === 300) resizes.push(resize!(1));
  });
  const run = startPipeline(makePlan({ code: MAP_CHAIN }), { workers: 2, env, libModule: LIB, batchSize: 20 });
  resize = run.resize;
  const summary = await run.done;
  await Promise.all(resizes);
  t.deepEqual(lines(out), expectedMap(parts));
  t.is(summary.rebalances, 2);
  t.true(summary.moves.length >= 6, `moves: ${summary.moves.length}`);
  t.is(summary.workers.max, 4);
  t.is(summary.workers.final, 1);
});

test.serial('dedupe state moves with its partition', async (t) => {
  // Every 5th record repeats the id of the record 3 places earlier in the same partition.
  const parts = orders(20_000, 4, { duplicateEvery: 5 });
  const expected = new Map<number, unknown[]>();
  parts.forEach((list, p) => {
    const seen = new Set<string>();
    const rows: unknown[] = [];
    for (const r of list) {
      const v = r.value as { id: string; amount: number; n: number };
      if (seen.has(v.id)) continue;
      seen.add(v.id);
      rows.push({ id: v.id, cents: Math.round(v.amount * 100), n: v.n });
    }
    expected.set(p, rows);
  });
  let writes = 0;
  let resize: ((n: number) => Promise<void>) | undefined;
  const { env, out } = testEnv(parts, async () => {
    writes++;
    if (writes === 10) void resize!(4);
    if (writes === 200) void resize!(1);
  });
  const run = startPipeline(makePlan({ code: DEDUPE_CHAIN, stateful: true }), { workers: 2, env, libModule: LIB, batchSize: 7 });
  resize = run.resize;
  const summary = await run.done;
  t.true(summary.moves.length > 0);
  t.deepEqual(lines(out), expected);
});

test.serial('a crashed worker is detected; its partitions resume elsewhere from their acknowledged offsets', async (t) => {
  const parts = orders(40_000, 6);
  let writes = 0;
  let kill: (() => Promise<void>) | undefined;
  const events: string[] = [];
  const { env, out } = testEnv(parts, async () => {
    if (++writes === 50) void kill!();
  });
  const run = startPipeline(makePlan({ code: MAP_CHAIN }), {
    workers: 3, env, libModule: LIB, batchSize: 25,
    onEvent: (e) => events.push(e.type),
  });
  kill = () => run.killWorker(run.workerIds()[1]!);
  const summary = await run.done;
  t.is(summary.crashes, 1);
  t.true(events.includes('worker-crash'));
  // Nothing lost, nothing repeated, order kept: answers of the dead worker never reached a sink.
  t.deepEqual(lines(out), expectedMap(parts));
  t.is(summary.workers.final, 3);
});

test.serial('a chain failure (on error fail) stops the run with the operator and offset', async (t) => {
  const { env } = testEnv(orders(1000, 2));
  const code = `return function (b) { for (let i = 0; i < b.values.length; i++) if (b.values[i].n === 501) throw new lib.ChainFailure('division by zero', 's/1:select', b.offsets[i]); };`;
  const lib = `data:text/javascript,${encodeURIComponent(`export const stdlib = { ChainFailure: class extends Error { constructor(m, op, off) { super(m); this.operator = op; this.offset = off; } } };`)}`;
  const error = await t.throwsAsync(runPipeline(makePlan({ code }), { workers: 2, env, libModule: lib, batchSize: 100 }));
  t.regex(error!.message, /division by zero \(source orders, partition 1, offset 250, operator s\/1:select\)/);
  t.truthy(ChainFailure);
});

test.serial('a lib module that does not load fails the run', async (t) => {
  const { env } = testEnv(orders(10, 1));
  const error = await t.throwsAsync(runPipeline(makePlan({ code: MAP_CHAIN }), { workers: 1, env, libModule: new URL('./no-such-lib.ts', import.meta.url) }));
  t.regex(error!.message, /cannot build the worker with lib .*no-such-lib.ts/);
});

test.serial('a worker that throws outside a chain (an uncaught error) counts as a crash, and the run recovers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-crash-'));
  const marker = join(dir, 'crashed');
  const lib = join(dir, 'lib.mjs');
  // The first worker to call crashOnce() throws from a timer: no chain is running, nothing catches it.
  // Creating the marker exclusively ('wx') makes "first" atomic across the two worker threads.
  await writeFile(lib, `import { writeFileSync } from 'node:fs';
export const stdlib = { crashOnce() { try { writeFileSync(${JSON.stringify(marker)}, '', { flag: 'wx' }); } catch { return; } setTimeout(() => { throw new Error('boom'); }); } };`);
  const code = MAP_CHAIN.replace('return function chain(batch, out, rejected, ctx) {', 'return function chain(batch, out, rejected, ctx) {\n  if (batch.offsets[0] >= 500) lib.crashOnce();');
  const parts = orders(20_000, 4);
  const { env, out } = testEnv(parts);
  const summary = await runPipeline(makePlan({ code }), { workers: 2, env, libModule: pathToFileURL(lib), batchSize: 50 });
  t.is(summary.crashes, 1);
  t.deepEqual(lines(out), expectedMap(parts));
});
