// A source whose consumer group decides which partitions this process owns (as Kafka's does):
// only owned partitions are placed on worker threads, and the placement follows each change.
import test from 'ava';
import { ArraySource } from '../../connectors/array-source.ts';
import type { AssignmentChange, Connector, SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { createEnvironment } from '../../src/spi/environment.ts';
import { startPipeline, type PipelineEvent } from '../../runtime/index.ts';
import { expectedMap, LIB, lines, MAP_CHAIN, makePlan, orders, testEnv } from './helpers.ts';

/**
 * In-memory partitions shared by a "group", unbounded like a topic: a read waits for records until
 * `end()`, and a read of a partition this process does not own waits until it does, or ends once
 * another process read it to the end (`finishElsewhere`).
 */
function groupSource(parts: ReturnType<typeof orders>) {
  let ctx: SourceContext | undefined;
  const owned = new Set<number>();
  const wake: (() => void)[] = [];
  const inner = new ArraySource(parts);
  const done = parts.map(() => false);
  let ended = false;
  const reader: SourceReader = {
    partitions: parts.length,
    assignedPartitions: true,
    async read(p: number, max: number): Promise<SourceBatch | undefined> {
      for (;;) {
        if (owned.has(p)) {
          const b = await inner.read(p, max);
          if (b) return b;
        }
        // Checked right before waiting, with no await in between: a wake-up cannot slip past.
        if (ended || (!owned.has(p) && done[p])) return undefined;
        await new Promise<void>((r) => wake.push(r));
      }
    },
    backlog: (p) => inner.backlog(p),
    close: () => inner.close(),
  };
  const connector: Connector = {
    spec: { name: 'group', doc: 'test source with a consumer group', roles: ['source'], options: [] },
    runtime: {
      async openSource(c) {
        ctx = c;
        // A stopping run ends its reads, as a Kafka source does.
        c.signal.addEventListener('abort', () => end(), { once: true });
        // The group's first assignment arrives while the source opens, before the run has tasks.
        if (first) assign(first);
        return reader;
      },
    },
  };
  let first: number[] | undefined;
  /** The group hands this process `partitions` (what Kafka's onAssignment reports). */
  const assign = (partitions: number[]) => {
    if (!ctx) {
      first = partitions;
      return;
    }
    const change: AssignmentChange = {
      kept: [...owned].filter((p) => partitions.includes(p)),
      gained: partitions.filter((p) => !owned.has(p)),
      lost: [...owned].filter((p) => !partitions.includes(p)),
      pauseMs: 0,
    };
    owned.clear();
    for (const p of partitions) owned.add(p);
    ctx!.assigned?.(change);
    for (const w of wake.splice(0)) w();
  };
  /** Partitions another process read to the end: their reads here end. */
  const finishElsewhere = (partitions: number[]) => {
    for (const p of partitions) done[p] = true;
    for (const w of wake.splice(0)) w();
  };
  /** The topic ends: every read ends. */
  const end = () => {
    ended = true;
    for (const w of wake.splice(0)) w();
  };
  return { connector, assign, finishElsewhere, end };
}

test.serial('only partitions the group gives this process are placed on workers; the placement follows every change', async (t) => {
  const parts = orders(6000, 6);
  const group = groupSource(parts);
  const { env: base, out } = testEnv(parts);
  const env = createEnvironment([...base.connectors.values(), group.connector], base.workerModule);
  const events: PipelineEvent[] = [];
  const plan = makePlan({ code: MAP_CHAIN, source: { connector: 'group' } });
  group.assign([0, 1, 2]);
  const run = startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: 50, onEvent: (e) => events.push(e) });
  const placed = () => run.status().partitions.filter((p) => p.worker !== undefined).map((p) => p.partition);
  await until(() => run.status().state === 'running' && run.status().recordsOut > 0);
  t.deepEqual(placed(), [0, 1, 2], 'the partitions of other processes have no worker here');

  group.assign([0, 1, 2, 3, 4, 5]);
  await until(() => placed().length === 6);
  const perWorker = run.status().pool.map((w) => w.partitions).sort();
  t.deepEqual(perWorker, [3, 3], 'the gained partitions are spread over the pool');

  // Partitions 0–2 go to another process once this one has read them to the end (as Kafka drains before a rejoin).
  await until(() => [0, 1, 2].every((p) => run.status().partitions[p]!.backlog === 0 && out.filter((r) => r.partition === p).length === expectedMap(parts).get(p)!.length));
  group.assign([3, 4, 5]);
  await until(() => placed().length === 3);
  t.deepEqual(placed(), [3, 4, 5]);
  t.true(events.some((e) => e.type === 'rebalance' && e.released === 3), 'the lost partitions were taken off their workers');
  group.finishElsewhere([0, 1, 2]);
  await until(() => run.status().recordsOut === expectedMapCount(parts));
  group.end();

  const summary = await run.done;
  t.is(summary.recordsIn, 6000);
  t.deepEqual(lines(out), expectedMap(parts), 'every record once, in order per partition');
});

test.serial('a run stopped while it starts, owning some partitions, ends and leaves no interval running', async (t) => {
  const parts = orders(600, 6);
  const group = groupSource(parts);
  const { env: base } = testEnv(parts);
  const env = createEnvironment([...base.connectors.values(), group.connector], base.workerModule);
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  group.assign([0, 1, 2]);
  const run = startPipeline(makePlan({ code: MAP_CHAIN, source: { connector: 'group' } }), { workers: 2, env, libModule: LIB, statusIntervalMs: 50 });
  // Stopped before its workers are up: the partitions it does not own end in its first pumps, and the run with them.
  run.stop();
  const summary = await run.done;
  t.is(summary.recordsIn, 0);
  await new Promise((r) => setTimeout(r, 200));
  t.is(timers(), before, 'a status interval left behind would keep the process alive after the run');
});

/** How many records MAP_CHAIN lets through. */
function expectedMapCount(parts: ReturnType<typeof orders>): number {
  return [...expectedMap(parts).values()].reduce((n, rows) => n + rows.length, 0);
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
