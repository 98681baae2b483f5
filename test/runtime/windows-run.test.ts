// Windowed aggregation in a real run (worker threads, the coordinator's
// state log), against the plain-loop reference: the pool resized every
// 100 ms, and worker threads killed mid-window. Each partition's windows
// must come out exactly once, with exactly the reference's values.
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPipeline, type PipelineRun } from '../../runtime/index.ts';
import type { ArrayRecord } from '../../connectors/array-source.ts';
import { compilePlan } from '../support/compile.ts';
import { canonical, events, PIPELINE, random, reference, SHAPES, type Event, type Row, type Shape } from './window-reference.ts';
import { killWorkers, LIB, resizeEvery100ms, testEnv } from './helpers.ts';

const PARTITIONS = 3;
const BATCH = 20;

/** The reference of every shape, and its late records: each task aggregates its own partition, BATCH records at a time (the run's batches). */
function expected(parts: ArrayRecord[][]): { rows: Record<Shape, string[]>; late: number } {
  const rows = {} as Record<Shape, string[]>;
  let late = 0;
  for (const shape of Object.keys(SHAPES) as Shape[]) {
    rows[shape] = canonical(parts.flatMap((records) => {
      const input = records.map((r) => r.value as Event);
      const batches = Array.from({ length: Math.ceil(input.length / BATCH) }, (_, i): [number, number] => [i * BATCH, Math.min(input.length, (i + 1) * BATCH)]);
      const ref = reference(shape, input, batches);
      late += ref.late;
      return ref.rows;
    }));
  }
  return { rows, late };
}

async function runWindowed(t: ExecutionContext, disturb: (run: PipelineRun, finished: () => boolean) => Promise<void>): Promise<void> {
  const rnd = random(7);
  const parts = Array.from({ length: PARTITIONS }, () => events(3000, rnd).map((value, i): ArrayRecord => ({ key: null, value, timestamp: i })));
  // A sink that takes its time, so that the run lasts long enough to be disturbed mid-window.
  const { env, out } = testEnv(parts, () => sleep(4));
  const plan = compilePlan(PIPELINE);
  plan.sources[0]!.connector = 'memory';
  plan.sources[0]!.options = {};
  for (const s of plan.sinks) Object.assign(s, { connector: 'collect', options: {} });
  plan.deadLetter = { connector: 'collect', options: {} };
  const run = startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: BATCH, maxWorkerCrashes: 100 });
  let finished = false;
  // Disturbed once it runs: mid-window, not while its workers start.
  const disturbing = (async () => {
    while (run.status().state === 'starting') await sleep(10);
    await disturb(run, () => finished);
  })();
  await run.done.finally(() => (finished = true));
  await disturbing;
  const { rows: want, late } = expected(parts);
  // Each late record counts once per window shape that found it late.
  t.is(run.status().lateRecords, late, 'late records, as the status counts them');
  for (const shape of Object.keys(SHAPES) as Shape[]) {
    const sink = plan.sinks.find((s) => s.stream === shape)!.id;
    const got = out.filter((r) => r.sink === sink).map((r): Row => {
      const line = r.line as Row & { window_start: string; window_end: string };
      return { ...line, window_start: Date.parse(line.window_start), window_end: Date.parse(line.window_end) };
    });
    t.true(want[shape].length > 50, `${shape}: many windows`);
    t.deepEqual(canonical(got), want[shape], shape);
  }
}

test.serial('the pool resized every 100 ms during a windowed run: every window once, as the reference has it', async (t) => {
  let resizes = 0;
  await runWindowed(t, async (run, finished) => void (resizes = await resizeEvery100ms(run, finished)));
  t.true(resizes >= 3, `${resizes} resizes during the run`);
});

test.serial('worker threads killed mid-window: the next owner starts from the kept state, every window once', async (t) => {
  let kills = 0;
  await runWindowed(t, async (run, finished) => void (kills = await killWorkers(run, finished)));
  t.true(kills >= 2, `${kills} workers killed during the run`);
});
