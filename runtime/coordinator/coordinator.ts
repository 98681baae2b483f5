/**
 * The coordinator: runs a plan on a pool of worker threads.
 *
 * The main thread owns the sources, the sinks and the assignment of tasks
 * (source partitions) to workers. This module opens the connectors, builds
 * the task table and the workers' setup, routes the workers' messages, runs
 * the status and autoscaling intervals, and ends the run. Its parts:
 *
 * - data-path.ts: reading, dispatch and backpressure, sink fan-out and
 *   acknowledgements;
 * - placement.ts: the pool, moves between workers, crash recovery;
 * - tasks.ts: the task table; state-log.ts: stateful tasks' state;
 * - status.ts: status, summary and the metrics file.
 */
import { availableParallelism } from 'node:os';
import { EXCHANGE_CONNECTOR, type Plan, type PlanSink, type PlanSource } from '../../src/plan/plan.ts';
import { validatePlan } from '../../src/plan/validate.ts';
import { avroType, isNullSchema } from '../../src/formats/avro-codec.ts';
import type { Connector, Outage, SinkWriter, SourceReader } from '../../src/spi/connector.ts';
import { sharedPackages } from '../../src/spi/environment.ts';
import { groupAssignor } from '../cluster/assignment.ts';
import { autoscale, DEFAULT_AUTOSCALER, type AutoscalerConfig, type AutoscalerState } from '../cluster/autoscaler.ts';
import type { WorkerHandle } from '../worker/pool.ts';
import { BUILTIN_FORMATS, type FromWorker, type InitMessage } from '../worker/wire.ts';
import { RunContext } from './context.ts';
import { DataPath } from './data-path.ts';
import { Placement } from './placement.ts';
import { StateLog } from './state-log.ts';
import type { PipelineRun, PipelineStatus, PipelineSummary, RunOptions } from './run.ts';
import { outageList, StatusBoard } from './status.ts';
import { newTask } from './tasks.ts';
import type { ConnectionUse } from './connections.ts';
import { MemoryExchange } from './exchange.ts';

export function runPipeline(plan: Plan, options: RunOptions): Promise<PipelineSummary> {
  return startPipeline(plan, options).done;
}

export function startPipeline(plan: Plan, options: RunOptions): PipelineRun {
  return new Coordinator(plan, options).handle;
}

/** Offsets in general terms, for sources that do not say what theirs mean. */
function describeOffsets(offsets: ReadonlyMap<number, number>): string {
  if (offsets.size === 1) {
    const [[partition, offset]] = offsets;
    return `offset ${offset} of partition ${partition}`;
  }
  const values = [...offsets.values()];
  return `offsets ${Math.min(...values)}–${Math.max(...values)} of ${offsets.size} partitions`;
}

/** A worker's heap limit unless the options say otherwise. */
const DEFAULT_WORKER_MEMORY_MB = 2048;

class Coordinator {
  readonly handle: PipelineRun;
  private readonly run: RunContext;
  private readonly stopCtl = new AbortController();
  private readonly scaler: AutoscalerConfig & { intervalMs: number };
  private scalerState: AutoscalerState = {};
  private scaleTick = { at: performance.now(), processed: 0, busy: 0 };
  private timers: NodeJS.Timeout[] = [];
  private deadLetter: SinkWriter | undefined;
  private data: DataPath | undefined;
  private placement: Placement | undefined;
  private board: StatusBoard | undefined;
  /** Where stateful tasks' state is kept (opened at start). */
  private state: StateLog | undefined;
  /** Each budgeted sink's and lookup's share of its connection budget, by id. */
  private connectionShares = new Map<string, number>();
  private resolveDone!: (s: PipelineSummary) => void;
  private rejectDone!: (e: Error) => void;

