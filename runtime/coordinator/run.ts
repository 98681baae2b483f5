/**
 * The run's public shapes: what a caller passes (`RunOptions`), gets back
 * (`PipelineRun`, `PipelineSummary`) and observes (`PipelineStatus`,
 * `PipelineEvent`, `RunHooks`).
 */
import type { ConnectionBudget, ConnectionReport } from './connections.ts';
import type { AssignmentChange, Outage } from '../../src/spi/connector.ts';
import type { ConnectorEnvironment } from '../../src/spi/environment.ts';
import type { AutoscalerConfig, ScaleDecision } from '../cluster/autoscaler.ts';

export interface RunOptions {
  /** Pool size, or 'auto' for the autoscaler (default). Never more than the number of partitions. */
  workers?: number | 'auto';
  /** The connectors to run with (`builtinEnvironment()` of connectors/registry.ts, or one's own). */
  env: ConnectorEnvironment;
  /** Module exporting `stdlib`, the `lib` object of generated chains (default runtime/stdlib.ts). */
  libModule?: string | URL;
  /** Largest batch read from a partition (default 1000). */
  batchSize?: number;
  /** Unacknowledged batches per partition (default 4). */
  maxInflightPerPartition?: number;
  /** Unanswered batches per worker (default 16). */
  maxInflightPerWorker?: number;
  /** Records read and not yet acknowledged, over all partitions (default 200 000). */
  maxBufferedRecords?: number;
  /**
   * The local store of stateful tasks (runtime/state/local-store.ts): a
   * directory that outlives the run, so a restart restores state from it;
   * default: a directory of the run's own, removed at its end.
   */
  stateDir?: string;
  /**
   * Each worker thread's heap limit, MB (default 2048): stateful
   * operators keep their state there. A worker past it stops, and the run
   * fails saying so, instead of the process running out of memory.
   */
  workerMemoryMb?: number;
  /** A partition with records waiting that reads none this long is reported stalled (default 60 000 ms). */
  stallAfterMs?: number;
  /** How often `onStatus` is called and metrics are written (default 1000 ms). */
  statusIntervalMs?: number;
  onStatus?: (status: PipelineStatus) => void;
  onEvent?: (event: PipelineEvent) => void;
  /** Status written here (JSON) at every status interval, and the summary at the end. */
  metricsJsonPath?: string;
  autoscaler?: Partial<AutoscalerConfig> & { intervalMs?: number };
  /** Worker crashes tolerated before the run fails (default 10). */
  maxWorkerCrashes?: number;
  /** Aborting stops reading, drains what is in flight and ends the run normally. */
  signal?: AbortSignal;
  /** Sinks forget the source positions earlier runs stored (exactly-once): every record is written again. */
  fromStart?: boolean;
  /** Per-batch measurements for metrics, called on the coordinator thread (keep them cheap). */
  hooks?: RunHooks;
  /**
   * The process's connection budgets, by connector name, shared by every run
   * that is given them: sinks and lookups of those connectors are opened with
   * their share, and the pool never grows past the workers the lookups' shares
   * were counted for. Without one a connector's uses take what they ask for.
   */
  connectionBudgets?: readonly ConnectionBudget[];
}

export interface RunHooks {
  /** A batch is acknowledged: `latencyMs` from reading it to every sink accepting its output. */
  batchAcknowledged?(b: { source: string; partition: number; records: number; latencyMs: number }): void;
  /** A sink durably accepted one batch's output in `latencyMs`. */
  sinkWritten?(w: { sink: string; records: number; latencyMs: number }): void;
  /** Records an operator rejected in one batch (`on error dead_letter` or `skip`). */
  operatorErrors?(e: { operator: string; action: 'dead_letter' | 'skip'; count: number }): void;
}

