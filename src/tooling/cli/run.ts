/**
 * `sensei run FILE`: compiles and runs a pipeline on the worker pool.
 *
 * Records go wherever the sinks write (often stdout), so everything the
 * command itself says (live status, summary, errors) goes to stderr. The
 * live status is one line rewritten in place, shown only on a terminal and
 * not when a stdout sink writes to that same terminal.
 */
import { ConnectionBudget, startPipeline } from '../../../runtime/index.ts';
import type { PipelineEvent, PipelineStatus, PipelineSummary } from '../../../runtime/index.ts';
import type { OutputFormat } from './choices.ts';
import { EXIT_FAILURE, EXIT_OK } from './io.ts';
import type { Io } from './io.ts';
import { compileToPlan } from './pipeline.ts';
import { builtinEnvironment } from '../../../connectors/registry.ts';

export interface RunCommandOptions {
  workers: number | 'auto';
  metricsJson?: string;
  format: OutputFormat;
  fromStart?: boolean;
  /** The run's PostgreSQL connection budget. */
  pgConnections: number;
  /** Where stateful operators keep their state across runs. */
  stateDir?: string;
  /** Each worker thread's heap limit, MB. */
  workerMemory: number;
}

export async function runCommand(path: string, opts: RunCommandOptions, io: Io): Promise<number> {
  const compiled = await compileToPlan(path, io);
  if (!compiled) return EXIT_FAILURE;
  const { plan } = compiled;
  const writesStdout = plan.sinks.some((s) => s.connector === 'stdout');
  const live = io.stderr.isTTY && !(writesStdout && io.stdout.isTTY);
  const columns = () => process.stderr.columns || 100;
  const clearLine = '\r\x1b[K';

  const run = startPipeline(plan, {
    env: builtinEnvironment(),
    workers: opts.workers,
    fromStart: opts.fromStart ?? false,
    workerMemoryMb: opts.workerMemory,
    ...(opts.stateDir === undefined ? {} : { stateDir: opts.stateDir }),
    connectionBudgets: [new ConnectionBudget('postgres', opts.pgConnections, '--pg-connections (SENSEI_PG_CONNECTIONS)')],
    ...(opts.metricsJson === undefined ? {} : { metricsJsonPath: opts.metricsJson }),
    ...(live ? { onStatus: (s: PipelineStatus) => io.stderr.write(clearLine + statusLine(s).slice(0, columns() - 1)) } : {}),
    onEvent: (e: PipelineEvent) => {
      if (e.type === 'resume') io.stderr.write(`${live ? clearLine : ''}${resumeLine(e)}\n`);
      // Outages are said even without a terminal: a run that waits must never look idle.
      else if (e.type === 'outage') io.stderr.write(`${live ? clearLine : ''}waiting for ${e.what} (retrying with backoff): ${e.error}\n`);
      else if (e.type === 'recovered') io.stderr.write(`${live ? clearLine : ''}${e.what} answers again after ${seconds(e.downMs)}\n`);
      else if (e.type === 'stalled') io.stderr.write(`${live ? clearLine : ''}source ${e.source} partition ${e.partition}: ${e.backlog} records waiting, none read for ${seconds(e.forMs)}\n`);
    },
  });

  // First Ctrl-C drains and finishes normally; a second one gives up at once.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(signal === 'SIGINT' ? 130 : 143);
    interrupted = true;
    io.stderr.write(`${live ? clearLine : ''}stopping: draining records in flight (${signal} again to quit now)\n`);
    run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await run.done;
    if (live) io.stderr.write(clearLine);
    io.stderr.write(opts.format === 'json' ? JSON.stringify(summary) + '\n' : summaryText(summary));
    return EXIT_OK;
  } catch (error) {
    if (live) io.stderr.write(clearLine);
    io.stderr.write(`error: pipeline ${plan.pipeline} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Why a re-run may write nothing: `resuming source orders after line 20000 of orders.jsonl: …; --from-start to write them again`. */
function resumeLine(e: Extract<PipelineEvent, { type: 'resume' }>): string {
  return `resuming source ${e.source} after ${e.position}: the ${e.connector} sink ${e.sink} holds the records up to there from an earlier run ` +
    `(positions in ${e.store}) and skips them; --from-start to write them again`;
}

/** `quickstart running 12s | in 50.0k/s out 49.8k/s | lag 1.2k | 4 workers, partitions 3/3/3/3 | 600k in 598k out` */
export function statusLine(s: PipelineStatus): string {
  const partitions = s.pool.map((w) => w.partitions).join('/');
  return [
    `${s.pipeline} ${s.state} ${seconds(s.elapsedMs)}`,
    `in ${count(s.inRate)}/s out ${count(s.outRate)}/s`,
    `lag ${count(s.backlog)}`,
    `${s.workers} worker${s.workers === 1 ? '' : 's'}${partitions ? `, partitions ${partitions}` : ''}`,
    `${count(s.recordsIn)} in ${count(s.recordsOut)} out${s.deadLetters > 0 ? ` ${count(s.deadLetters)} dead` : ''}`,
    ...stateParts(s),
    ...s.outages.map((o) => `waiting for ${o.what}: ${o.error}`),
  ].join(' | ');
}

/** With stateful partitions: their state entries, the watermark furthest behind, late records. */
function stateParts(s: PipelineStatus): string[] {
  const states = s.partitions.flatMap((p) => (p.state ? [p.state] : []));
  if (states.length === 0) return [];
  const entries = states.reduce((n, st) => n + Object.values(st.entries).reduce((a, b) => a + b, 0), 0);
  const lags = states.flatMap((st) => (st.watermarkLagMs === null ? [] : [st.watermarkLagMs]));
  const lag = lags.length === 0 ? '' : `, watermark ${seconds(Math.max(...lags))} behind`;
  return [`state ${count(entries)} entries${lag}${s.lateRecords > 0 ? `, ${count(s.lateRecords)} late` : ''}`];
}

export function summaryText(s: PipelineSummary): string {
  const lines = [
    `${s.pipeline}: done in ${seconds(s.durationMs)}: ${s.recordsIn} records in, ${s.recordsOut} out, ` +
      `${s.deadLetters} dead letters, ${s.skipped} skipped (${count(s.throughput)} records/s)`,
    `  sources: ${s.sources.map((x) => `${x.name} ${x.records}`).join(', ') || 'none'}`,
    `  sinks:   ${s.sinks.map((x) => `${x.stream} → ${x.connector} ${x.records}`).join(', ') || 'none'}`,
    `  workers: ${s.workers.initial} → ${s.workers.final} (max ${s.workers.max}), ` +
      `${s.rebalances} rebalance${s.rebalances === 1 ? '' : 's'}, ${s.crashes} crash${s.crashes === 1 ? '' : 'es'}`,
  ];
  return lines.join('\n') + '\n';
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** 950, 12.3k, 4.5M */
function count(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n));
  if (abs < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}