  constructor(plan: Plan, private readonly options: RunOptions) {
    this.run = new RunContext(plan, options, this.stopCtl.signal, (e) => this.fail(e), () => this.checkFinished());
    const { intervalMs, ...scaler } = options.autoscaler ?? {};
    this.scaler = { ...DEFAULT_AUTOSCALER, cpuBudget: availableParallelism(), ...scaler, intervalMs: intervalMs ?? 5000 };
    const done = new Promise<PipelineSummary>((res, rej) => ((this.resolveDone = res), (this.rejectDone = rej)));
    this.handle = {
      done,
      status: () => this.board?.current() ?? this.startingStatus(),
      resize: async (n) => this.placement?.enqueue(() => this.placement!.resize(n)),
      workerIds: () => this.run.pool().map((w) => w.id),
      killWorker: async (id) => this.run.workers.get(id)?.kill(),
      stop: () => this.stopCtl.abort(),
    };
    options.signal?.addEventListener('abort', () => this.stopCtl.abort(), { once: true });
    this.start().catch((e: Error) => this.fail(e));
  }

  private connector(name: string): Connector {
    const c = this.options.env.connectors.get(name);
    if (!c) throw new Error(`connector ${name} is not registered`);
    return c;
  }

  /** Lookups, sinks written from workers and connector formats need the connectors in the workers too. */
  private needWorkerEnvironment(what: string): void {
    if (!this.options.env.workerModule) throw new Error(`${what} runs connector code in the workers, but the connector environment has no workerModule to build it there from`);
  }

  private async start(): Promise<void> {
    const { plan, options } = this.run;
    validatePlan(plan);
    for (const l of plan.chains.flatMap((c) => c.lookups ?? [])) {
      if (!this.options.env.connectors.get(l.connector)?.runtime.openLookup) throw new Error(`operator ${l.id}: connector ${l.connector} cannot look up records`);
      this.needWorkerEnvironment(`operator ${l.id}`);
    }
    this.connectionShares = this.allotConnections();
    this.state = await StateLog.open(plan, options.stateDir);
    const data = await this.openConnectors(this.state);
    this.buildTasks();
    await this.startOverState(this.state);
    const placement = new Placement(this.run, data, this.workerSetup(), (w, m) => this.onMessage(w, m), this.state);
    this.placement = placement;
    this.board = new StatusBoard(this.run, data, placement);

    const requested = options.workers ?? 'auto';
    await placement.start(requested === 'auto' ? Math.min(this.scaler.minWorkers, this.maxWorkers()) : Math.max(1, Math.min(requested, this.run.tasks.length)));
    if (this.run.over) return;
    this.run.phase = 'running';
    // The intervals first: a run stopped while it started can finish inside these pumps (its tasks
    // without a worker end there), and its end clears them.
    this.timers.push(setInterval(() => !this.run.over && this.board!.onInterval(), options.statusIntervalMs ?? 1000));
    if (plan.sources.some((s) => s.connector === EXCHANGE_CONNECTOR)) this.timers.push(setInterval(() => !this.run.over && data.quietTurns(performance.now()), 500));
    if ((options.workers ?? 'auto') === 'auto') this.timers.push(setInterval(() => this.onScaleTick(), this.scaler.intervalMs));
    for (const t of this.run.tasks) data.pump(t);
    this.checkFinished();
  }

  /** Stateful tasks' changelogs exist, and what their local store cannot be trusted with is forgotten (state-log.ts). */
  private async startOverState(state: StateLog): Promise<void> {
    for (const t of this.run.tasks) if (state.stateful(t)) await state.prepare(t);
  }