export interface PipelineStatus {
  pipeline: string;
  state: 'starting' | 'running' | 'rebalancing' | 'draining' | 'done' | 'failed';
  elapsedMs: number;
  workers: number;
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  /** Records per second over the last status interval. */
  inRate: number;
  outRate: number;
  /** Records waiting: in the sources plus read and not yet processed. */
  backlog: number;
  /** Busy fraction of the pool over the last status interval. */
  utilization: number;
  inflightBatches: number;
  rebalances: number;
  lastDecision?: ScaleDecision;
  sources: { name: string; partitions: number; recordsIn: number; backlog: number }[];
  sinks: { id: string; stream: string; connector: string; records: number }[];
  pool: { id: number; partitions: number; utilization: number; recordsPerSec: number }[];
  /** Every source partition: the worker that owns it, its backlog (consumer lag) and, with stateful operators (or feeding a repartition), its state and event time. */
  partitions: { source: string; partition: number; worker: number | undefined; backlog: number; state?: PartitionStateStatus }[];
  /** Records dead-lettered because their windows had closed. */
  lateRecords: number;
  /** Servers the connectors are waiting out, with the last error. */
  outages: ({ connector: string } & Outage)[];
  /** Per lookup with a read replica: its replay lag (the largest any worker measured; null while unknown) and the queries the primary answered instead. */
  lookups: { id: string; replicaLagMs: number | null; primaryQueries: number }[];
  /** Partitions with records waiting that read none for `stallAfterMs`. */
  stalled: { source: string; partition: number; backlog: number; forMs: number }[];
  /** What this run holds of the process's connection budgets. */
  connections: ConnectionReport[];
}

/** A stateful partition's state (none for one that only feeds a repartition: its watermark), as its last result reported it. */
export interface PartitionStateStatus {
  /** Entries per stateful operator id (a group's windows count once per group). */
  entries: Record<string, number>;
  /** Its watermark (epoch ms), null before its first record. */
  watermark: number | null;
  /** How far the watermark is behind the wall clock, ms. */
  watermarkLagMs: number | null;
  lateRecords: number;
  /** How long its last restore (after a crash, a start, a partition gained) took; null when it had none. */
  restoreMs: number | null;
}

export type PipelineEvent =
  | { type: 'scale'; decision: ScaleDecision }
  /** Tasks moved between workers (`moves`), and `released`: tasks taken off their worker because another process owns their partition now. */
  | { type: 'rebalance'; reason: string; moves: MoveReport[]; released: number; durationMs: number; nonMovingMaxGapMs: number }
  | { type: 'worker-crash'; worker: number; error: string; partitions: number }
  /** A source's partitions in this process changed (its consumer group rebalanced). */
  | ({ type: 'assignment'; source: string } & AssignmentChange)
  /** A connector began waiting out an unreachable or failing server (`connector`: `sink:…`, `source:NAME` or `dead-letter`). */
  | ({ type: 'outage'; connector: string } & Outage)
  /** That server answers again, after `downMs`. */
  | { type: 'recovered'; connector: string; what: string; downMs: number }
  /** A partition with `backlog` records waiting read none for `forMs` (`RunOptions.stallAfterMs`). */
  | { type: 'stalled'; source: string; partition: number; backlog: number; forMs: number }
  /** A stalled partition reads again. */
  | { type: 'flowing'; source: string; partition: number; stalledMs: number }
  /**
   * At start: a sink holds a source's records up to `offsets` from an earlier
   * run and skips them (`position` says where that is, in the source's terms;
   * `store` where the sink keeps them).
   */
  | { type: 'resume'; source: string; sink: string; connector: string; store: string; position: string; offsets: { partition: number; offset: number }[] };

export interface MoveReport {
  source: string;
  partition: number;
  from: number | undefined;
  to: number;
  /** Time the partition had no owner processing it: stop dispatch → resumed on the new worker. */
  pauseMs: number;
}

export interface PipelineSummary {
  pipeline: string;
  durationMs: number;
  recordsIn: number;
  recordsOut: number;
  deadLetters: number;
  skipped: number;
  /** Records in per second. */
  throughput: number;
  sources: { name: string; records: number }[];
  sinks: { id: string; stream: string; connector: string; records: number }[];
  workers: { initial: number; final: number; max: number };
  rebalances: number;
  moves: MoveReport[];
  crashes: number;
  decisions: ScaleDecision[];
}

export interface PipelineRun {
  readonly done: Promise<PipelineSummary>;
  status(): PipelineStatus;
  /** Resize the pool now (with `workers: 'auto'` the autoscaler may change it again). */
  resize(workers: number): Promise<void>;
  /** Ids of the live workers. */
  workerIds(): number[];
  /** Fault injection: terminate a worker as if it crashed. */
  killWorker(id: number): Promise<void>;
  /** Stop reading, drain, finish (same as aborting `signal`). */
  stop(): void;
}
