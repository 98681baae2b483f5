/**
 * The coordinator: runs a plan on a pool of worker threads.
 *
 * The main thread owns the sources, the sinks and the assignment of tasks
 * (source partitions) to workers. For each task it reads batches in offset
 * order, sends them to the owning worker, writes the worker's encoded output
 * to the sinks in the same order, and acknowledges a batch's offsets (commits
 * them to the source) once every sink and the dead-letter target have
 * accepted everything derived from it. Backpressure is a bound on
 * unacknowledged batches per task, on unanswered batches per worker and on
 * buffered records overall: a slow sink stops its tasks' reads.
 *
 * Batches stay in the coordinator until acknowledged, so a crashed worker's
 * unanswered batches are sent again to the task's next owner (at-least-once,
 * state from the last checkpoint). Moving a task: stop dispatch → the old
 * owner answers `release` after its queued batches (drain) → its state goes
 * to the new owner → dispatch resumes. Other tasks never stop.
 */
import { availableParallelism } from 'node:os';
import { rename, writeFile } from 'node:fs/promises';
import type { PartitionState } from '../src/plan/chain.ts';
import { PLAN_VERSION, type Plan, type PlanSink, type PlanSource } from '../src/plan/plan.ts';
import type { AssignmentChange, Connector, DeadLetter, SinkWriter, SourceBatch, SourceReader } from '../src/spi/connector.ts';
import { sharedPackages, type ConnectorEnvironment } from '../src/spi/environment.ts';
import { planAssignment } from './assignment.ts';
import { autoscale, DEFAULT_AUTOSCALER, type AutoscalerConfig, type AutoscalerState, type ScaleDecision } from './autoscaler.ts';
import { avroType, isNullSchema, RecordEncoder, type AvroType } from '../src/formats/avro-codec.ts';
import { WorkerHandle } from './pool.ts';
import { BufferPool, packOutput, packSourceBatch, type FromWorker, type InitMessage, type ResultMessage, type WrittenMessage } from './wire.ts';

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
  /** How often stateful tasks checkpoint their state to the coordinator (default 1000 ms). */
  checkpointIntervalMs?: number;
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
  /** Per-batch measurements for metrics, called on the coordinator thread (keep them cheap). */
  hooks?: RunHooks;
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
  /** Every source partition: the worker that owns it and its backlog (consumer lag). */
  partitions: { source: string; partition: number; worker: number | undefined; backlog: number }[];
}

export type PipelineEvent =
  | { type: 'scale'; decision: ScaleDecision }
  | { type: 'rebalance'; reason: string; moves: MoveReport[]; durationMs: number; nonMovingMaxGapMs: number }
  | { type: 'worker-crash'; worker: number; error: string; partitions: number }
  /** A source's partitions in this process changed (its consumer group rebalanced). */
  | ({ type: 'assignment'; source: string } & AssignmentChange);

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

interface Source {
  plan: PlanSource;
  reader: SourceReader;
  valueType: AvroType;
  keyType: AvroType | undefined;
  tasks: Task[];
}

interface Sink {
  plan: PlanSink;
  writer: SinkWriter;
  records: number;
}

interface Batch {
  seq: number;
  raw: SourceBatch;
  count: number;
  lastOffset: number;
  /** performance.now() when it was read. */
  readAt: number;
  sentTo: WorkerHandle | undefined;
  answered: boolean;
  /** Waiting for the worker's `written` (the sinks it writes itself). */
  onWritten: ((msg: WrittenMessage) => void) | undefined;
  done: boolean;
  /** The task's state after this batch, when the worker sent it along; the checkpoint once the batch is acknowledged. */
  state: PartitionState | undefined;
}

interface Task {
  id: number;
  source: Source;
  partition: number;
  chain: number;
  owner: WorkerHandle | undefined;
  moving: boolean;
  batches: Batch[];
  reading: boolean;
  exhausted: boolean;
  nextSeq: number;
  /**
   * The state a new owner starts from after a crash: never ahead of what is
   * acknowledged, so no batch sent again is already in it (it would count as
   * seen, and a `dedupe` would drop its records).
   */
  checkpoint: PartitionState | undefined;
  /** The last batch the checkpoint includes. */
  checkpointSeq: number;
  /** The last batch sent to a worker. */
  sentSeq: number;
  recordsIn: number;
  busyMs: number;
  /** Busy milliseconds per second, smoothed: the load the assignment balances. */
  load: number;
  busyAtLastTick: number;
  lastResultAt: number;
  maxGapMs: number;
}