  /**
   * The dead-letter target first (the others report rejected records to
   * it), then the sinks, then the sources, then the exchanges of
   * repartitions (they have their upstream source's partition count).
   */
  private async openConnectors(state: StateLog): Promise<DataPath> {
    const { plan } = this.run;
    const signal = this.stopCtl.signal;
    const dl = plan.deadLetter ?? { connector: 'stderr', options: {} };
    const dlConnector = this.connector(dl.connector);
    if (!dlConnector.runtime.openSink) throw new Error(`connector ${dl.connector} cannot take dead letters`);
    this.deadLetter = await dlConnector.runtime.openSink({
      pipeline: plan.pipeline, id: 'dead-letter', role: 'dead-letter', options: dl.options, signal, outage: this.outageReporter('dead-letter'), ...this.share('dead-letter'),
    });
    const data = new DataPath(this.run, {
      batchSize: this.options.batchSize ?? 1000,
      maxPerTask: this.options.maxInflightPerPartition ?? 4,
      maxPerWorker: this.options.maxInflightPerWorker ?? 16,
      maxBuffered: this.options.maxBufferedRecords ?? 200_000,
    }, this.deadLetter, state);
    this.data = data;

    const openSink = async (s: PlanSink): Promise<void> => {
      const c = this.connector(s.connector);
      if (!c.runtime.openSink) throw new Error(`connector ${s.connector} cannot be a sink`);
      const writer = await c.runtime.openSink({
        pipeline: plan.pipeline, id: s.id, role: 'sink', options: s.options, schema: s.schema, keySchema: s.keySchema, signal,
        outage: this.outageReporter(s.id),
        ...this.share(s.id),
        fromStart: this.options.fromStart ?? false,
        reject: (letters) => (letters.length === 0 ? Promise.resolve() : data.writeDeadLetters(letters[0]!.source, letters[0]!.partition, letters)),
      });
      if (writer.inWorkers !== undefined || !BUILTIN_FORMATS.includes(writer.format)) this.needWorkerEnvironment(`sink ${s.id}`);
      this.run.sinks.push({ plan: s, writer, records: 0 });
    };

    const openSource = async (s: PlanSource): Promise<void> => {
      const c = this.connector(s.connector);
      if (!c.runtime.openSource) throw new Error(`connector ${s.connector} cannot be a source`);
      // What the source's consumer group gives this process; it may report before the tasks exist.
      const owned = new Set<number>();
      const reader = await c.runtime.openSource({
        pipeline: plan.pipeline,
        name: s.name,
        options: s.options,
        schema: s.schema,
        keySchema: s.keySchema,
        signal,
        reject: (l) => data.writeDeadLetters(s.name, l.partition, [{ ...l, pipeline: plan.pipeline, source: s.name, time: new Date().toISOString() }]),
        assigned: (change) => {
          for (const p of change.lost) owned.delete(p);
          for (const p of [...change.kept, ...change.gained]) owned.add(p);
          this.onAssigned(s.name, owned);
          this.options.onEvent?.({ type: 'assignment', source: s.name, ...change });
        },
        assignor: groupAssignor,
        outage: this.outageReporter(`source:${s.name}`),
      });
      this.addSource(s, reader, reader.assignedPartitions ? owned : undefined);
    };

    for (const s of plan.sinks) if (!s.exchange) await openSink(s);
    for (const s of plan.sources) if (!s.exchange) await openSource(s);
    for (const s of plan.sources) {
      if (!s.exchange) continue;
      const sink = plan.sinks.find((k) => k.id === s.exchange!.sink)!;
      const partitions = this.partitionsOf(s.exchange.from);
      if (s.connector === EXCHANGE_CONNECTOR) {
        const exchange = new MemoryExchange(partitions, signal);
        this.run.sinks.push({ plan: sink, writer: exchange.writer, records: 0 });
        this.addSource(s, exchange.reader, undefined);
      } else {
        // The sink first: it creates the exchange's topic with the upstream source's partition count.
        await openSink({ ...sink, options: { ...sink.options, partitions } });
        await openSource({ ...s, options: { ...s.options, partitions } });
      }
    }
    this.reportResumes();
    return data;
  }

  private addSource(s: PlanSource, reader: SourceReader, owned: Set<number> | undefined): void {
    this.run.sources.push({ plan: s, reader, valueType: avroType(s.schema), keyType: isNullSchema(s.keySchema) ? undefined : avroType(s.keySchema), tasks: [], owned });
  }

