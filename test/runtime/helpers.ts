/**
 * Test support for the runtime: plans with hand-written chains, an
 * in-memory source and a collecting sink registered into an explicit
 * environment, and a stalling sink for backpressure tests.
 */
import { PLAN_VERSION, type Plan, type PlanOperator, type PlanSink, type PlanSource } from '../../src/plan/plan.ts';
import { ArraySource, type ArrayRecord } from '../../connectors/array-source.ts';
import type { Connector, EncodedBatch, SinkWriter } from '../../src/spi/connector.ts';
import { builtinConnectors, builtinEnvironment } from '../../connectors/registry.ts';
import { createEnvironment } from '../../src/spi/environment.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type PipelineRun } from '../../runtime/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { compilePlan } from '../support/compile.ts';

export const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'n', type: 'long' },
  ],
};

export const OUT_SCHEMA = {
  type: 'record',
  name: 'Out',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'cents', type: 'long' },
    { name: 'n', type: 'long' },
  ],
};

/** select { id, cents: amount * 100, n } | where n % 7 != 3 — with `on error dead_letter` when amount < 0. */
export const MAP_CHAIN = `
return function chain(batch, out, rejected, ctx) {
  const o = out[0];
  for (let i = 0; i < batch.values.length; i++) {
    const r = batch.values[i];
    if (r.amount < 0) { rejected.push({ action: 'dead_letter', operator: 's/0:where', reason: 'negative amount', offset: batch.offsets[i], key: batch.keys[i], value: r }); continue; }
    if (r.n % 7 === 3) continue;
    o.keys.push(batch.keys[i]); o.values.push({ id: r.id, cents: Math.round(r.amount * 100), n: r.n }); o.offsets.push(batch.offsets[i]);
  }
};`;

/** dedupe by id with no time bound (a window longer than any run): the operator of `makePlan({ stateful: true })`. */
export const DEDUPE_OPERATOR: PlanOperator = {
  id: 's/0:dedupe',
  kind: 'dedupe',
  config: { withinMs: Number.MAX_SAFE_INTEGER },
  stores: [{ name: 'seen', keySchema: 'string', valueSchema: 'long' }],
};

/** The chain of that dedupe: the operator from the registry, called as generated chains call it. */
export const DEDUPE_CHAIN = `
return function chain(batch, out, rejected, ctx) {
  const dedupe = ctx.operators[0];
  const o = out[0];
  for (let i = 0; i < batch.values.length; i++) {
    const r = batch.values[i];
    if (!dedupe.admit(r.id, batch.timestamps[i])) continue;
    o.keys.push(batch.keys[i]); o.values.push({ id: r.id, cents: Math.round(r.amount * 100), n: r.n }); o.offsets.push(batch.offsets[i]);
  }
};`;

/** Burns about `spin` microseconds of CPU per record, so that load is measurable. */
export function busyChain(spinMicros: number): string {
  return `
return function chain(batch, out, rejected, ctx) {
  const o = out[0];
  for (let i = 0; i < batch.values.length; i++) {
    const r = batch.values[i];
    const until = performance.now() + ${spinMicros / 1000};
    while (performance.now() < until) {}
    o.keys.push(batch.keys[i]); o.values.push({ id: r.id, cents: Math.round(r.amount * 100), n: r.n }); o.offsets.push(batch.offsets[i]);
  }
};`;
}

export function makePlan(opts: { code: string; source?: Partial<PlanSource>; sink?: Partial<PlanSink>; stateful?: boolean; deadLetter?: Plan['deadLetter'] }): Plan {
  const source: PlanSource = { id: 'source:orders', name: 'orders', connector: 'memory', options: {}, schema: ORDER_SCHEMA, keySchema: 'string', ...opts.source };
  const sink: PlanSink = { id: 'sink:out:0', stream: 'out', connector: 'collect', options: {}, schema: OUT_SCHEMA, keySchema: 'string', ...opts.sink };
  return {
    version: PLAN_VERSION,
    pipeline: 'test',
    sources: [source],
    sinks: [sink],
    ...(opts.deadLetter ? { deadLetter: opts.deadLetter } : { deadLetter: { connector: 'collect', options: {} } }),
    chains: [{ source: source.id, sinks: [sink.id], operators: opts.stateful ? [DEDUPE_OPERATOR] : [], code: opts.code }],
    graph: { nodes: [], edges: [] },
  };
}

export interface Collected {
  /** The sink's id (`dead-letter` for dead letters). */
  sink: string;
  source: string;
  partition: number;
  offset: number;
  line: any;
}

/** Records of `count` orders spread by customer over `partitions` partitions (round robin by customer index). */
export function orders(count: number, partitions: number, opts: { negativeEvery?: number; duplicateEvery?: number } = {}): ArrayRecord[][] {
  const parts: ArrayRecord[][] = Array.from({ length: partitions }, () => []);
  for (let n = 0; n < count; n++) {
    const customer = `c${n % (partitions * 3)}`;
    const dup = opts.duplicateEvery && n % opts.duplicateEvery === opts.duplicateEvery - 1;
    const id = dup ? `o${n - partitions * 3}` : `o${n}`;
    const amount = opts.negativeEvery && n % opts.negativeEvery === 0 ? -1 : (n % 1000) / 4;
    parts[n % partitions]!.push({ key: customer, value: { id, customer, amount, n }, timestamp: n });
  }
  return parts;
}

