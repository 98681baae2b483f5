/**
 * `npm run bench`: the engine against a hand-written loop, and the cost of
 * moving partitions. Prints a table and writes JSON to bench/results/.
 *
 *   npm run bench                       full run
 *   npm run bench -- --quick            fewer rows and repetitions
 *   npm run bench -- --only throughput  some sections: transfers, throughput, pauses, state, lsp, kafka, windows, postgres, lookup
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { startPipeline, type MoveReport, type PipelineEvent } from '../runtime/index.ts';
import { measureTransfers, type TransferResult } from './transfer.ts';
import { benchKafka, kafkaTable } from './kafka.ts';
import { benchKafkaWindowsApart, windowsTable } from './kafka-windows.ts';
import { benchState, stateTable } from './state.ts';
import { benchLookup } from './lookup.ts';
import { benchLsp } from './lsp.ts';
import { benchPostgres } from './postgres.ts';
import { benchEnvironment, benchPlan, generateRows, handLoop, type RowSize } from './workload.ts';

const quick = process.argv.includes('--quick');
const SECTIONS = ['transfers', 'throughput', 'pauses', 'state', 'lsp', 'kafka', 'windows', 'postgres', 'lookup'] as const;
const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--only' ? a.split(',') : []));
const unknownSection = only.find((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknownSection !== undefined) throw new Error(`--only: no section ${unknownSection} (sections: ${SECTIONS.join(', ')})`);
const runs = (section: (typeof SECTIONS)[number]) => only.length === 0 || only.includes(section);
const REPS = quick ? 1 : 5;
const ROWS: Record<RowSize, number> = quick ? { small: 100_000, large: 20_000, wide: 50_000 } : { small: 600_000, large: 120_000, wide: 300_000 };
const PARTITIONS = 8;

interface Throughput {
  size: RowSize;
  rows: number;
  avgBytes: number;
  /** Best of the repetitions: on a shared machine the best run is the one least disturbed. */
  baseline: number;
  engine: Record<number, number>;
  /** CPU time per record, all threads of the process: the engine's overhead, whatever the load. */
  cpuMicrosPerRecord: { baseline: number; engine: Record<number, number> };
  /** Worker start-up (spawn → all partitions assigned), not counted in the engine's rate. */
  startupMs: Record<number, number>;
  outputRecords: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpuMicros(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** decode → map → encode in one plain loop with avsc: what a hand-written consumer would do. */
function baseline(size: RowSize, all: Buffer[]): { rate: number; cpu: number; records: number; bytes: number } {
  const loop = handLoop(size, benchPlan(size));
  const cpu = process.cpuUsage();
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  for (const buf of all) {
    const out = loop(buf);
    if (out === undefined) continue;
    bytes += out.length;
    records++;
  }
  return { rate: all.length / ((performance.now() - started) / 1000), cpu: cpuMicros(cpu) / all.length, records, bytes };
}

async function engine(size: RowSize, workers: number, parts: ReturnType<typeof generateRows>['parts'], rows: number) {
  const counter = { records: 0, bytes: 0 };
  const t0 = performance.now();
  let running = 0;
  let cpu = process.cpuUsage();
  const run = startPipeline(benchPlan(size), {
    workers,
    env: benchEnvironment(parts, counter),
    onEvent: (e) => {
      if (e.type === 'rebalance' && e.reason === 'start') {
        running = performance.now();
        cpu = process.cpuUsage();
      }
    },
  });
  await run.done;
  const end = performance.now();
  return { rate: rows / ((end - running) / 1000), cpu: cpuMicros(cpu) / rows, startupMs: running - t0, ...counter };
}

async function throughput(size: RowSize): Promise<Throughput> {
  const rows = ROWS[size];
  const data = generateRows(size, rows, PARTITIONS);
  const base = [];
  for (let i = 0; i < REPS; i++) base.push(baseline(size, data.all));
  const result: Throughput = {
    size, rows, avgBytes: Math.round(data.bytes / rows),
    baseline: Math.max(...base.map((b) => b.rate)), engine: {},
    cpuMicrosPerRecord: { baseline: Math.min(...base.map((b) => b.cpu)), engine: {} },
    startupMs: {}, outputRecords: base[0]!.records,
  };
  for (const workers of [1, 2]) {
    const runs = [];
    for (let i = 0; i < REPS; i++) {
      const r = await engine(size, workers, data.parts, rows);
      // The engine must write exactly what the hand-written loop writes.
      if (r.records !== base[0]!.records || r.bytes !== base[0]!.bytes) {
        throw new Error(`engine wrote ${r.records} records / ${r.bytes} bytes, baseline ${base[0]!.records} / ${base[0]!.bytes}`);
      }
      runs.push(r);
    }
    result.engine[workers] = Math.max(...runs.map((r) => r.rate));
    result.cpuMicrosPerRecord.engine[workers] = Math.min(...runs.map((r) => r.cpu));
    result.startupMs[workers] = median(runs.map((r) => r.startupMs));
  }
  return result;
}

interface Pauses {
  rebalances: number;
  /** Stop dispatch → resumed on the new worker. */
  moving: { count: number; p50: number; p99: number; max: number };
  /** Longest interval between two results of a partition that did not move, during a rebalance. */
  nonMovingGap: { p50: number; p99: number; max: number };
  /** The average interval between two results of one partition over the run, for comparison. */
  resultIntervalMs: number;
}

/** Grows and shrinks the pool (2 ↔ 3 workers) while rows flow; measures how long partitions stop. */
async function pauses(): Promise<Pauses> {
  const rows = quick ? 300_000 : 1_500_000;
  const batchSize = 500;
  const data = generateRows('small', rows, PARTITIONS);
  const moves: MoveReport[] = [];
  const gaps: number[] = [];
  const run = startPipeline(benchPlan('small'), {
    workers: 2,
    batchSize,
    env: benchEnvironment(data.parts, { records: 0, bytes: 0 }),
    onEvent: (e: PipelineEvent) => {
      if (e.type === 'rebalance' && e.reason !== 'start') {
        moves.push(...e.moves);
        gaps.push(e.nonMovingMaxGapMs);
      }
    },
  });
  let finished = false;
  void run.done.then(() => (finished = true));
  for (let i = 0; i < (quick ? 5 : 15) && !finished; i++) {
    await sleep(100);
    await run.resize(3);
    await sleep(100);
    await run.resize(2);
  }
  const summary = await run.done;
  const movingPauses = moves.map((m) => m.pauseMs);
  return {
    rebalances: gaps.length,
    moving: { count: movingPauses.length, p50: percentile(movingPauses, 50), p99: percentile(movingPauses, 99), max: Math.max(...movingPauses) },
    nonMovingGap: { p50: percentile(gaps, 50), p99: percentile(gaps, 99), max: Math.max(...gaps) },
    resultIntervalMs: (batchSize * PARTITIONS) / (summary.recordsIn / (summary.durationMs / 1000)) * 1000,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const fmt = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));

async function main(): Promise<void> {
  const machine = {
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg()[0]!.toFixed(1),
  };
  console.log(`Sensei benchmark — ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, load ${machine.loadAverage}${quick ? ', quick' : ''}\n`);

  const transfers: TransferResult[] = runs('transfers') ? await measureTransfers(quick) : [];
  if (runs('transfers')) {
    console.log('Records into a worker (1000-record batches): main-thread cost and end-to-end rate');
    console.log('| method | row | main thread µs/batch | records/s |');
    console.log('|---|---|---:|---:|');
    for (const r of transfers) console.log(`| ${r.method} | ${r.size} | ${r.mainMicrosPerBatch.toFixed(0)} | ${fmt(r.recordsPerSec)} |`);
  }

  const results: Throughput[] = [];
  if (runs('throughput')) {
    for (const size of ['small', 'large', 'wide'] as const) results.push(await throughput(size));
    console.log(`\nThroughput: decode Avro → where → select (10 fields) → encode Avro (best of ${REPS})`);
    console.log('| row | rows | baseline rec/s | 1 worker rec/s | ratio | 2 workers rec/s | ratio | CPU µs/record: baseline / 1 / 2 workers | worker start-up |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const cpu = r.cpuMicrosPerRecord;
      console.log(`| ~${r.avgBytes} B${r.size === 'wide' ? ' (ids past 2^53, decimal(38, 10); exact hand loop)' : ''} | ${fmt(r.rows)} | ${fmt(r.baseline)} | ${fmt(r.engine[1]!)} | ${(r.engine[1]! / r.baseline).toFixed(2)}× | ${fmt(r.engine[2]!)} | ${(r.engine[2]! / r.baseline).toFixed(2)}× | ${cpu.baseline.toFixed(1)} / ${cpu.engine[1]!.toFixed(1)} / ${cpu.engine[2]!.toFixed(1)} | ${Math.round(r.startupMs[1]!)} / ${Math.round(r.startupMs[2]!)} ms |`);
    }
  }

  const p = runs('pauses') ? await pauses() : undefined;
  if (p) {
    console.log(`\nRebalance pauses (2 ↔ 3 workers, ${p.rebalances} rebalances, ${p.moving.count} moves)`);
    console.log('| partitions | p50 | p99 | max |');
    console.log('|---|---:|---:|---:|');
    console.log(`| moving: stopped (stop dispatch → resumed on the new worker) | ${p.moving.p50.toFixed(1)} ms | ${p.moving.p99.toFixed(1)} ms | ${p.moving.max.toFixed(1)} ms |`);
    console.log(`| non-moving: stopped | 0 ms | 0 ms | 0 ms |`);
    console.log(`| non-moving: longest gap between results during a rebalance | ${p.nonMovingGap.p50.toFixed(1)} ms | ${p.nonMovingGap.p99.toFixed(1)} ms | ${p.nonMovingGap.max.toFixed(1)} ms |`);
    console.log(`(average interval between two results of one partition over the run: ${p.resultIntervalMs.toFixed(1)} ms)`);
  }

  const state = runs('state') ? await benchState({ quick }) : undefined;
  if (state) console.log(`\n${stateTable(state)}`);

  const lsp = runs('lsp') ? await benchLsp() : undefined;
  if (lsp) {
    console.log(`\nLanguage server: re-check after an edit of a ${lsp.lines}-line file (${lsp.edits} edits)`);
    console.log('| median | p90 | median CPU | target | hover median | completion median |');
    console.log('|---:|---:|---:|---:|---:|---:|');
    console.log(`| ${lsp.recheckMedianMs.toFixed(1)} ms | ${lsp.recheckP90Ms.toFixed(1)} ms | ${lsp.recheckCpuMedianMs.toFixed(1)} ms | < ${lsp.targetMs} ms | ${lsp.hoverMedianMs.toFixed(1)} ms | ${lsp.completionMedianMs.toFixed(1)} ms |`);
  }

  // Kafka and PostgreSQL run against the local services that `scripts/bench` starts.
  const kafka = runs('kafka') ? await benchKafka({ quick }) : undefined;
  if (kafka) console.log(`\n${kafkaTable(kafka)}`);
  const windows = runs('windows') ? benchKafkaWindowsApart({ quick }) : undefined;
  if (windows) console.log(`\n${windowsTable(windows)}`);
  if (runs('postgres')) console.log('\nPostgreSQL delivery');
  const postgres = runs('postgres') ? await benchPostgres({ quick }) : undefined;
  console.log('');
  const lookup = runs('lookup') ? await benchLookup({ quick }) : undefined;

  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ machine, quick, transfers, throughput: results, pauses: p, state, lsp, kafka, windows, postgres, lookup }, null, 2));
  console.log(`\nwritten ${file.pathname}`);
}

await main();
