/**
 * The pipelines of one daemon and their lifecycles: start, stop (drain),
 * replace a changed version (drain the old run, then start the new one, so
 * a Kafka group hands over at the acknowledged offsets), restart a failed
 * run with exponential backoff, and stop everything on shutdown.
 *
 * A pipeline is keyed by its name (`pipeline NAME`, else the file name);
 * the admin endpoints and Kafka consumer groups use the same name.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectorSpecs, type ConnectorEnvironment } from '../../spi/environment.ts';
import { ConnectionBudget, startPipeline, type PipelineRun, type PipelineStatus, type PipelineSummary, type RunOptions, type ScaleDecision } from '../../../runtime/index.ts';
import type { Plan, PlanGraph } from '../../plan/plan.ts';
import type { Assignments } from './assignments.ts';
import type { Logger } from './log.ts';
import type { DaemonMetrics } from './metrics.ts';
import { changedInputs, compilePipeline, findPipelineFiles, type CompiledPipeline, type PipelineFile } from './pipelines.ts';
import type { DaemonConfig } from './settings.ts';

export type ManagedState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed' | 'done';

interface Managed {
  compiled: CompiledPipeline;
  state: ManagedState;
  /** Should be running: false after an admin stop, until an admin start. */
  wanted: boolean;
  run: PipelineRun | undefined;
  /** Settles when the current run has ended and its aftermath is handled. */
  ended: Promise<void> | undefined;
  startedAt: Date | undefined;
  restarts: number;
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  lastError: string | undefined;
  lastSummary: PipelineSummary | undefined;
  lastDecision: ScaleDecision | undefined;
  version: number;
}

export interface PipelineReport {
  name: string;
  file: string;
  state: ManagedState;
  wanted: boolean;
  version: number;
  startedAt: string | undefined;
  restarts: number;
  lastError: string | undefined;
  graph: { nodes: PlanGraph['nodes']; edges: { from: string; to: string; key?: string }[] };
  /** Kafka partitions this process owns, per source (null: not assigned yet). */
  assigned: Record<string, number[] | null> | undefined;
  run: PipelineStatus | undefined;
  lastDecision: ScaleDecision | undefined;
  summary: PipelineSummary | undefined;
}

export class PipelineManager {
  private readonly pipelines = new Map<string, Managed>();
  /** Paths watched for new and removed files. */
  private files: PipelineFile[] = [];
  /** Text of files that run no pipeline (libraries, versions that did not compile), to notice when they change. */
  private readonly idle = new Map<string, string>();
  /** Changed inputs seen at the last poll, by pipeline file: a change is applied once it has held still. */
  private readonly settling = new Map<string, string>();
  /** The process's PostgreSQL connections, shared by every pipeline it runs. */
  private readonly pgConnections: ConnectionBudget;
  private shuttingDown = false;
  private polling = false;

  constructor(
    private readonly config: DaemonConfig,
    private readonly env: ConnectorEnvironment,
    private readonly log: Logger,
    private readonly metrics: DaemonMetrics,
    private readonly assignments: Assignments,
  ) {
    this.pgConnections = new ConnectionBudget('postgres', config.postgres.connections, 'postgres.connections (SENSEI_PG_CONNECTIONS)');
  }

  /**
   * Finds and compiles every pipeline; on any error nothing is loaded and
   * the rendered diagnostics come back.
   */
  async load(paths: readonly string[]): Promise<{ ok: true; names: string[]; warnings: string } | { ok: false; report: string }> {
    this.files = await findPipelineFiles(paths);
    const compiled: CompiledPipeline[] = [];
    let report = '';
    let warnings = '';
    for (const file of this.files) {
      const outcome = await compilePipeline(file, connectorSpecs(this.env));
      if (!outcome.ok) {
        report += outcome.report;
        continue;
      }
      if (outcome.warnings) {
        warnings += outcome.warnings;
        this.log.warn({ event: 'compile-warnings', file: file.path, diagnostics: outcome.warnings }, 'pipeline compiled with warnings');
      }
      if (outcome.pipeline) compiled.push(outcome.pipeline);
      else {
        this.idle.set(file.path, await readFile(file.path, 'utf8'));
        this.log.info({ event: 'library', file: file.path }, 'file has no source: a library, not started');
      }
    }
    const seen = new Map<string, string>();
    for (const c of compiled) {
      const other = seen.get(c.name);
      if (other) report += `${c.path}: pipeline ${c.name} is also defined in ${other}; pipeline names must be unique in a daemon\n`;
      seen.set(c.name, c.path);
    }
    if (report) return { ok: false, report };
    for (const c of compiled) this.pipelines.set(c.name, this.fresh(c, 1));
    return { ok: true, names: compiled.map((c) => c.name), warnings };
  }