  /**
   * Shares of the process's connection budgets, taken before any connector
   * opens: lookups are counted in every worker the pool may grow to, and the
   * pool is then capped there.
   */
  private allotConnections(): Map<string, number> {
    const { plan } = this.run;
    const shares = new Map<string, number>();
    const requested = this.options.workers ?? 'auto';
    const workers = requested === 'auto' ? Math.max(1, Math.min(this.scaler.maxWorkers, this.scaler.cpuBudget)) : Math.max(1, requested);
    const sinks = [...plan.sinks, ...(plan.deadLetter ? [{ id: 'dead-letter', ...plan.deadLetter }] : [])];
    const lookups = plan.chains.flatMap((c) => c.lookups ?? []);
    for (const budget of this.options.connectionBudgets ?? []) {
      const demand = this.options.env.connectors.get(budget.connector)?.runtime.connections;
      if (!demand) continue;
      const uses: ConnectionUse[] = [
        ...sinks.filter((s) => s.connector === budget.connector).map((s) => ({ id: s.id, role: 'sink' as const, demand: demand({ role: 'sink', options: s.options }) })),
        ...lookups.filter((l) => l.connector === budget.connector).map((l) => ({ id: l.id, role: 'lookup' as const, demand: demand({ role: 'lookup', options: l.options }) })),
      ];
      if (uses.length === 0) continue;
      const allotment = budget.allot(plan.pipeline, uses, workers);
      this.run.connections.push(allotment);
      for (const s of allotment.shares) shares.set(s.id, s.connections);
      if (uses.some((u) => u.role === 'lookup')) this.run.workerCap = workers;
    }
    return shares;
  }

  private share(id: string): { connections?: number } {
    const connections = this.connectionShares.get(id);
    return connections === undefined ? {} : { connections };
  }

  /** A connector's outage reports: kept for the status, and an event when one begins or ends. */
  private outageReporter(connector: string): (outage: Outage | undefined) => void {
    return (outage) => {
      const { outages } = this.run;
      const current = outages.get(connector);
      if (outage) {
        outages.set(connector, outage);
        if (!current) this.options.onEvent?.({ type: 'outage', connector, ...outage });
      } else if (current) {
        outages.delete(connector);
        this.options.onEvent?.({ type: 'recovered', connector, what: current.what, downMs: Date.now() - current.since });
      }
    };
  }

  /** One `resume` event per source and sink holding some of its records from an earlier run. */
  private reportResumes(): void {
    for (const sink of this.run.sinks) {
      const stored = sink.writer.resumesAfter;
      if (!stored) continue;
      for (const source of this.run.sources) {
        const offsets = stored.positions.filter((p) => p.source === source.plan.name).map(({ partition, offset }) => ({ partition, offset }));
        if (offsets.length === 0) continue;
        const byPartition = new Map(offsets.map((o) => [o.partition, o.offset]));
        this.options.onEvent?.({
          type: 'resume', source: source.plan.name, sink: sink.plan.id, connector: sink.plan.connector, store: stored.store,
          position: source.reader.describeOffsets?.(byPartition) ?? describeOffsets(byPartition), offsets,
        });
      }
    }
  }

  /** One task per source partition, running its source's chain. */
  private buildTasks(): void {
    const { plan, sinks, sources, tasks } = this.run;
    const sinkIndex = new Map(sinks.map((s, i) => [s.plan.id, i]));
    this.run.chainSinks = plan.chains.map((c) => c.sinks.map((id) => {
      const i = sinkIndex.get(id);
      if (i === undefined) throw new Error(`chain of ${c.source} writes to unknown sink ${id}`);
      return i;
    }));
    for (const src of sources) {
      const chain = plan.chains.findIndex((c) => c.source === src.plan.id);
      if (chain < 0) throw new Error(`no chain for source ${src.plan.name}`);
      for (let p = 0; p < src.reader.partitions; p++) {
        const task = newTask(tasks.length, src, p, chain);
        src.tasks.push(task);
        tasks.push(task);
      }
    }
    if (tasks.length === 0) throw new Error('the plan has no source partitions');
  }

