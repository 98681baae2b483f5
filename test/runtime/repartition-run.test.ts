// Repartitioning in a real run (worker threads, the in-process exchange, the
// coordinator's state log): records keyed over every partition, grouped by a
// field they are not partitioned by. The results must equal a plain loop over
// all records, whatever the pool does meanwhile.
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPipeline, type PipelineRun } from '../../runtime/index.ts';
import { ArraySource, type ArrayRecord } from '../../connectors/array-source.ts';
import { compilePlan } from '../support/compile.ts';
import { random } from './window-reference.ts';
import { killWorkers, LIB, resizeEvery100ms, testEnv } from './helpers.ts';

const PARTITIONS = 4;
const PER_PARTITION = 2500;
const BASE = Date.UTC(2024, 4, 1);

const PIPELINE = `
pipeline repartition
schema Event { key: string, v: long, at: timestamp_millis }
source events: Event from datagen { partitions: ${PARTITIONS} } event time at lateness 5s
stream totals = events
  | window tumbling 10s
  | group by key { n: count(), total: sum(v) }
sink totals to stdout { format: json }
`;

interface Event { key: string; v: number; at: number }

/** Each partition's events drift forward, a little out of order (less than the lateness, so none is late); every key is in every partition. */
function partitions(): ArrayRecord[][] {
  const rnd = random(11);
  return Array.from({ length: PARTITIONS }, () => Array.from({ length: PER_PARTITION }, (_, i): ArrayRecord => ({
    key: null,
    value: { key: 'abcdefgh'[Math.floor(rnd() * 8)]!, v: Math.floor(rnd() * 100), at: BASE + i * 100 - Math.floor(rnd() * 3000) } satisfies Event,
    timestamp: i,
  })));
}

/** The reference: a plain loop over every record of every partition. */
function reference(parts: ArrayRecord[][]): string[] {
  const windows = new Map<string, { key: string; start: number; n: number; total: number }>();
  for (const e of parts.flat().map((r) => r.value as Event)) {
    const start = Math.floor(e.at / 10_000) * 10_000;
    const id = `${e.key}@${start}`;
    const w = windows.get(id) ?? { key: e.key, start, n: 0, total: 0 };
    w.n++;
    w.total += e.v;
    windows.set(id, w);
  }
  return [...windows.values()].map((w) => `${w.key} ${w.start} ${w.n} ${w.total}`).sort();
}

async function runRepartitioned(t: ExecutionContext, disturb: (run: PipelineRun, finished: () => boolean) => Promise<void>): Promise<void> {
  const parts = partitions();
  // A source that takes its time, so that the run lasts long enough to be disturbed mid-window.
  const { env, out } = testEnv(() => {
    const inner = new ArraySource(parts);
    return { partitions: inner.partitions, read: async (p, max) => (await sleep(8), inner.read(p, max)), close: () => inner.close() };
  });
  const plan = compilePlan(PIPELINE);
  t.deepEqual(plan.sources.map((s) => s.name), ['events', 'totals-repartition'], 'the group reads an exchange');
  plan.sources[0]!.connector = 'memory';
  plan.sources[0]!.options = {};
  for (const s of plan.sinks) if (!s.exchange) Object.assign(s, { connector: 'collect', options: {} });
  plan.deadLetter = { connector: 'collect', options: {} };
  const run = startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: 50, maxWorkerCrashes: 100 });
  let finished = false;
  const disturbing = (async () => {
    while (run.status().state === 'starting') await sleep(10);
    await disturb(run, () => finished);
  })();
  const summary = await run.done.finally(() => (finished = true));
  await disturbing;
  t.is(summary.recordsIn, PARTITIONS * PER_PARTITION, 'records in counts the source, not the exchange');
  // Every partition reports its event time: the source's (which only feed the exchange, and keep no state) and the exchange's.
  const reported = run.status().partitions.map((p) => `${p.source} ${p.state ? Object.keys(p.state.entries).join(',') || 'no state' : 'nothing'}`);
  t.deepEqual(reported, [...Array(PARTITIONS).fill('events no state'), ...Array(PARTITIONS).fill('totals-repartition totals/1:aggregate')]);
  t.is(run.status().lateRecords, 0);
  const got = out.map((r) => {
    const row = r.line as { key: string; window_start: string; n: number; total: number };
    return `${row.key} ${Date.parse(row.window_start)} ${row.n} ${row.total}`;
  }).sort();
  const want = reference(parts);
  t.true(want.length > 100, `${want.length} windows`);
  t.deepEqual(got, want);
}