  startAll(): void {
    for (const m of this.pipelines.values()) if (m.wanted) this.launch(m);
  }

  plans(): Plan[] {
    return [...this.pipelines.values()].map((m) => m.compiled.plan);
  }

  names(): string[] {
    return [...this.pipelines.keys()];
  }

  has(name: string): boolean {
    return this.pipelines.has(name);
  }

  /** Drains and stops a pipeline; it stays stopped until `start`. */
  async stop(name: string): Promise<void> {
    const m = this.get(name);
    m.wanted = false;
    clearTimeout(m.restartTimer);
    if (m.state === 'failed') m.state = 'stopped';
    await this.halt(m, 'admin stop');
  }

  async start(name: string): Promise<void> {
    const m = this.get(name);
    m.wanted = true;
    clearTimeout(m.restartTimer);
    if (m.run === undefined) this.launch(m);
  }

  /** Ready: every pipeline that should run is running. */
  ready(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (this.shuttingDown) reasons.push('shutting down');
    for (const [name, m] of this.pipelines) {
      if (!m.wanted) continue;
      const status = m.run?.status();
      const state = status?.state;
      for (const o of status?.outages ?? []) reasons.push(`pipeline ${name}: waiting for ${o.what} since ${new Date(o.since).toISOString()} (${o.attempts} attempts): ${o.error}`);
      for (const s of status?.stalled ?? []) reasons.push(`pipeline ${name}: source ${s.source} partition ${s.partition} has ${s.backlog} records waiting and read none for ${Math.round(s.forMs / 1000)} s`);
      if (m.state !== 'running' || (state !== 'running' && state !== 'rebalancing')) {
        // After a failure the daemon retries with backoff: say what it is waiting out.
        const why = m.state !== 'running' && m.failures > 0 && m.lastError !== undefined ? ` (attempt ${m.failures + 1} after: ${m.lastError})` : '';
        reasons.push(`pipeline ${name} is ${m.state === 'running' ? state : m.state}${why}`);
      }
      else for (const source of this.assignments.waiting(name)) reasons.push(`pipeline ${name}: source ${source} has no consumer-group assignment yet`);
    }
    return { ready: reasons.length === 0, reasons };
  }

  report(): PipelineReport[] {
    return [...this.pipelines.entries()].map(([name, m]) => ({
      name,
      file: m.compiled.path,
      state: m.state,
      wanted: m.wanted,
      version: m.version,
      startedAt: m.startedAt?.toISOString(),
      restarts: m.restarts,
      lastError: m.lastError,
      graph: {
        nodes: m.compiled.plan.graph.nodes,
        edges: m.compiled.plan.graph.edges.map((e) => ({ from: e.from, to: e.to, ...(e.key !== undefined ? { key: e.key } : {}) })),
      },
      assigned: this.assignments.owned(name),
      run: m.run?.status(),
      lastDecision: m.lastDecision,
      summary: m.lastSummary,
    }));
  }