export function runPipeline(plan: Plan, options: RunOptions): Promise<PipelineSummary> {
  return startPipeline(plan, options).done;
}

export function startPipeline(plan: Plan, options: RunOptions): PipelineRun {
  return new Coordinator(plan, options).run;
}

class Coordinator {
  readonly run: PipelineRun;
  private readonly env: ConnectorEnvironment;
  private readonly batchSize: number;
  private readonly maxPerTask: number;
  private readonly maxPerWorker: number;
  private readonly maxBuffered: number;
  private readonly auto: boolean;
  private readonly scaler: AutoscalerConfig & { intervalMs: number };
  private readonly stopCtl = new AbortController();
  private readonly started = performance.now();
  private readonly valueEncoder = new RecordEncoder();
  private readonly keyEncoder = new RecordEncoder();
  private readonly buffers = new BufferPool();

  private state: PipelineStatus['state'] = 'starting';
  private sources: Source[] = [];
  private sinks: Sink[] = [];
  private deadLetter!: SinkWriter;
  private tasks: Task[] = [];
  private chainSinks: number[][] = [];
  private readonly workers = new Map<number, WorkerHandle>();
  private nextWorkerId = 0;
  private init!: Omit<InitMessage, 'workerId'>;
  private buffered = 0;
  private readonly starved = new Set<Task>();
  /** Rebalances and resizes run one at a time, in order. */
  private serial: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private finished = false;
  private resolveDone!: (s: PipelineSummary) => void;
  private rejectDone!: (e: Error) => void;
  private timers: NodeJS.Timeout[] = [];

  private recordsIn = 0;
  private processed = 0;
  private recordsOut = 0;
  private deadLetters = 0;
  private skipped = 0;
  private rebalances = 0;
  private crashes = 0;
  private readonly moves: MoveReport[] = [];
  private readonly decisions: ScaleDecision[] = [];
  private lastDecision: ScaleDecision | undefined;
  private scalerState: AutoscalerState = {};
  private workerCounts = { initial: 0, max: 0 };
  /** The pool size asked for (by options, resize or the autoscaler); crashed workers are replaced up to it. */
  private target = 0;
  private tick = { at: performance.now(), recordsIn: 0, recordsOut: 0, busy: new Map<number, number>(), records: new Map<number, number>() };
  private scaleTick = { at: performance.now(), processed: 0, busy: 0 };
  private lastStatus: PipelineStatus | undefined;
  private rebalanceWindow: Set<Task> | undefined;

  constructor(
    private readonly plan: Plan,
    private readonly options: RunOptions,
  ) {
    this.env = options.env;
    this.batchSize = options.batchSize ?? 1000;
    this.maxPerTask = options.maxInflightPerPartition ?? 4;
    this.maxPerWorker = options.maxInflightPerWorker ?? 16;
    this.maxBuffered = options.maxBufferedRecords ?? 200_000;
    this.auto = (options.workers ?? 'auto') === 'auto';
    const { intervalMs, ...scaler } = options.autoscaler ?? {};
    this.scaler = { ...DEFAULT_AUTOSCALER, cpuBudget: availableParallelism(), ...scaler, intervalMs: intervalMs ?? 5000 };
    const done = new Promise<PipelineSummary>((res, rej) => ((this.resolveDone = res), (this.rejectDone = rej)));
    this.run = {
      done,
      status: () => this.status(),
      resize: (n) => this.enqueue(() => this.resize(n)),
      workerIds: () => [...this.workers.values()].filter((w) => w.alive && !w.retiring).map((w) => w.id),
      killWorker: async (id) => this.workers.get(id)?.kill(),
      stop: () => this.stopCtl.abort(),
    };
    options.signal?.addEventListener('abort', () => this.stopCtl.abort(), { once: true });
    this.start().catch((e: Error) => this.fail(e));
  }

  private connector(name: string): Connector {
    const c = this.env.connectors.get(name);
    if (!c) throw new Error(`connector ${name} is not registered`);
    return c;
  }