  /** What every worker is started with. */
  private workerSetup(): Omit<InitMessage, 'workerId'> {
    const { plan, sinks, chainSinks } = this.run;
    const env = this.options.env;
    return {
      type: 'init',
      pipeline: plan.pipeline,
      libModule: String(this.options.libModule ?? new URL('../stdlib.ts', import.meta.url)),
      environment: { module: env.workerModule, sharedPackages: sharedPackages(env) },
      chains: plan.chains.map((c, i) => {
        const src = plan.sources.find((s) => s.id === c.source)!;
        const exchangeOutputs = chainSinks[i]!.flatMap((k, j) => (sinks[k]!.plan.exchange ? [j] : []));
        return { source: src.name, code: c.code, sinks: chainSinks[i]!, operators: c.operators, schema: src.schema, keySchema: src.keySchema,
          ...(c.lookups ? { lookups: c.lookups } : {}), ...(src.eventTime ? { eventTime: src.eventTime } : {}),
          ...(src.exchange ? { reads: { count: this.partitionsOf(src.exchange.from), idleMs: src.exchange.idleMs } } : {}),
          ...(exchangeOutputs.length > 0 ? { writes: { partitions: this.partitionsOf(c.source), outputs: exchangeOutputs } } : {}),
        };
      }),
      sinks: sinks.map((s) => ({
        id: s.plan.id, connector: s.plan.connector, format: s.writer.format, formatOptions: s.writer.formatOptions, schema: s.plan.schema, keySchema: s.plan.keySchema,
        withKeys: s.writer.format === 'avro' && !isNullSchema(s.plan.keySchema),
        ...(s.writer.inWorkers !== undefined ? { inWorkers: { connector: s.plan.connector, setup: s.writer.inWorkers } } : {}),
      })),
      memoryMb: this.options.workerMemoryMb ?? DEFAULT_WORKER_MEMORY_MB,
      lookupConnections: Object.fromEntries(plan.chains.flatMap((c) => c.lookups ?? []).flatMap((l) => {
        const n = this.connectionShares.get(l.id);
        return n === undefined ? [] : [[l.id, n]];
      })),
    };
  }

  /** A source's partition count (an exchange has its upstream source's). */
  private partitionsOf(sourceId: string): number {
    return this.run.sources.find((s) => s.plan.id === sourceId)!.reader.partitions;
  }

  /** The source's consumer group changed what this process owns: tasks follow, and the workers are rebalanced. */
  private onAssigned(source: string, owned: ReadonlySet<number>): void {
    const src = this.run.sources.find((s) => s.plan.name === source);
    if (!src) return;
    // Before the pool exists (a group rebalancing while the run starts), the tasks still follow: the pool's start places what they own.
    for (const t of src.tasks) t.owned = owned.has(t.partition);
    if (!this.placement) return;
    void this.placement.enqueue(() => this.placement!.rebalance(`consumer group assigned ${source} partitions [${[...owned].sort((a, b) => a - b).join(', ')}]`));
  }

  private maxWorkers(): number {
    return Math.max(1, Math.min(this.scaler.maxWorkers, this.run.tasks.length, this.scaler.cpuBudget, this.run.workerCap));
  }