  /**
   * Looks for changed, new and removed pipeline files. A changed pipeline
   * that no longer compiles keeps running in its old version.
   */
  async poll(): Promise<void> {
    if (this.polling || this.shuttingDown) return;
    this.polling = true;
    try {
      const paths = [...new Set(this.config.pipelines.concat(this.files.filter((f) => f.explicit).map((f) => f.path)))];
      const files = await findPipelineFiles(paths).catch(() => this.files);
      const byPath = new Map([...this.pipelines.values()].map((m) => [m.compiled.path, m]));
      const tasks: Promise<void>[] = [];
      for (const file of files) {
        const m = byPath.get(file.path);
        if (m) {
          // A file can be caught half-written; a change counts once it is the same at two polls in a row.
          const changed = await changedInputs(m.compiled);
          if (changed !== undefined && this.settling.get(file.path) === changed) tasks.push(this.reload(file, m));
          if (changed === undefined || this.settling.get(file.path) === changed) this.settling.delete(file.path);
          else this.settling.set(file.path, changed);
          continue;
        }
        const text = await readFile(file.path, 'utf8').catch(() => undefined);
        if (text === undefined || this.idle.get(file.path) === text) continue;
        this.idle.set(file.path, text);
        tasks.push(this.reload(file, undefined));
      }
      for (const path of this.idle.keys()) if (!files.some((f) => f.path === path)) this.idle.delete(path);
      for (const [path, m] of byPath) {
        if (!files.some((f) => f.path === path)) tasks.push(this.remove(m));
      }
      this.files = files;
      await Promise.all(tasks);
    } finally {
      this.polling = false;
    }
  }

