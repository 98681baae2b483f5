/**
 * What the coordinator's parts share: the plan and options, the task table,
 * the connectors' readers and writers, the worker pool and the run's
 * counters. Each part (data path, placement, status) owns its own logic and
 * reads or updates this state; nothing here decides anything.
 */
import type { Plan } from '../../src/plan/plan.ts';
import type { LookupStats, Outage } from '../../src/spi/connector.ts';
import type { WorkerHandle } from '../worker/pool.ts';
import type { ConnectionAllotment } from './connections.ts';
import type { PipelineStatus, RunOptions } from './run.ts';
import type { Sink, Source, Task } from './tasks.ts';

export interface RunCounts {
  recordsIn: number;
  /** Records the workers have answered for. */
  processed: number;
  recordsOut: number;
  deadLetters: number;
  skipped: number;
  /** Records dead-lettered because their windows had closed. */
  lateRecords: number;
  rebalances: number;
  crashes: number;
}

export class RunContext {
  phase: PipelineStatus['state'] = 'starting';
  readonly sources: Source[] = [];
  readonly sinks: Sink[] = [];
  readonly tasks: Task[] = [];
  /** Per chain, the index in `sinks` of each of its outputs. */
  chainSinks: number[][] = [];
  readonly workers = new Map<number, WorkerHandle>();
  /** Servers the connectors are waiting for, by connector (`sink:…`, `source:NAME`, `dead-letter`). */
  readonly outages = new Map<string, Outage>();
  /** The latest lookup measures, by lookup id and worker. */
  readonly lookupStats = new Map<string, { id: string; at: number } & LookupStats>();
  /** What the run holds of the process's connection budgets. */
  readonly connections: ConnectionAllotment[] = [];
  /** The most workers the pool may have (the lookups' connection shares were counted for this many). */
  workerCap = Number.POSITIVE_INFINITY;
  readonly counts: RunCounts = { recordsIn: 0, processed: 0, recordsOut: 0, deadLetters: 0, skipped: 0, lateRecords: 0, rebalances: 0, crashes: 0 };
  failed: Error | undefined;
  finished = false;
  readonly started = performance.now();

  constructor(
    readonly plan: Plan,
    readonly options: RunOptions,
    /** Aborted when the run stops reading (stop, failure). */
    readonly stopping: AbortSignal,
    /** Ends the run with an error. */
    readonly fail: (error: Error) => void,
    /** Ends the run if every task is exhausted and acknowledged. */
    readonly checkFinished: () => void,
  ) {}

  /** Failed or finished: nothing more is read, sent or moved. */
  get over(): boolean {
    return this.failed !== undefined || this.finished;
  }

  /** Live workers that are not leaving the pool. */
  pool(): WorkerHandle[] {
    return [...this.workers.values()].filter((w) => w.alive && !w.retiring);
  }

  ownedBy(worker: WorkerHandle): Task[] {
    return this.tasks.filter((t) => t.owner === worker);
  }
}