  private async start(): Promise<void> {
    const plan = this.plan;
    if (plan.version !== PLAN_VERSION) throw new Error(`plan version ${plan.version} is not supported (expected ${PLAN_VERSION})`);
    // Workers open the lookup clients, from the environment's worker module (see worker.ts).
    for (const l of plan.chains.flatMap((c) => c.lookups ?? [])) {
      if (!this.env.connectors.get(l.connector)?.runtime.openLookup) throw new Error(`operator ${l.id}: connector ${l.connector} cannot look up records`);
      this.needWorkerEnvironment(`operator ${l.id}`);
    }
    const signal = this.stopCtl.signal;
    const dl = plan.deadLetter ?? { connector: 'stderr', options: {} };
    const dlConnector = this.connector(dl.connector);
    if (!dlConnector.runtime.openSink) throw new Error(`connector ${dl.connector} cannot take dead letters`);
    this.deadLetter = await dlConnector.runtime.openSink({ pipeline: plan.pipeline, id: 'dead-letter', role: 'dead-letter', options: dl.options, signal });

    for (const s of plan.sinks) {
      const c = this.connector(s.connector);
      if (!c.runtime.openSink) throw new Error(`connector ${s.connector} cannot be a sink`);
      const writer = await c.runtime.openSink({
        pipeline: plan.pipeline, id: s.id, role: 'sink', options: s.options, schema: s.schema, keySchema: s.keySchema, signal,
        reject: (letters) => (letters.length === 0 ? Promise.resolve() : this.writeDeadLetters(letters[0]!.source, letters[0]!.partition, letters)),
      });
      if (writer.inWorkers !== undefined || !['json', 'text', 'avro'].includes(writer.format)) this.needWorkerEnvironment(`sink ${s.id}`);
      this.sinks.push({ plan: s, writer, records: 0 });
    }

    for (const s of plan.sources) {
      const c = this.connector(s.connector);
      if (!c.runtime.openSource) throw new Error(`connector ${s.connector} cannot be a source`);
      const reader = await c.runtime.openSource({
        pipeline: plan.pipeline,
        name: s.name,
        options: s.options,
        schema: s.schema,
        keySchema: s.keySchema,
        signal,
        reject: (l) => this.writeDeadLetters(s.name, l.partition, [{ ...l, pipeline: plan.pipeline, source: s.name, time: new Date().toISOString() }]),
        assigned: (change) => this.options.onEvent?.({ type: 'assignment', source: s.name, ...change }),
      });
      this.sources.push({ plan: s, reader, valueType: avroType(s.schema), keyType: isNullSchema(s.keySchema) ? undefined : avroType(s.keySchema), tasks: [] });
    }

    const sinkIndex = new Map(plan.sinks.map((s, i) => [s.id, i]));
    this.chainSinks = plan.chains.map((c) => c.sinks.map((id) => {
      const i = sinkIndex.get(id);
      if (i === undefined) throw new Error(`chain of ${c.source} writes to unknown sink ${id}`);
      return i;
    }));
    for (const src of this.sources) {
      const chain = plan.chains.findIndex((c) => c.source === src.plan.name || c.source === src.plan.id);
      if (chain < 0) throw new Error(`no chain for source ${src.plan.name}`);
      for (let p = 0; p < src.reader.partitions; p++) {
        const task: Task = {
          id: this.tasks.length, source: src, partition: p, chain, owner: undefined, moving: false, batches: [], reading: false, exhausted: false,
          nextSeq: 0, checkpoint: undefined, checkpointSeq: -1, sentSeq: -1, recordsIn: 0, busyMs: 0, load: 0, busyAtLastTick: 0, lastResultAt: 0, maxGapMs: 0,
        };
        src.tasks.push(task);
        this.tasks.push(task);
      }
    }
    if (this.tasks.length === 0) throw new Error('the plan has no source partitions');

    this.init = {
      type: 'init',
      pipeline: plan.pipeline,
      libModule: String(this.options.libModule ?? new URL('./stdlib.ts', import.meta.url)),
      environment: { module: this.env.workerModule, sharedPackages: sharedPackages(this.env) },
      chains: plan.chains.map((c, i) => {
        const src = plan.sources.find((s) => s.name === c.source || s.id === c.source)!;
        return { source: src.name, code: c.code, sinks: this.chainSinks[i]!, stateful: c.state.length > 0, schema: src.schema, keySchema: src.keySchema, ...(c.lookups ? { lookups: c.lookups } : {}) };
      }),
      sinks: this.sinks.map((s) => ({
        id: s.plan.id, connector: s.plan.connector, format: s.writer.format, formatOptions: s.writer.formatOptions, schema: s.plan.schema, keySchema: s.plan.keySchema,
        withKeys: s.writer.format === 'avro' && !isNullSchema(s.plan.keySchema),
        ...(s.writer.inWorkers !== undefined ? { inWorkers: { connector: s.plan.connector, setup: s.writer.inWorkers } } : {}),
      })),
      checkpointMs: this.options.checkpointIntervalMs ?? 1000,
    };

    const requested = this.options.workers ?? 'auto';
    const initial = requested === 'auto' ? Math.min(this.scaler.minWorkers, this.maxWorkers()) : Math.max(1, Math.min(requested, this.tasks.length));
    this.workerCounts.initial = initial;
    this.target = initial;
    await this.spawn(initial);
    await this.rebalance('start');
    this.state = 'running';
    for (const t of this.tasks) this.pump(t);

    const statusEvery = this.options.statusIntervalMs ?? 1000;
    this.timers.push(setInterval(() => this.onTick(), statusEvery));
    if (this.auto) this.timers.push(setInterval(() => this.onScaleTick(), this.scaler.intervalMs));
    this.checkFinished();
  }