  /** Stops every pipeline: stop reading, drain, flush, commit, close. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.pipelines.values()].map((m) => {
      clearTimeout(m.restartTimer);
      return this.halt(m, 'shutdown');
    }));
  }

  // ---- internals -------------------------------------------------------------

  private get(name: string): Managed {
    const m = this.pipelines.get(name);
    if (!m) throw new Error(`no pipeline named ${name}`);
    return m;
  }

  private fresh(compiled: CompiledPipeline, version: number): Managed {
    return {
      compiled, state: 'stopped', wanted: true, run: undefined, ended: undefined, startedAt: undefined, restarts: 0, failures: 0,
      restartTimer: undefined, lastError: undefined, lastSummary: undefined, lastDecision: undefined, version,
    };
  }

  private runOptions(m: Managed): RunOptions {
    const { workers, autoscaler: a, runtime: r } = this.config;
    const name = m.compiled.name;
    return {
      env: this.env,
      workers: workers.min === workers.max ? workers.min : 'auto',
      batchSize: r.batchSize,
      maxInflightPerPartition: r.maxInflightPerPartition,
      maxInflightPerWorker: r.maxInflightPerWorker,
      maxBufferedRecords: r.maxBufferedRecords,
      workerMemoryMb: r.workerMemory,
      ...(r.stateDir !== undefined ? { stateDir: join(r.stateDir, name) } : {}),
      statusIntervalMs: r.statusInterval,
      connectionBudgets: [this.pgConnections],
      autoscaler: {
        minWorkers: workers.min,
        maxWorkers: workers.max,
        ...(workers.cpuBudget !== undefined ? { cpuBudget: workers.cpuBudget } : {}),
        intervalMs: a.interval,
        targetWindowMs: a.targetWindow,
        targetUtilization: a.targetUtilization,
        minUtilizationToScaleUp: a.minUtilizationToScaleUp,
        lowUtilization: a.lowUtilization,
        scaleUpStabilizationMs: a.scaleUpStabilization,
        scaleDownCooldownMs: a.scaleDownCooldown,
        stabilizationMs: a.stabilization,
        maxStepUp: a.maxStepUp,
        maxStepDown: a.maxStepDown,
      },
      hooks: {
        batchAcknowledged: (b) => this.metrics.batchLatency.observe({ pipeline: name, source: b.source }, b.latencyMs / 1000),
        sinkWritten: (w) => this.metrics.sinkFlush.observe({ pipeline: name, sink: w.sink }, w.latencyMs / 1000),
        operatorErrors: (e) => this.metrics.operatorErrors.inc({ pipeline: name, operator: e.operator, action: e.action }, e.count),
      },
      onStatus: (s) => {
        if (m.run) this.metrics.status(s, m.run, this.assignments.owned(name));
        if (s.lastDecision) m.lastDecision = s.lastDecision;
      },
      onEvent: (e) => {
        this.metrics.event(name, e);
        switch (e.type) {
          case 'scale':
            this.log.info({ event: 'scale', pipeline: name, action: e.decision.action, from: e.decision.from, to: e.decision.to, reason: e.decision.reason }, `pool ${e.decision.action} ${e.decision.from} → ${e.decision.to} workers`);
            break;
          case 'rebalance':
            this.log.info(
              { event: 'rebalance', pipeline: name, reason: e.reason, durationMs: Math.round(e.durationMs), moves: e.moves.map((mv) => ({ source: mv.source, partition: mv.partition, from: mv.from ?? null, to: mv.to, pauseMs: Math.round(mv.pauseMs) })) },
              `partitions moved between worker threads: ${e.reason}`,
            );
            break;
          case 'worker-crash':
            this.log.error({ event: 'worker-crash', pipeline: name, worker: e.worker, partitions: e.partitions, error: e.error }, `worker ${e.worker} crashed`);
            break;
          case 'assignment':
            this.assignments.assigned(name, e);
            break;
          case 'outage':
            this.log.warn({ event: 'outage', pipeline: name, connector: e.connector, what: e.what, error: e.error }, `${e.what} is failing; retrying with backoff: ${e.error}`);
            break;
          case 'recovered':
            this.log.info({ event: 'recovered', pipeline: name, connector: e.connector, what: e.what, downMs: e.downMs }, `${e.what} answers again after ${Math.round(e.downMs / 1000)} s`);
            break;
          case 'stalled':
            this.log.warn({ event: 'stalled', pipeline: name, source: e.source, partition: e.partition, backlog: e.backlog, forMs: Math.round(e.forMs) }, `source ${e.source} partition ${e.partition}: ${e.backlog} records waiting, none read for ${Math.round(e.forMs / 1000)} s`);
            break;
          case 'flowing':
            this.log.info({ event: 'flowing', pipeline: name, source: e.source, partition: e.partition, stalledMs: Math.round(e.stalledMs) }, `source ${e.source} partition ${e.partition} reads again`);
            break;
          case 'resume':
            this.log.info(
              { event: 'resume', pipeline: name, source: e.source, sink: e.sink, store: e.store, offsets: e.offsets },
              `source ${e.source} resumes after ${e.position}: sink ${e.sink} holds the records up to there (${e.store})`,
            );
            break;
        }
      },
    };
  }

  private launch(m: Managed): void {
    if (this.shuttingDown || m.run) return;
    const name = m.compiled.name;
    m.state = 'starting';
    m.startedAt = new Date();
    this.log.info({ event: 'pipeline-start', pipeline: name, file: m.compiled.path, version: m.version, sources: m.compiled.plan.sources.map((s) => `${s.name} (${s.connector})`) }, `starting pipeline ${name}`);
    this.assignments.begin(m.compiled.plan);
    const run = startPipeline(m.compiled.plan, this.runOptions(m));
    m.run = run;
    // `running` once the runtime has opened its connectors and assigned partitions to workers.
    const started = setInterval(() => {
      const s = run.status().state;
      if (m.run !== run || s === 'starting') return;
      clearInterval(started);
      if (s === 'running' || s === 'rebalancing') {
        m.state = 'running';
        this.log.info({ event: 'pipeline-running', pipeline: name, workers: run.workerIds().length }, `pipeline ${name} is running`);
      }
    }, 50);
    m.ended = run.done.then(
      (summary) => {
        clearInterval(started);
        this.ended(m, run);
        m.lastSummary = summary;
        m.failures = 0;
        if (m.state !== 'stopped') m.state = 'done';
        this.log.info({ event: 'pipeline-done', pipeline: name, recordsIn: summary.recordsIn, recordsOut: summary.recordsOut, deadLetters: summary.deadLetters, durationMs: Math.round(summary.durationMs) }, `pipeline ${name} finished`);
      },
      (error: Error) => {
        clearInterval(started);
        this.ended(m, run);
        m.lastError = error.message;
        m.state = 'failed';
        this.log.error({ event: 'pipeline-failed', pipeline: name, error: error.message }, `pipeline ${name} failed`);
        this.scheduleRestart(m);
      },
    );
  }

  private ended(m: Managed, run: PipelineRun): void {
    if (m.run !== run) return;
    m.run = undefined;
    this.metrics.forget(m.compiled.name);
    this.assignments.end(m.compiled.name);
  }

  private scheduleRestart(m: Managed): void {
    if (this.shuttingDown || !m.wanted || m.run) return;
    const { initialBackoff, maxBackoff } = this.config.restart;
    // A run that lasted longer than the longest backoff was healthy: start counting again.
    const lasted = Date.now() - (m.startedAt?.getTime() ?? 0);
    if (lasted > maxBackoff) m.failures = 0;
    const delay = Math.min(maxBackoff, initialBackoff * 2 ** m.failures);
    m.failures++;
    this.log.info({ event: 'pipeline-restart-scheduled', pipeline: m.compiled.name, inMs: delay, failures: m.failures }, `restarting pipeline ${m.compiled.name} in ${delay} ms`);
    m.restartTimer = setTimeout(() => {
      m.restartTimer = undefined;
      if (!m.wanted || m.run || this.shuttingDown) return;
      m.restarts++;
      this.metrics.pipelineRestarts.inc({ pipeline: m.compiled.name });
      this.launch(m);
    }, delay);
  }

  /** Stops reading and waits until everything read is acknowledged and the connectors are closed. */
  private async halt(m: Managed, why: string): Promise<void> {
    const run = m.run;
    if (!run) return;
    m.state = 'draining';
    this.log.info({ event: 'pipeline-stop', pipeline: m.compiled.name, reason: why }, `draining pipeline ${m.compiled.name} (${why})`);
    run.stop();
    await m.ended;
    // The run's end set `done` (drained) or `failed`; a drained stop is `stopped`.
    if ((m.state as ManagedState) !== 'failed') m.state = 'stopped';
    this.log.info({ event: 'pipeline-stopped', pipeline: m.compiled.name, reason: why }, `pipeline ${m.compiled.name} stopped`);
  }