test.serial('a group by a field the records are not partitioned by: every window once, with every partition\'s records', async (t) => {
  await runRepartitioned(t, async () => {});
});

test.serial('repartitioned, with the pool resized every 100 ms: every window once, as the reference has it', async (t) => {
  let resizes = 0;
  await runRepartitioned(t, async (run, finished) => void (resizes = await resizeEvery100ms(run, finished)));
  t.true(resizes >= 3, `${resizes} resizes during the run`);
});

test.serial('repartitioned, with worker threads killed mid-window: every window once, as the reference has it', async (t) => {
  let kills = 0;
  await runRepartitioned(t, async (run, finished) => void (kills = await killWorkers(run, finished)));
  t.true(kills >= 2, `${kills} workers killed during the run`);
});

test.serial('a source partition without records stops holding the repartitioned groups back once it is idle', async (t) => {
  const parts = partitions();
  // Partition 3 never has a record and never ends: only its idle time lets the windows close.
  const quiet = PARTITIONS - 1;
  let release: () => void = () => {};
  const stopped = new Promise<undefined>((resolve) => (release = () => resolve(undefined)));
  const { env, out } = testEnv(() => {
    const inner = new ArraySource(parts.map((p, i) => (i === quiet ? [] : p)));
    return { partitions: inner.partitions, read: (p, max) => (p === quiet ? stopped : inner.read(p, max)), close: () => inner.close() };
  });
  const plan = compilePlan(PIPELINE.replace('lateness 5s', 'lateness 5s idle 500ms'));
  plan.sources[0]!.connector = 'memory';
  plan.sources[0]!.options = {};
  for (const s of plan.sinks) if (!s.exchange) Object.assign(s, { connector: 'collect', options: {} });
  plan.deadLetter = { connector: 'collect', options: {} };
  const run = startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: 50 });
  const want = reference(parts.map((p, i) => (i === quiet ? [] : p)));
  const rows = () => out.map((r) => {
    const row = r.line as { key: string; window_start: string; n: number; total: number };
    return `${row.key} ${Date.parse(row.window_start)} ${row.n} ${row.total}`;
  }).sort();
  // The other partitions end (their ends reach every exchange partition); the quiet one goes idle.
  for (let waited = 0; rows().length < want.length && waited < 30_000; waited += 50) await sleep(50);
  t.is(run.status().state, 'running', 'the input has not ended');
  t.deepEqual(rows(), want, 'every window closed, with every record, while the quiet partition still held nothing');
  run.stop();
  release();
  await run.done;
});

test.serial('a dedupe by a field the records are not partitioned by: each key once, though every partition has it', async (t) => {
  // Every partition holds the same 200 keys, several times each.
  const parts = Array.from({ length: PARTITIONS }, (_, p) => Array.from({ length: 1000 }, (_, i): ArrayRecord => ({
    key: null, value: { key: `k${(i * 7 + p) % 200}`, v: i, at: BASE + i * 100 } satisfies Event, timestamp: i,
  })));
  const { env, out } = testEnv(parts);
  const plan = compilePlan(`
pipeline dedupe_repartition
schema Event { key: string, v: long, at: timestamp_millis }
source events: Event from datagen { partitions: ${PARTITIONS} } event time at
stream once = events | dedupe by key within 1h
sink once to stdout { format: json }
`);
  t.deepEqual(plan.sources.map((s) => s.name), ['events', 'once-repartition']);
  plan.sources[0]!.connector = 'memory';
  plan.sources[0]!.options = {};
  for (const s of plan.sinks) if (!s.exchange) Object.assign(s, { connector: 'collect', options: {} });
  plan.deadLetter = { connector: 'collect', options: {} };
  const summary = await startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: 50 }).done;
  t.is(summary.recordsIn, PARTITIONS * 1000);
  const keys = out.map((r) => (r.line as Event).key).sort();
  t.deepEqual(keys, Array.from({ length: 200 }, (_, i) => `k${i}`).sort(), 'each key once');
});
