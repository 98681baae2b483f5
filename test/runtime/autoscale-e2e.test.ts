import test from 'ava';
import type { SourceBatch, SourceReader } from '../../src/spi/connector.ts';
import { startPipeline, type PipelineEvent } from '../../runtime/index.ts';
import type { ArrayRecord } from '../../connectors/array-source.ts';
import { busyChain, byPartition, LIB, makePlan, testEnv } from './helpers.ts';

const PARTITIONS = 8;

function record(p: number, i: number): ArrayRecord {
  const n = i * PARTITIONS + p;
  return { key: `c${p}`, value: { id: `o${n}`, customer: `c${p}`, amount: n % 100, n }, timestamp: n };
}

/**
 * Records in every partition for as long as the load has to last (until `enough()`: the pool has grown,
 * however fast this machine is), then silence until `end()`: load rises, then falls.
 */
function burstThenIdle() {
  let ended!: () => void;
  const end = new Promise<void>((r) => (ended = r));
  let bursting = true;
  const next: number[] = new Array(PARTITIONS).fill(0);
  const reader: SourceReader = {
    partitions: PARTITIONS,
    async read(p: number, max: number): Promise<SourceBatch | undefined> {
      if (!bursting) {
        await end;
        return undefined;
      }
      const from = next[p]!;
      const slice = Array.from({ length: max }, (_, i) => record(p, from + i));
      next[p] = from + slice.length;
      return { offsets: slice.map((_, i) => from + i), timestamps: slice.map((r) => r.timestamp), keys: slice.map((r) => r.key), values: slice.map((r) => r.value) };
    },
    backlog: () => (bursting ? 10_000 : 0),
    async close() {},
  };
  return { reader, enough: () => (bursting = false), end: ended, produced: () => [...next] };
}

test('autoscaling on real threads: load rises → pool grows → partitions move → load falls → pool shrinks; output exact', async (t) => {
  const source = burstThenIdle();
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
      // Once the pool has grown the burst stops; once it has shrunk (its partitions moved off the
      // leaving workers, not merely decided), the idle source ends and the run finishes.
      if (e.type === 'scale' && e.decision.action === 'up') source.enough();
      if (e.type === 'rebalance' && /shrank/.test(e.reason)) source.end();
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

  const expected = new Map(source.produced().map((count, p) => [p, Array.from({ length: count }, (_, i) => {
    const v = record(p, i).value as { id: string; amount: number; n: number };
    return { id: v.id, cents: v.amount * 100, n: v.n };
  })]));
  t.deepEqual(new Map([...byPartition(out)].map(([p, rows]) => [p, rows.map((r) => r.line)])), expected);
});
