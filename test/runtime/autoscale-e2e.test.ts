import test from 'ava';
import type { SourceBatch, SourceReader } from '../../src/spi/connector.ts';
import { startPipeline, type PipelineEvent } from '../../runtime/index.ts';
import type { ArrayRecord } from '../../connectors/array-source.ts';
import { busyChain, byPartition, LIB, makePlan, testEnv } from './helpers.ts';

const PARTITIONS = 8;
const PER_PARTITION = 1500;

/** A burst of records in every partition, then silence until `end()`: load rises, then falls. */
function burstThenIdle(parts: ArrayRecord[][]) {
  let ended!: () => void;
  const end = new Promise<void>((r) => (ended = r));
  const next = parts.map(() => 0);
  const reader: SourceReader = {
    partitions: parts.length,
    async read(p: number, max: number): Promise<SourceBatch | undefined> {
      const all = parts[p]!;
      if (next[p]! >= all.length) {
        await end;
        return undefined;
      }
      const slice = all.slice(next[p]!, next[p]! + max);
      const from = next[p]!;
      next[p] = from + slice.length;
      return { offsets: slice.map((_, i) => from + i), timestamps: slice.map((r) => r.timestamp), keys: slice.map((r) => r.key), values: slice.map((r) => r.value) };
    },
    backlog: (p) => parts[p]!.length - next[p]!,
    async close() {},
  };
  return { reader, end: ended };
}

test('autoscaling on real threads: load rises → pool grows → partitions move → load falls → pool shrinks; output exact', async (t) => {
  const parts: ArrayRecord[][] = Array.from({ length: PARTITIONS }, (_, p) =>
    Array.from({ length: PER_PARTITION }, (_, i) => {
      const n = i * PARTITIONS + p;
      return { key: `c${p}`, value: { id: `o${n}`, customer: `c${p}`, amount: n % 100, n }, timestamp: n };
    }));
  const source = burstThenIdle(parts);
  const { env, out } = testEnv(() => source.reader);
  const events: PipelineEvent[] = [];
  const run = startPipeline(makePlan({ code: busyChain(200) }), {
    workers: 'auto',
    env,
    libModule: LIB,
    batchSize: 50,
    statusIntervalMs: 200,
    autoscaler: {
      intervalMs: 300, cpuBudget: 4, maxWorkers: 4, targetWindowMs: 1000,
      scaleUpStabilizationMs: 600, stabilizationMs: 600, scaleDownCooldownMs: 1500,
    },
    onEvent: (e) => {
      events.push(e);
      // Once the pool has shrunk, the idle source ends and the run finishes.
      if (e.type === 'scale' && e.decision.action === 'down') source.end();
    },
  });
  const summary = await run.done;

  const decisions = events.flatMap((e) => (e.type === 'scale' ? [e.decision] : []));
  const firstUp = decisions.findIndex((d) => d.action === 'up');
  const firstDown = decisions.findIndex((d) => d.action === 'down');
  t.true(firstUp >= 0 && firstDown > firstUp, decisions.map((d) => `${d.action} ${d.from}→${d.to}: ${d.reason}`).join('\n'));
  t.is(decisions[firstUp]!.from, 2);
  t.true(summary.workers.max > 2);
  t.is(summary.workers.final, 2);
  const rebalances = events.filter((e) => e.type === 'rebalance' && e.reason !== 'start');
  t.true(rebalances.some((e) => e.type === 'rebalance' && /grew/.test(e.reason) && e.moves.length > 0));
  t.true(rebalances.some((e) => e.type === 'rebalance' && /shrank/.test(e.reason) && e.moves.length > 0));

  const expected = new Map(parts.map((list, p) => [p, list.map((r) => {
    const v = r.value as { id: string; amount: number; n: number };
    return { id: v.id, cents: v.amount * 100, n: v.n };
  })]));
  t.deepEqual(new Map([...byPartition(out)].map(([p, rows]) => [p, rows.map((r) => r.line)])), expected);
});
