/**
 * What the run reports: the status (rates and utilization over the last
 * interval, per source, sink, worker and partition), each task's smoothed
 * load for the assignment, the summary at the end, and the metrics file.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { ScaleDecision } from '../cluster/autoscaler.ts';
import type { RunContext } from './context.ts';
import type { DataPath } from './data-path.ts';
import type { Placement } from './placement.ts';
import type { Sink, Task } from './tasks.ts';
import type { PartitionStateStatus, PipelineStatus, PipelineSummary } from './run.ts';

export class StatusBoard {
  private tick = { at: performance.now(), recordsIn: 0, recordsOut: 0, busy: new Map<number, number>(), records: new Map<number, number>() };
  private last: PipelineStatus | undefined;
  /** The autoscaler's decisions: every one that changed the pool, and the latest. */
  readonly decisions: ScaleDecision[] = [];
  lastDecision: ScaleDecision | undefined;
  /** Per owned task: its records in when they last moved (or its backlog was empty), and whether it was reported stalled. */
  private readonly progress = new Map<Task, { recordsIn: number; since: number; stalled: boolean }>();

  constructor(
    private readonly run: RunContext,
    private readonly data: DataPath,
    private readonly placement: Placement,
  ) {}

  /** The status of the last interval (computed now before the first one ends). */
  current(): PipelineStatus {
    return this.last ?? this.compute();
  }

  /** Ends an interval: a fresh status, task loads smoothed, `onStatus` and the metrics file. */
  onInterval(): void {
    const run = this.run;
    const now = performance.now();
    const dt = Math.max(1, now - this.tick.at) / 1000;
    this.watchProgress(now);
    this.last = this.compute();
    for (const t of run.tasks) {
      // Busy ms per second, smoothed over a few intervals.
      t.load = 0.5 * t.load + 0.5 * ((t.busyMs - t.busyAtLastTick) / dt);
      t.busyAtLastTick = t.busyMs;
    }
    const workers = [...run.workers.values()];
    this.tick = {
      at: now,
      recordsIn: run.counts.recordsIn,
      recordsOut: run.counts.recordsOut,
      busy: new Map(workers.map((w) => [w.id, w.busyMs])),
      records: new Map(workers.map((w) => [w.id, w.records])),
    };
    run.options.onStatus?.(this.last);
    if (run.options.metricsJsonPath) void this.writeMetrics({ status: this.last });
  }

  /**
   * A partition with records waiting that reads none for `stallAfterMs` is
   * stalled: said once (an event and the status), and again when it moves.
   * Whatever holds it (a server away, a consumer that stopped fetching), a
   * run must never look healthy while it reads nothing.
   */
  private watchProgress(now: number): void {
    const stallAfterMs = this.run.options.stallAfterMs ?? 60_000;
    for (const t of this.run.tasks) {
      const seen = this.progress.get(t);
      const waiting = t.owned && !t.exhausted && (t.source.reader.backlog?.(t.partition) ?? 0) > 0;
      if (!seen || !waiting || t.recordsIn !== seen.recordsIn) {
        if (seen?.stalled) this.run.options.onEvent?.({ type: 'flowing', source: t.source.plan.name, partition: t.partition, stalledMs: now - seen.since });
        this.progress.set(t, { recordsIn: t.recordsIn, since: now, stalled: false });
      } else if (!seen.stalled && now - seen.since >= stallAfterMs) {
        seen.stalled = true;
        this.run.options.onEvent?.({ type: 'stalled', source: t.source.plan.name, partition: t.partition, backlog: t.source.reader.backlog?.(t.partition) ?? 0, forMs: now - seen.since });
      }
    }
  }

  /** Partitions reported stalled, for the status. */
  private stalled(now: number): PipelineStatus['stalled'] {
    const out: PipelineStatus['stalled'] = [];
    for (const [t, seen] of this.progress) {
      if (seen.stalled) out.push({ source: t.source.plan.name, partition: t.partition, backlog: t.source.reader.backlog?.(t.partition) ?? 0, forMs: now - seen.since });
    }
    return out;
  }

  private compute(): PipelineStatus {
    const run = this.run;
    const now = performance.now();
    const dt = Math.max(1, now - this.tick.at) / 1000;
    const pool = run.pool();
    let busy = 0;
    const poolStats = pool.map((w) => {
      const b = w.busyMs - (this.tick.busy.get(w.id) ?? 0);
      busy += b;
      return {
        id: w.id,
        partitions: run.ownedBy(w).length,
        utilization: Math.min(1, b / 1000 / dt),
        recordsPerSec: (w.records - (this.tick.records.get(w.id) ?? 0)) / dt,
      };
    });
    const { counts } = run;
    return {
      pipeline: run.plan.pipeline,
      state: run.phase,
      elapsedMs: now - run.started,
      workers: pool.length,
      recordsIn: counts.recordsIn,
      recordsOut: counts.recordsOut,
      deadLetters: counts.deadLetters,
      inRate: (counts.recordsIn - this.tick.recordsIn) / dt,
      outRate: (counts.recordsOut - this.tick.recordsOut) / dt,
      backlog: this.data.backlog(),
      utilization: pool.length ? Math.min(1, busy / 1000 / dt / pool.length) : 0,
      inflightBatches: run.tasks.reduce((a, t) => a + t.batches.length, 0),
      rebalances: counts.rebalances,
      lastDecision: this.lastDecision,
      sources: run.sources.map((s) => ({
        name: s.plan.name,
        partitions: s.tasks.length,
        recordsIn: s.tasks.reduce((a, t) => a + t.recordsIn, 0),
        backlog: s.tasks.reduce((a, t) => a + (s.reader.backlog?.(t.partition) ?? 0), 0),
      })),
      sinks: run.sinks.map(sinkStatus),
      pool: poolStats,
      partitions: run.tasks.map((t) => ({
        source: t.source.plan.name, partition: t.partition, worker: t.owner?.id, backlog: t.source.reader.backlog?.(t.partition) ?? 0,
        ...(t.stateInfo ? { state: stateStatus(run, t) } : {}),
      })),
      lateRecords: counts.lateRecords,
      outages: outageList(run),
      stalled: this.stalled(now),
      lookups: lookupList(run, now),
      connections: run.connections.map((c) => c.report()),
    };
  }

  /** The last status and the summary, once the run is done (`finalWorkers`: the pool before it closed). */
  async finish(finalWorkers: number): Promise<PipelineSummary> {
    const run = this.run;
    this.last = this.compute();
    const durationMs = performance.now() - run.started;
    const { counts } = run;
    const summary: PipelineSummary = {
      pipeline: run.plan.pipeline,
      durationMs,
      recordsIn: counts.recordsIn,
      recordsOut: counts.recordsOut,
      deadLetters: counts.deadLetters,
      skipped: counts.skipped,
      throughput: counts.recordsIn / (durationMs / 1000),
      sources: run.sources.map((s) => ({ name: s.plan.name, records: s.tasks.reduce((a, t) => a + t.recordsIn, 0) })),
      sinks: run.sinks.map(sinkStatus),
      workers: { initial: this.placement.counts.initial, final: finalWorkers, max: this.placement.counts.max },
      rebalances: counts.rebalances,
      moves: this.placement.moves,
      crashes: counts.crashes,
      decisions: this.decisions,
    };
    run.options.onStatus?.(this.last);
    if (run.options.metricsJsonPath) await this.writeMetrics({ status: this.last, summary });
    return summary;
  }

  /** Written then renamed, so a reader never sees half a file; best effort, the run goes on. */
  private async writeMetrics(data: object): Promise<void> {
    const path = this.run.options.metricsJsonPath!;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(data, (_k, v) => (v === Infinity ? 'Infinity' : v), 2));
      await rename(tmp, path);
    } catch {
      // Metrics are best effort.
    }
  }
}

