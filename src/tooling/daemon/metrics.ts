/**
 * The Prometheus metrics of `sensei-run` (prom-client, one registry per
 * process). The runtime reports cumulative totals in its status every
 * interval and individual happenings as events and hooks; this turns them
 * into counters (by delta, so a restarted or replaced pipeline continues its
 * series instead of going backwards), gauges and histograms.
 *
 * Labels: `pipeline` everywhere; `operator` is the graph node id of the
 * source or sink (`source:orders`, `sink:paid:0`) the count belongs to;
 * `source`/`partition` for lag; `worker` for thread utilization.
 *
 * A lag that is unknown (an unbounded generator reports Infinity) has no
 * series at all, rather than a sentinel or NaN: the HPA sums the lag of a
 * pod, and -1 would lower that sum while NaN would make it NaN. A missing
 * series is how Prometheus says "no value".
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PipelineEvent, PipelineStatus } from '../../../runtime/index.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const PAUSE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class DaemonMetrics {
  readonly registry = new Registry();
  readonly recordsIn: Counter<'pipeline' | 'operator'>;
  readonly recordsOut: Counter<'pipeline' | 'operator'>;
  readonly deadLetters: Counter<'pipeline'>;
  readonly skipped: Counter<'pipeline'>;
  readonly operatorErrors: Counter<'pipeline' | 'operator' | 'action'>;
  readonly lag: Gauge<'pipeline' | 'source' | 'partition'>;
  readonly backlog: Gauge<'pipeline'>;
  readonly batchLatency: Histogram<'pipeline' | 'source'>;
  readonly workerUtilization: Gauge<'pipeline' | 'worker'>;
  readonly poolUtilization: Gauge<'pipeline'>;
  readonly poolSize: Gauge<'pipeline'>;
  readonly inflight: Gauge<'pipeline'>;
  readonly rebalances: Counter<'pipeline' | 'kind'>;
  readonly rebalanceDuration: Histogram<'pipeline' | 'kind'>;
  readonly partitionPause: Histogram<'pipeline' | 'kind'>;
  readonly decisions: Counter<'pipeline' | 'action'>;
  readonly sinkFlush: Histogram<'pipeline' | 'sink'>;
  readonly workerCrashes: Counter<'pipeline'>;
  readonly pipelineUp: Gauge<'pipeline'>;
  readonly pipelineRestarts: Counter<'pipeline'>;
  readonly assignedPartitions: Gauge<'pipeline' | 'source'>;
  readonly ready: Gauge;
  readonly replicaLag: Gauge<'pipeline' | 'lookup'>;
  readonly stateEntries: Gauge<'pipeline' | 'source' | 'partition' | 'operator'>;
  readonly watermarkLag: Gauge<'pipeline' | 'source' | 'partition'>;
  readonly restoreSeconds: Gauge<'pipeline' | 'source' | 'partition'>;
  readonly lateRecords: Counter<'pipeline'>;

  /** Last totals seen per pipeline run, to count deltas. */
  private readonly seen = new Map<string, { run: object; totals: Map<string, number> }>();
  /** Label sets of per-worker and per-partition gauges, to drop them when they disappear. */
  private readonly series = new Map<string, Series>();

  constructor() {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.recordsIn = new Counter({ name: 'sensei_records_in_total', help: 'Records read, by pipeline and source operator.', labelNames: ['pipeline', 'operator'], registers: r });
    this.recordsOut = new Counter({ name: 'sensei_records_out_total', help: 'Records accepted by a sink, by pipeline and sink operator.', labelNames: ['pipeline', 'operator'], registers: r });
    this.deadLetters = new Counter({ name: 'sensei_dead_letters_total', help: 'Records written to the dead-letter target.', labelNames: ['pipeline'], registers: r });
    this.skipped = new Counter({ name: 'sensei_records_skipped_total', help: 'Records dropped by `on error skip`.', labelNames: ['pipeline'], registers: r });
    this.operatorErrors = new Counter({
      name: 'sensei_operator_errors_total',
      help: 'Records an operator rejected (an expression failed, or the sink could not encode it), by what became of them.',
      labelNames: ['pipeline', 'operator', 'action'],
      registers: r,
    });
    this.lag = new Gauge({ name: 'sensei_consumer_lag', help: 'Records available in a source partition and not processed yet (consumer lag).', labelNames: ['pipeline', 'source', 'partition'], registers: r });
    this.backlog = new Gauge({ name: 'sensei_consumer_lag_total', help: 'Consumer lag over all partitions this process owns, plus records read and not processed.', labelNames: ['pipeline'], registers: r });
    this.batchLatency = new Histogram({
      name: 'sensei_batch_latency_seconds',
      help: 'Time from reading a batch to every sink accepting its output (acknowledgement).',
      labelNames: ['pipeline', 'source'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    });
    this.workerUtilization = new Gauge({ name: 'sensei_worker_utilization', help: 'Busy fraction of a worker thread over the last status interval.', labelNames: ['pipeline', 'worker'], registers: r });
    this.poolUtilization = new Gauge({ name: 'sensei_pool_utilization', help: 'Busy fraction of the whole pool over the last status interval.', labelNames: ['pipeline'], registers: r });
    this.poolSize = new Gauge({ name: 'sensei_pool_size', help: 'Worker threads of a pipeline.', labelNames: ['pipeline'], registers: r });
    this.inflight = new Gauge({ name: 'sensei_inflight_batches', help: 'Batches read and not acknowledged yet.', labelNames: ['pipeline'], registers: r });
    this.rebalances = new Counter({
      name: 'sensei_rebalances_total',
      help: 'Rebalances: `threads` moves partitions between worker threads, `group` is a Kafka consumer-group rebalance.',
      labelNames: ['pipeline', 'kind'],
      registers: r,
    });
    this.rebalanceDuration = new Histogram({ name: 'sensei_rebalance_duration_seconds', help: 'Duration of a rebalance.', labelNames: ['pipeline', 'kind'], buckets: PAUSE_BUCKETS, registers: r });
    this.partitionPause = new Histogram({
      name: 'sensei_partition_pause_seconds',
      help: 'How long a partition processed nothing because of a rebalance (moved partitions for `threads`, kept ones for `group`).',
      labelNames: ['pipeline', 'kind'],
      buckets: PAUSE_BUCKETS,
      registers: r,
    });
    this.decisions = new Counter({ name: 'sensei_autoscaler_decisions_total', help: 'Pool size changes decided by the autoscaler.', labelNames: ['pipeline', 'action'], registers: r });
    this.sinkFlush = new Histogram({ name: 'sensei_sink_flush_seconds', help: 'Time a sink took to durably accept one batch of output.', labelNames: ['pipeline', 'sink'], buckets: LATENCY_BUCKETS, registers: r });
    this.workerCrashes = new Counter({ name: 'sensei_worker_crashes_total', help: 'Worker threads that died and were replaced.', labelNames: ['pipeline'], registers: r });
    this.pipelineUp = new Gauge({ name: 'sensei_pipeline_running', help: '1 while the pipeline runs, 0 otherwise.', labelNames: ['pipeline'], registers: r });
    this.pipelineRestarts = new Counter({ name: 'sensei_pipeline_restarts_total', help: 'Restarts after a failure, and replacements of a changed pipeline file.', labelNames: ['pipeline'], registers: r });
    this.assignedPartitions = new Gauge({ name: 'sensei_assigned_partitions', help: 'Source partitions this process owns.', labelNames: ['pipeline', 'source'], registers: r });
    this.ready = new Gauge({ name: 'sensei_ready', help: '1 when /readyz answers ready.', registers: r });
    this.replicaLag = new Gauge({
      name: 'sensei_lookup_replica_lag_seconds',
      help: 'Replay lag of a lookup\'s read replica (the largest a worker measured); no value while it is unknown or the replica does not answer.',
      labelNames: ['pipeline', 'lookup'],
      registers: r,
    });
    this.stateEntries = new Gauge({
      name: 'sensei_state_entries', help: 'Entries in the state of a stateful operator for one source partition (a group counts once, with all its windows).',
      labelNames: ['pipeline', 'source', 'partition', 'operator'], registers: r,
    });
    this.watermarkLag = new Gauge({ name: 'sensei_watermark_lag_seconds', help: 'How far a partition\'s watermark (event time) is behind the wall clock.', labelNames: ['pipeline', 'source', 'partition'], registers: r });
    this.restoreSeconds = new Gauge({ name: 'sensei_state_restore_seconds', help: 'How long the last restore of a partition\'s state (after a crash, a start, a partition gained) took.', labelNames: ['pipeline', 'source', 'partition'], registers: r });
    this.lateRecords = new Counter({ name: 'sensei_late_records_total', help: 'Records dead-lettered because their windows had closed.', labelNames: ['pipeline'], registers: r });
  }

  /**
   * A new status of a run: counters advance by what changed since the last
   * one of the same run. `owned`: the Kafka partitions this process owns per
   * source (others are lagging elsewhere); sources not listed own them all.
   */
  status(s: PipelineStatus, run: object, owned: Record<string, number[] | null> = {}): void {
    const p = s.pipeline;
    let seen = this.seen.get(p);
    if (!seen || seen.run !== run) this.seen.set(p, (seen = { run, totals: new Map() }));
    const delta = (key: string, now: number) => {
      const before = seen.totals.get(key) ?? 0;
      seen.totals.set(key, now);
      return Math.max(0, now - before);
    };
    for (const src of s.sources) this.recordsIn.inc({ pipeline: p, operator: `source:${src.name}` }, delta(`in:${src.name}`, src.recordsIn));
    for (const sink of s.sinks) this.recordsOut.inc({ pipeline: p, operator: sink.id }, delta(`out:${sink.id}`, sink.records));
    this.deadLetters.inc({ pipeline: p }, delta('dead', s.deadLetters));
    this.lateRecords.inc({ pipeline: p }, delta('late', s.lateRecords));
    if (Number.isFinite(s.backlog)) this.backlog.set({ pipeline: p }, s.backlog);
    else this.backlog.remove({ pipeline: p });
    this.poolSize.set({ pipeline: p }, s.workers);
    this.poolUtilization.set({ pipeline: p }, s.utilization);
    this.inflight.set({ pipeline: p }, s.inflightBatches);
    this.pipelineUp.set({ pipeline: p }, s.state === 'running' || s.state === 'rebalancing' ? 1 : 0);

    const series = this.seriesOf(p);
    const workers = new Set(s.pool.map((w) => String(w.id)));
    for (const w of s.pool) this.workerUtilization.set({ pipeline: p, worker: String(w.id) }, w.utilization);
    for (const w of series.workers) if (!workers.has(w)) this.workerUtilization.remove({ pipeline: p, worker: w });
    series.workers = workers;

    const partitions = new Set<string>();
    const states = new Set<string>();
    for (const part of s.partitions) {
      const mine = owned[part.source];
      if ((mine !== undefined && !mine?.includes(part.partition)) || !Number.isFinite(part.backlog)) continue;
      const labels = { pipeline: p, source: part.source, partition: String(part.partition) };
      this.lag.set(labels, part.backlog);
      partitions.add(JSON.stringify([labels.source, labels.partition]));
      const st = part.state;
      if (!st) continue;
      for (const [operator, entries] of Object.entries(st.entries)) {
        this.stateEntries.set({ ...labels, operator }, entries);
        states.add(JSON.stringify([labels.source, labels.partition, operator]));
      }
      if (st.watermarkLagMs === null) this.watermarkLag.remove(labels);
      else this.watermarkLag.set(labels, st.watermarkLagMs / 1000);
      if (st.restoreMs !== null) this.restoreSeconds.set(labels, st.restoreMs / 1000);
    }
    this.dropPartitions(p, series, partitions, states);

    for (const l of s.lookups) {
      series.lookups.add(l.id);
      if (l.replicaLagMs === null) this.replicaLag.remove({ pipeline: p, lookup: l.id });
      else this.replicaLag.set({ pipeline: p, lookup: l.id }, l.replicaLagMs / 1000);
    }
  }

  event(pipeline: string, e: PipelineEvent): void {
    switch (e.type) {
      case 'scale':
        this.decisions.inc({ pipeline, action: e.decision.action });
        break;
      case 'rebalance':
        this.rebalances.inc({ pipeline, kind: 'threads' });
        this.rebalanceDuration.observe({ pipeline, kind: 'threads' }, e.durationMs / 1000);
        for (const m of e.moves) this.partitionPause.observe({ pipeline, kind: 'threads' }, m.pauseMs / 1000);
        break;
      case 'worker-crash':
        this.workerCrashes.inc({ pipeline });
        break;
    }
  }

  /** Drops the per-worker and per-partition series of a pipeline that is no longer running. */
  forget(pipeline: string): void {
    const series = this.seriesOf(pipeline);
    for (const w of series.workers) this.workerUtilization.remove({ pipeline, worker: w });
    this.dropPartitions(pipeline, series, new Set(), new Set());
    for (const lookup of series.lookups) this.replicaLag.remove({ pipeline, lookup });
    this.series.delete(pipeline);
    this.pipelineUp.set({ pipeline }, 0);
    this.poolSize.set({ pipeline }, 0);
  }

  /** Removes the per-partition series (and the state series) not in `partitions` (`states`), and keeps these. */
  private dropPartitions(pipeline: string, series: Series, partitions: Set<string>, states: Set<string>): void {
    for (const key of series.partitions) {
      if (partitions.has(key)) continue;
      const [source, partition] = JSON.parse(key) as [string, string];
      for (const g of [this.lag, this.watermarkLag, this.restoreSeconds]) g.remove({ pipeline, source, partition });
    }
    for (const key of series.states) {
      if (states.has(key)) continue;
      const [source, partition, operator] = JSON.parse(key) as [string, string, string];
      this.stateEntries.remove({ pipeline, source, partition, operator });
    }
    series.partitions = partitions;
    series.states = states;
  }

  private seriesOf(pipeline: string): Series {
    let s = this.series.get(pipeline);
    if (!s) this.series.set(pipeline, (s = { workers: new Set(), partitions: new Set(), states: new Set(), lookups: new Set() }));
    return s;
  }
}

/** The labelled series a pipeline has, to remove those that go away. */
interface Series {
  workers: Set<string>;
  partitions: Set<string>;
  /** State series: source, partition, operator. */
  states: Set<string>;
  lookups: Set<string>;
}