  private onMessage(worker: WorkerHandle, msg: FromWorker): void {
    switch (msg.type) {
      case 'result':
        this.data!.onResult(worker, msg);
        break;
      case 'written':
        this.data!.onWritten(worker, msg);
        break;
      case 'released':
        this.placement!.onReleased(worker, msg.task, msg.state);
        break;
      case 'lookup-stats':
        for (const { id, ...stats } of msg.stats) this.run.lookupStats.set(`${id}\u0000${worker.id}`, { id, at: performance.now(), ...stats });
        break;
      case 'failed': {
        const task = msg.task === undefined ? undefined : this.run.tasks[msg.task];
        const where = task ? ` (source ${task.source.plan.name}, partition ${task.partition}${msg.offset !== undefined ? `, offset ${msg.offset}` : ''}${msg.operator ? `, operator ${msg.operator}` : ''})` : '';
        const e = new Error(`${msg.message}${where}`);
        if (msg.stack) e.stack = msg.stack;
        this.fail(e);
        break;
      }
    }
  }

  private onScaleTick(): void {
    const run = this.run;
    if (run.over || this.stopCtl.signal.aborted) return;
    const now = performance.now();
    const dt = Math.max(1, now - this.scaleTick.at);
    const pool = run.pool();
    const busy = run.tasks.reduce((a, t) => a + t.busyMs, 0);
    const observation = {
      now,
      workers: pool.length,
      partitions: run.tasks.length,
      backlog: this.data!.backlog(),
      throughput: ((run.counts.processed - this.scaleTick.processed) * 1000) / dt,
      utilization: pool.length ? Math.min(1, (busy - this.scaleTick.busy) / dt / pool.length) : 0,
    };
    this.scaleTick = { at: now, processed: run.counts.processed, busy };
    const { decision, state } = autoscale(observation, this.scalerState, this.scaler);
    this.scalerState = state;
    this.board!.lastDecision = decision;
    if (decision.action === 'hold') return;
    this.board!.decisions.push(decision);
    this.options.onEvent?.({ type: 'scale', decision });
    void this.placement!.enqueue(() => this.placement!.resize(decision.to));
  }

  private checkFinished(): void {
    const run = this.run;
    if (run.over || run.phase === 'starting') return;
    for (const t of run.tasks) if (!t.exhausted || t.reading || t.batches.length > 0) return;
    run.finished = true;
    run.phase = 'draining';
    this.finish().then(this.resolveDone, (e: Error) => {
      run.finished = false;
      this.fail(e);
    });
  }

  private async finish(): Promise<PipelineSummary> {
    for (const t of this.timers) clearInterval(t);
    const placement = this.placement!;
    await placement.settled();
    for (const s of this.run.sinks) await s.writer.close();
    await this.deadLetter!.close();
    for (const s of this.run.sources) await s.reader.close();
    const final = placement.size();
    await placement.closeAll();
    await this.state?.close();
    for (const c of this.run.connections) c.release();
    this.run.phase = 'done';
    return this.board!.finish(final);
  }

  private fail(error: Error): void {
    const run = this.run;
    if (run.failed) return;
    run.failed = error;
    run.phase = 'failed';
    this.stopCtl.abort();
    for (const t of this.timers) clearInterval(t);
    const cleanup = async () => {
      await this.placement?.stopAll();
      await Promise.allSettled([...run.sinks.map((s) => s.writer.close()), this.deadLetter?.close(), ...run.sources.map((s) => s.reader.close())]);
      await this.state?.close().catch(() => {});
    };
    cleanup().finally(() => {
      for (const c of run.connections) c.release();
      this.rejectDone(error);
    });
  }

  /** The status before the pool exists. */
  private startingStatus(): PipelineStatus {
    const run = this.run;
    return {
      pipeline: run.plan.pipeline, state: run.phase, elapsedMs: performance.now() - run.started, workers: 0,
      recordsIn: 0, recordsOut: 0, deadLetters: 0, inRate: 0, outRate: 0, backlog: 0, utilization: 0, inflightBatches: 0, rebalances: 0,
      sources: [], sinks: [], pool: [], partitions: [], lateRecords: 0, outages: outageList(run), stalled: [], lookups: [],
      connections: run.connections.map((c) => c.report()),
    };
  }
}