/** The outages being waited out, for a status. */
export function outageList(run: RunContext): PipelineStatus['outages'] {
  return [...run.outages].map(([connector, o]) => ({ connector, ...o }));
}

/** Lookup measures of the live workers (reported in the last few seconds), one entry per lookup. */
function lookupList(run: RunContext, now: number): PipelineStatus['lookups'] {
  const byId = new Map<string, { id: string; replicaLagMs: number | null; primaryQueries: number }>();
  for (const s of run.lookupStats.values()) {
    if (now - s.at > 5000) continue;
    const entry = byId.get(s.id) ?? { id: s.id, replicaLagMs: 0, primaryQueries: 0 };
    const lag = s.replicaLagMs ?? 0;
    entry.replicaLagMs = entry.replicaLagMs === null || !Number.isFinite(lag) ? null : Math.max(entry.replicaLagMs, lag);
    entry.primaryQueries += s.primaryQueries ?? 0;
    byId.set(s.id, entry);
  }
  return [...byId.values()];
}

function stateStatus(run: RunContext, t: Task): PartitionStateStatus {
  const info = t.stateInfo!;
  const operators = run.plan.chains[t.chain]!.operators;
  return {
    entries: Object.fromEntries(operators.map((o, i) => [o.id, info.entries[i] ?? 0])),
    watermark: info.watermark,
    watermarkLagMs: info.watermark === null ? null : Date.now() - info.watermark,
    lateRecords: t.lateRecords,
    restoreMs: t.restoreMs ?? null,
  };
}

/** A sink as the status shows it; an exchange's says it is one (its records are not output). */
function sinkStatus(s: Sink): PipelineStatus['sinks'][number] {
  return { id: s.plan.id, stream: s.plan.stream, connector: s.plan.exchange ? `${s.plan.connector} (repartition)` : s.plan.connector, records: s.records };
}