  /** Lookups, sinks written from workers and connector formats need the connectors in the workers too. */
  private needWorkerEnvironment(what: string): void {
    if (!this.env.workerModule) throw new Error(`${what} runs connector code in the workers, but the connector environment has no workerModule to build it there from`);
  }

  private maxWorkers(): number {
    return Math.max(1, Math.min(this.scaler.maxWorkers, this.tasks.length, this.scaler.cpuBudget));
  }

  // ---- workers -------------------------------------------------------------

  private async spawn(n: number): Promise<void> {
    const fresh: WorkerHandle[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.nextWorkerId++;
      const w = new WorkerHandle(id, { ...this.init, workerId: id }, {
        message: (worker, msg) => this.onMessage(worker, msg),
        crash: (worker, error) => this.onCrash(worker, error),
      });
      this.workers.set(id, w);
      fresh.push(w);
    }
    await Promise.all(fresh.map((w) => w.ready.catch(() => {})));
    this.workerCounts.max = Math.max(this.workerCounts.max, this.poolSize());
  }

  private poolSize(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.alive && !w.retiring) n++;
    return n;
  }

  private onMessage(worker: WorkerHandle, msg: FromWorker): void {
    switch (msg.type) {
      case 'result':
        this.onResult(worker, msg);
        break;
      case 'written': {
        const batch = this.tasks[msg.task]?.batches.find((b) => b.seq === msg.seq);
        if (batch?.sentTo === worker) batch.onWritten?.(msg);
        break;
      }
      case 'released': {
        const done = worker.releases.get(msg.task);
        worker.releases.delete(msg.task);
        done?.(msg.state);
        break;
      }
      case 'failed': {
        const task = msg.task === undefined ? undefined : this.tasks[msg.task];
        const where = task ? ` (source ${task.source.plan.name}, partition ${task.partition}${msg.offset !== undefined ? `, offset ${msg.offset}` : ''}${msg.operator ? `, operator ${msg.operator}` : ''})` : '';
        const e = new Error(`${msg.message}${where}`);
        if (msg.stack) e.stack = msg.stack;
        this.fail(e);
        break;
      }
    }
  }

  private onCrash(worker: WorkerHandle, error: Error): void {
    if (this.finished || this.failed) return;
    this.workers.delete(worker.id);
    this.crashes++;
    const orphans = this.tasks.filter((t) => t.owner === worker);
    this.options.onEvent?.({ type: 'worker-crash', worker: worker.id, error: error.message, partitions: orphans.length });
    for (const t of orphans) {
      t.owner = undefined;
      // Batches it did not answer, or whose output it had not finished writing itself, go to the next owner.
      for (const b of t.batches) {
        if (b.sentTo !== worker || (b.answered && !b.onWritten)) continue;
        b.sentTo = undefined;
        b.answered = false;
        b.onWritten = undefined;
        b.state = undefined;
      }
    }
    // Moves waiting on this worker continue from the last checkpoint.
    for (const [task, done] of worker.releases) done(this.tasks[task]!.checkpoint);
    worker.releases.clear();
    if (this.crashes > (this.options.maxWorkerCrashes ?? 10)) {
      this.fail(new Error(`${this.crashes} worker crashes; last: ${error.message}`));
      return;
    }
    void this.enqueue(async () => {
      const missing = this.target - this.poolSize();
      if (missing > 0) await this.spawn(missing);
      await this.rebalance(`worker ${worker.id} crashed`);
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.serial.then(() => (this.finished || this.failed ? undefined : step()));
    this.serial = next.catch((e: Error) => this.fail(e));
    return next;
  }

  private async resize(n: number): Promise<void> {
    const target = Math.max(1, Math.min(n, this.tasks.length));
    this.target = target;
    const size = this.poolSize();
    if (target > size) {
      await this.spawn(target - size);
      await this.rebalance(`pool grew from ${size} to ${target} workers`);
    } else if (target < size) {
      // Retire the least loaded workers: the fewest partitions move.
      const live = [...this.workers.values()].filter((w) => w.alive && !w.retiring);
      const load = (w: WorkerHandle) => this.tasks.filter((t) => t.owner === w).reduce((a, t) => a + t.load + 1e-3, 0);
      const retiring = live.sort((a, b) => load(a) - load(b) || b.id - a.id).slice(0, size - target);
      for (const w of retiring) w.retiring = true;
      await this.rebalance(`pool shrank from ${size} to ${target} workers`);
      for (const w of retiring) {
        await w.close();
        this.workers.delete(w.id);
      }
    }
  }

  // ---- assignment and moves -----------------------------------------------

  private async rebalance(reason: string): Promise<void> {
    const pool = [...this.workers.values()].filter((w) => w.alive && !w.retiring);
    if (pool.length === 0) throw new Error('no live workers');
    const plan = planAssignment(
      this.tasks.map((t) => ({ id: t.id, owner: t.owner?.id, load: t.load })),
      pool.map((w) => w.id),
    );
    if (plan.moves.length === 0) return;
    const startedAt = performance.now();
    const moving = new Set(plan.moves.map((m) => this.tasks[m.task]!));
    this.rebalanceWindow = new Set(this.tasks.filter((t) => !moving.has(t)));
    for (const t of this.rebalanceWindow) t.maxGapMs = 0;
    if (this.state === 'running') this.state = 'rebalancing';
    const reports = await Promise.all(plan.moves.map((m) => this.move(this.tasks[m.task]!, this.workers.get(m.to)!)));
    let nonMovingMaxGapMs = 0;
    const end = performance.now();
    for (const t of this.rebalanceWindow) {
      if (t.exhausted && t.batches.length === 0) continue;
      nonMovingMaxGapMs = Math.max(nonMovingMaxGapMs, t.maxGapMs, t.lastResultAt ? end - Math.max(t.lastResultAt, startedAt) : 0);
    }
    this.rebalanceWindow = undefined;
    if (this.state === 'rebalancing') this.state = 'running';
    if (reason !== 'start') {
      this.rebalances++;
      this.moves.push(...reports);
    }
    this.options.onEvent?.({ type: 'rebalance', reason, moves: reports, durationMs: end - startedAt, nonMovingMaxGapMs });
  }

  /** Stop dispatch → drain (the old owner answers `release` after its queued batches) → hand the state over → resume. */
  private async move(task: Task, to: WorkerHandle): Promise<MoveReport> {
    const from = task.owner;
    const stoppedAt = performance.now();
    task.moving = true;
    let state = task.checkpoint;
    if (from?.alive) {
      state = await new Promise<PartitionState | undefined>((resolve) => {
        from.releases.set(task.id, resolve);
        from.post({ type: 'release', task: task.id });
      });
    }
    task.owner = undefined;
    if (state !== task.checkpoint) {
      // The old owner drained: its state includes every batch it was sent.
      task.checkpoint = state;
      task.checkpointSeq = task.sentSeq;
    }
    await to.ready.catch(() => {});
    const report = { source: task.source.plan.name, partition: task.partition, from: from?.id, to: to.id };
    if (!to.alive) {
      // The new owner crashed first; the rebalance its crash queued places the task.
      task.moving = false;
      return { ...report, pauseMs: performance.now() - stoppedAt };
    }
    to.post({ type: 'assign', task: task.id, chain: task.chain, partition: task.partition, state });
    task.owner = to;
    task.moving = false;
    this.pump(task);
    return { ...report, pauseMs: performance.now() - stoppedAt };
  }

  // ---- the data path -------------------------------------------------------

  private pump(task: Task): void {
    if (this.failed || this.finished) return;
    const owner = task.owner;
    if (owner && !task.moving && owner.alive) {
      for (const b of task.batches) {
        if (b.sentTo || b.done || b.answered) continue;
        if (owner.inflight >= this.maxPerWorker) {
          owner.blocked.add(task.id);
          break;
        }
        this.send(task, b, owner);
      }
    }
    if (task.reading || task.exhausted || task.batches.length >= this.maxPerTask) return;
    if (this.stopCtl.signal.aborted) {
      task.exhausted = true;
      this.checkFinished();
      return;
    }
    if (this.buffered >= this.maxBuffered) {
      this.starved.add(task);
      return;
    }
    task.reading = true;
    task.source.reader.read(task.partition, this.batchSize).then(
      (raw) => {
        task.reading = false;
        if (!raw || raw.offsets.length === 0) {
          task.exhausted = true;
          this.checkFinished();
          return;
        }
        const count = raw.offsets.length;
        task.batches.push({ seq: task.nextSeq++, raw, count, lastOffset: raw.offsets[count - 1]!, readAt: performance.now(), sentTo: undefined, answered: false, onWritten: undefined, done: false, state: undefined });
        task.recordsIn += count;
        this.recordsIn += count;
        this.buffered += count;
        this.pump(task);
      },
      (e: Error) => this.fail(new Error(`source ${task.source.plan.name} partition ${task.partition}: ${e.message}`)),
    );
  }

  private send(task: Task, batch: Batch, worker: WorkerHandle): void {
    const src = task.source;
    const packed = packSourceBatch(batch.raw, src.valueType, src.keyType, this.valueEncoder, this.keyEncoder, this.buffers);
    batch.sentTo = worker;
    task.sentSeq = batch.seq;
    worker.inflight++;
    worker.post({ ...packed, task: task.id, seq: batch.seq }, [packed.offsets.buffer as ArrayBuffer]);
  }

  private onResult(worker: WorkerHandle, msg: ResultMessage): void {
    if (msg.recycle) this.buffers.give(msg.recycle);
    const task = this.tasks[msg.task];
    const batch = task?.batches.find((b) => b.seq === msg.seq);
    // A late answer from a worker that lost the batch (crash) is dropped: the batch went elsewhere.
    if (!task || !batch || batch.sentTo !== worker || batch.answered) return;
    batch.answered = true;
    worker.inflight--;
    worker.busyMs += msg.busyMs;
    worker.records += batch.count;
    task.busyMs += msg.busyMs;
    this.processed += batch.count;
    this.skipped += msg.skipped;
    for (const e of msg.errors) this.options.hooks?.operatorErrors?.(e);
    const now = performance.now();
    if (this.rebalanceWindow?.has(task) && task.lastResultAt) task.maxGapMs = Math.max(task.maxGapMs, now - task.lastResultAt);
    task.lastResultAt = now;
    if (msg.state) batch.state = msg.state;

    const name = task.source.plan.name;
    const writes: Promise<void>[] = [];
    const sinks = this.chainSinks[task.chain]!;
    msg.outputs.forEach((out, i) => {
      if (!out) return;
      const sink = this.sinks[sinks[i]!]!;
      const writing = performance.now();
      writes.push(sink.writer.write({ source: name, partition: task.partition, ...out }).then(() => {
        this.options.hooks?.sinkWritten?.({ sink: sink.plan.id, records: out.count, latencyMs: performance.now() - writing });
        sink.records += out.count;
        this.recordsOut += out.count;
      }));
    });
    if (msg.writing) {
      writes.push(new Promise<void>((resolve) => {
        batch.onWritten = (w) => {
          batch.onWritten = undefined;
          w.counts.forEach((count, i) => {
            if (count === 0) return;
            const sink = this.sinks[sinks[i]!]!;
            this.options.hooks?.sinkWritten?.({ sink: sink.plan.id, records: count, latencyMs: w.latencyMs });
            sink.records += count;
            this.recordsOut += count;
          });
          resolve();
        };
      }));
    }
    if (msg.deadLetters) {
      const dl = msg.deadLetters;
      writes.push(this.deadLetter.write({ source: name, partition: task.partition, ...dl }).then(() => void (this.deadLetters += dl.count)));
    }
    Promise.all(writes).then(
      () => {
        batch.done = true;
        this.acknowledge(task);
      },
      (e: Error) => this.fail(e),
    );
    // The worker has room again: tasks waiting for it may send.
    if (worker.blocked.size > 0) {
      const waiting = [...worker.blocked];
      worker.blocked.clear();
      for (const id of waiting) this.pump(this.tasks[id]!);
    }
  }

  /** Advance the partition's acknowledged offset over the batches every sink has accepted. */
  private acknowledge(task: Task): void {
    let acked: number | undefined;
    while (task.batches.length > 0 && task.batches[0]!.done) {
      const b = task.batches.shift()!;
      this.buffered -= b.count;
      if (b.state && b.seq > task.checkpointSeq) {
        task.checkpoint = b.state;
        task.checkpointSeq = b.seq;
      }
      this.options.hooks?.batchAcknowledged?.({ source: task.source.plan.name, partition: task.partition, records: b.count, latencyMs: performance.now() - b.readAt });
      acked = b.lastOffset;
    }
    if (acked !== undefined) {
      const commit = task.source.reader.commit?.(task.partition, acked);
      if (commit) commit.catch((e: Error) => this.fail(e));
    }
    this.pump(task);
    if (this.starved.size > 0 && this.buffered < this.maxBuffered) {
      const waiting = [...this.starved];
      this.starved.clear();
      for (const t of waiting) this.pump(t);
    }
    this.checkFinished();
  }

  private writeDeadLetters(source: string, partition: number, letters: DeadLetter[]): Promise<void> {
    const r = this.valueEncoder.encodeLines(letters.map((l) => JSON.stringify(l)));
    const out = packOutput(this.valueEncoder.bytes(r.bytes), r.ends, letters.map((l) => l.offset));
    return this.deadLetter.write({ source, partition, ...out }).then(() => void (this.deadLetters += letters.length));
  }

  // ---- status, scaling, the end --------------------------------------------

  private backlog(): number {
    let n = 0;
    for (const t of this.tasks) {
      n += t.source.reader.backlog?.(t.partition) ?? 0;
      for (const b of t.batches) if (!b.answered) n += b.count;
    }
    return n;
  }

  private status(): PipelineStatus {
    return this.lastStatus ?? this.computeStatus();
  }

  private computeStatus(): PipelineStatus {
    const now = performance.now();
    const dt = Math.max(1, now - this.tick.at) / 1000;
    const pool = [...this.workers.values()].filter((w) => w.alive && !w.retiring);
    let busy = 0;
    const poolStats = pool.map((w) => {
      const b = w.busyMs - (this.tick.busy.get(w.id) ?? 0);
      busy += b;
      return {
        id: w.id,
        partitions: this.tasks.filter((t) => t.owner === w).length,
        utilization: Math.min(1, b / 1000 / dt),
        recordsPerSec: (w.records - (this.tick.records.get(w.id) ?? 0)) / dt,
      };
    });
    return {
      pipeline: this.plan.pipeline,
      state: this.state,
      elapsedMs: now - this.started,
      workers: pool.length,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      deadLetters: this.deadLetters,
      inRate: (this.recordsIn - this.tick.recordsIn) / dt,
      outRate: (this.recordsOut - this.tick.recordsOut) / dt,
      backlog: this.backlog(),
      utilization: pool.length ? Math.min(1, busy / 1000 / dt / pool.length) : 0,
      inflightBatches: this.tasks.reduce((a, t) => a + t.batches.length, 0),
      rebalances: this.rebalances,
      lastDecision: this.lastDecision,
      sources: this.sources.map((s) => ({
        name: s.plan.name,
        partitions: s.tasks.length,
        recordsIn: s.tasks.reduce((a, t) => a + t.recordsIn, 0),
        backlog: s.tasks.reduce((a, t) => a + (s.reader.backlog?.(t.partition) ?? 0), 0),
      })),
      sinks: this.sinks.map((s) => ({ id: s.plan.id, stream: s.plan.stream, connector: s.plan.connector, records: s.records })),
      pool: poolStats,
      partitions: this.tasks.map((t) => ({ source: t.source.plan.name, partition: t.partition, worker: t.owner?.id, backlog: t.source.reader.backlog?.(t.partition) ?? 0 })),
    };
  }

  private onTick(): void {
    if (this.finished || this.failed) return;
    const now = performance.now();
    const dt = Math.max(1, now - this.tick.at) / 1000;
    this.lastStatus = this.computeStatus();
    for (const t of this.tasks) {
      // Busy ms per second, smoothed over a few intervals.
      t.load = 0.5 * t.load + 0.5 * ((t.busyMs - t.busyAtLastTick) / dt);
      t.busyAtLastTick = t.busyMs;
    }
    this.tick = {
      at: now,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      busy: new Map([...this.workers.values()].map((w) => [w.id, w.busyMs])),
      records: new Map([...this.workers.values()].map((w) => [w.id, w.records])),
    };
    this.options.onStatus?.(this.lastStatus);
    if (this.options.metricsJsonPath) void this.writeMetrics({ status: this.lastStatus });
  }

  private onScaleTick(): void {
    if (this.finished || this.failed || this.stopCtl.signal.aborted) return;
    const now = performance.now();
    const dt = Math.max(1, now - this.scaleTick.at);
    const pool = [...this.workers.values()].filter((w) => w.alive && !w.retiring);
    const busy = this.tasks.reduce((a, t) => a + t.busyMs, 0);
    const observation = {
      now,
      workers: pool.length,
      partitions: this.tasks.length,
      backlog: this.backlog(),
      throughput: ((this.processed - this.scaleTick.processed) * 1000) / dt,
      utilization: pool.length ? Math.min(1, (busy - this.scaleTick.busy) / dt / pool.length) : 0,
    };
    this.scaleTick = { at: now, processed: this.processed, busy };
    const { decision, state } = autoscale(observation, this.scalerState, this.scaler);
    this.scalerState = state;
    this.lastDecision = decision;
    if (decision.action === 'hold') return;
    this.decisions.push(decision);
    this.options.onEvent?.({ type: 'scale', decision });
    void this.enqueue(() => this.resize(decision.to));
  }

  private async writeMetrics(data: object): Promise<void> {
    const path = this.options.metricsJsonPath!;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(data, (_k, v) => (v === Infinity ? 'Infinity' : v), 2));
      await rename(tmp, path);
    } catch {
      // Metrics are best effort; the run goes on.
    }
  }

  private checkFinished(): void {
    if (this.finished || this.failed || this.state === 'starting') return;
    for (const t of this.tasks) if (!t.exhausted || t.reading || t.batches.length > 0) return;
    this.finished = true;
    this.state = 'draining';
    this.finish().then(this.resolveDone, (e: Error) => {
      this.finished = false;
      this.fail(e);
    });
  }

  private async finish(): Promise<PipelineSummary> {
    for (const t of this.timers) clearInterval(t);
    await this.serial.catch(() => {});
    for (const s of this.sinks) await s.writer.close();
    await this.deadLetter.close();
    for (const s of this.sources) await s.reader.close();
    const final = this.poolSize();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.state = 'done';
    this.lastStatus = this.computeStatus();
    const durationMs = performance.now() - this.started;
    const summary: PipelineSummary = {
      pipeline: this.plan.pipeline,
      durationMs,
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      deadLetters: this.deadLetters,
      skipped: this.skipped,
      throughput: this.recordsIn / (durationMs / 1000),
      sources: this.sources.map((s) => ({ name: s.plan.name, records: s.tasks.reduce((a, t) => a + t.recordsIn, 0) })),
      sinks: this.sinks.map((s) => ({ id: s.plan.id, stream: s.plan.stream, connector: s.plan.connector, records: s.records })),
      workers: { initial: this.workerCounts.initial, final, max: this.workerCounts.max },
      rebalances: this.rebalances,
      moves: this.moves,
      crashes: this.crashes,
      decisions: this.decisions,
    };
    this.options.onStatus?.(this.lastStatus);
    if (this.options.metricsJsonPath) await this.writeMetrics({ status: this.lastStatus, summary });
    return summary;
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    this.state = 'failed';
    this.stopCtl.abort();
    for (const t of this.timers) clearInterval(t);
    const cleanup = async () => {
      await Promise.allSettled([...this.workers.values()].map((w) => w.stop()));
      await Promise.allSettled([...this.sinks.map((s) => s.writer.close()), this.deadLetter?.close(), ...this.sources.map((s) => s.reader.close())]);
    };
    cleanup().finally(() => this.rejectDone(error));
  }
}