export interface TestEnv {
  env: ReturnType<typeof createEnvironment>;
  out: Collected[];
  dead: Collected[];
  /** Offsets committed per partition, in commit order. */
  commits: Map<number, number[]>;
  /** Records handed out by the source so far. */
  read(): number;
}

/**
 * An environment with the built-ins plus `memory` (the given partitions),
 * `collect` (records into `out`, dead letters into `dead`) and `stall`
 * (a sink whose writes wait until `release()`).
 */
export function testEnv(records: ArrayRecord[][] | (() => import('../../src/spi/connector.ts').SourceReader), sinkDelay?: () => Promise<void>): TestEnv {
  const out: Collected[] = [];
  const dead: Collected[] = [];
  const commits = new Map<number, number[]>();
  let readCount = 0;
  const memory: Connector = {
    spec: { name: 'memory', doc: 'test source', roles: ['source'], options: [] },
    runtime: {
      async openSource() {
        const inner = typeof records === 'function' ? records() : new ArraySource(records);
        return {
          partitions: inner.partitions,
          async read(p, max) {
            const b = await inner.read(p, max);
            if (b) readCount += b.offsets.length;
            return b;
          },
          commit(p, offset) {
            const list = commits.get(p) ?? [];
            list.push(offset);
            commits.set(p, list);
          },
          backlog: (p) => inner.backlog?.(p) ?? 0,
          close: () => inner.close(),
        };
      },
    },
  };
  const collect: Connector = {
    spec: { name: 'collect', doc: 'test sink', roles: ['sink', 'dead-letter'], options: [] },
    runtime: {
      async openSink(ctx): Promise<SinkWriter> {
        const target = ctx.role === 'dead-letter' ? dead : out;
        return {
          format: 'json',
          async write(batch: EncodedBatch) {
            if (sinkDelay) await sinkDelay();
            const text = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength).toString('utf8');
            text.split('\n').filter(Boolean).forEach((l, i) => target.push({ sink: ctx.id, source: batch.source, partition: batch.partition, offset: batch.offsets[i]!, line: JSON.parse(l) }));
          },
          async close() {},
        };
      },
    },
  };
  const env = createEnvironment([...builtinConnectors(), memory, collect], builtinEnvironment().workerModule);
  return { env, out, dead, commits, read: () => readCount };
}

/** The lib handed to hand-written chains: the real one. */
export const LIB = new URL('../../runtime/stdlib.ts', import.meta.url).href;

/** Output records grouped by partition (partitions in ascending order), records in arrival order. */
export function byPartition(records: Collected[]): Map<number, Collected[]> {
  const m = new Map<number, Collected[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition)) {
    const list = m.get(r.partition) ?? [];
    list.push(r);
    m.set(r.partition, list);
  }
  return m;
}

/** The output lines by partition, in arrival order: what `expectedMap` predicts. */
export function lines(rows: Collected[]): Map<number, unknown[]> {
  return new Map([...byPartition(rows)].map(([p, list]) => [p, list.map((r) => r.line)]));
}

/** What MAP_CHAIN must output for `parts`, per partition, in order. */
export function expectedMap(parts: ArrayRecord[][]): Map<number, { id: string; cents: number; n: number }[]> {
  const m = new Map<number, { id: string; cents: number; n: number }[]>();
  parts.forEach((list, p) => {
    const rows = list
      .map((r) => r.value as { id: string; amount: number; n: number })
      .filter((v) => v.amount >= 0 && v.n % 7 !== 3)
      .map((v) => ({ id: v.id, cents: Math.round(v.amount * 100), n: v.n }));
    if (rows.length) m.set(p, rows);
  });
  return m;
}

/**
 * Runs a pipeline on 2 workers over JSON lines in a file: IN, OUT and DEAD in its text name the input,
 * output and dead-letter files. Returns the output and dead-letter lines as written.
 */
export async function runOnLines(text: string, input: string[]): Promise<{ out: string[]; letters: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-lines-'));
  try {
    const [inPath, outPath, deadPath] = ['in.jsonl', 'out.jsonl', 'dead.jsonl'].map((f) => join(dir, f));
    await writeFile(inPath!, input.join('\n') + '\n');
    const plan = compilePlan(text.replace('IN', JSON.stringify(inPath)).replace('OUT', JSON.stringify(outPath)).replace('DEAD', JSON.stringify(deadPath)));
    await runPipeline(plan, { env: builtinEnvironment(), workers: 2 });
    const read = async (f: string) => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return { out: await read(outPath!), letters: await read(deadPath!) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Until the run finishes, a new pool size every 100 ms (1, 3, 2, …), queued behind the resizes still running; resolves with how many were done. */
export async function resizeEvery100ms(run: PipelineRun, finished: () => boolean): Promise<number> {
  let resizes = 0;
  const pending: Promise<void>[] = [];
  for (let n = 0; !finished(); n++) {
    await sleep(100);
    if (finished()) break;
    pending.push(run.resize([1, 3, 2][n % 3]!).then(() => void resizes++));
  }
  await Promise.allSettled(pending);
  return resizes;
}

/** Up to three worker threads killed, 150 ms apart, while the run lasts; resolves with how many were. */
export async function killWorkers(run: PipelineRun, finished: () => boolean): Promise<number> {
  let kills = 0;
  for (let n = 0; n < 3 && !finished(); n++) {
    await sleep(150);
    const [id] = run.workerIds();
    if (id === undefined || finished()) break;
    await run.killWorker(id);
    kills++;
  }
  return kills;
}