  private async reload(file: PipelineFile, old: Managed | undefined): Promise<void> {
    const outcome = await compilePipeline(file, connectorSpecs(this.env));
    if (!outcome.ok) {
      this.log.error({ event: 'reload-failed', file: file.path, ...(old ? { pipeline: old.compiled.name } : {}), diagnostics: outcome.report }, old ? `changed pipeline does not compile; version ${old.version} keeps running` : 'new pipeline file does not compile');
      if (old) old.compiled = { ...old.compiled, inputs: await currentInputs(old.compiled.inputs) };
      return;
    }
    const next = outcome.pipeline;
    if (old && (!next || next.name !== old.compiled.name)) await this.remove(old);
    if (!next) {
      this.idle.set(file.path, await readFile(file.path, 'utf8').catch(() => ''));
      return;
    }
    this.idle.delete(file.path);
    const current = this.pipelines.get(next.name);
    if (current && current !== old) {
      this.log.error({ event: 'reload-failed', file: file.path, pipeline: next.name }, `pipeline ${next.name} is already defined in ${current.compiled.path}`);
      return;
    }
    if (!current) {
      const m = this.fresh(next, 1);
      this.pipelines.set(next.name, m);
      this.log.info({ event: 'pipeline-added', pipeline: next.name, file: file.path }, `new pipeline ${next.name}`);
      this.launch(m);
      return;
    }
    this.log.info({ event: 'pipeline-replace', pipeline: next.name, file: file.path, from: current.version, to: current.version + 1 }, `pipeline ${next.name} changed: draining version ${current.version}`);
    const wasWanted = current.wanted;
    await this.halt(current, 'replaced by a new version');
    current.compiled = next;
    current.version++;
    current.lastError = undefined;
    current.failures = 0;
    this.metrics.pipelineRestarts.inc({ pipeline: next.name });
    if (wasWanted) this.launch(current);
  }

  private async remove(m: Managed): Promise<void> {
    clearTimeout(m.restartTimer);
    m.wanted = false;
    await this.halt(m, 'its file was removed');
    this.pipelines.delete(m.compiled.name);
    this.log.info({ event: 'pipeline-removed', pipeline: m.compiled.name }, `pipeline ${m.compiled.name} removed`);
  }
}

/** The texts now on disk, so that a broken version is reported once, not at every poll. */
async function currentInputs(inputs: Map<string, string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of inputs.keys()) out.set(path, await readFile(path, 'utf8').catch(() => ''));
  return out;
}
