/**
 * Which worker thread runs which task, and the pool itself: spawning and
 * retiring workers, recovering from a crash, and moving tasks with the
 * fewest moves (cluster/assignment.ts decides, this carries it out).
 *
 * Moving a task: stop dispatch → the old owner answers `release` after its
 * queued batches (drain) → its state goes to the new owner → dispatch
 * resumes. Other tasks never stop. Pool changes and rebalances run one at a
 * time, in order.
 */
import { serialize } from 'node:v8';
import { planAssignment } from '../cluster/assignment.ts';
import { WorkerHandle, type WorkerEvents } from '../worker/pool.ts';
import type { InitMessage, MovedState } from '../worker/wire.ts';
import type { RunContext } from './context.ts';
import type { DataPath } from './data-path.ts';
import type { MoveReport } from './run.ts';
import type { StateLog } from './state-log.ts';
import { needsWorker, orphan, type Task } from './tasks.ts';

export class Placement {
  private nextWorkerId = 0;
  /** Pool changes and rebalances, one at a time. */
  private serial: Promise<void> = Promise.resolve();
  /** The pool size asked for (by options, resize or the autoscaler); crashed workers are replaced up to it. */
  target = 0;
  readonly counts = { initial: 0, max: 0 };
  readonly moves: MoveReport[] = [];

  constructor(
    private readonly run: RunContext,
    private readonly data: DataPath,
    private readonly init: Omit<InitMessage, 'workerId'>,
    private readonly onMessage: WorkerEvents['message'],
    private readonly state: StateLog,
  ) {}

  /** The first workers and the first assignment, queued like every pool change (a consumer group may already be reporting partitions). */
  start(workers: number): Promise<void> {
    this.counts.initial = workers;
    this.target = workers;
    return this.enqueue(async () => {
      await this.spawn(workers);
      await this.rebalance('start');
    });
  }

  size(): number {
    return this.run.pool().length;
  }

  /** Runs a pool change after those already queued; a failed step fails the run. */
  enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.serial.then(() => (this.run.over ? undefined : step()));
    this.serial = next.catch((e: Error) => this.run.fail(e));
    return next;
  }

  /** Waits for the queued pool changes (the end of the run). */
  settled(): Promise<void> {
    return this.serial.catch(() => {});
  }

  async resize(n: number): Promise<void> {
    const target = Math.max(1, Math.min(n, this.run.tasks.length, this.run.workerCap));
    this.target = target;
    const size = this.size();
    if (target > size) {
      await this.spawn(target - size);
      await this.rebalance(`pool grew from ${size} to ${target} workers`);
    } else if (target < size) {
      // Retire the least loaded workers: the fewest partitions move.
      const load = (w: WorkerHandle) => this.run.ownedBy(w).reduce((a, t) => a + t.load + 1e-3, 0);
      const retiring = this.run.pool().sort((a, b) => load(a) - load(b) || b.id - a.id).slice(0, size - target);
      for (const w of retiring) w.retiring = true;
      await this.rebalance(`pool shrank from ${size} to ${target} workers`);
      for (const w of retiring) {
        await w.close();
        this.run.workers.delete(w.id);
      }
    }
  }

  private async spawn(n: number): Promise<void> {
    const fresh: WorkerHandle[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.nextWorkerId++;
      const w = new WorkerHandle(id, { ...this.init, workerId: id }, {
        message: this.onMessage,
        crash: (worker, error) => this.onCrash(worker, error),
      });
      this.run.workers.set(id, w);
      fresh.push(w);
    }
    await Promise.all(fresh.map((w) => w.ready.catch(() => {})));
    this.counts.max = Math.max(this.counts.max, this.size());
  }

  /** A worker answered a `release`: its state for the task. */
  onReleased(worker: WorkerHandle, task: number, state: MovedState): void {
    const done = worker.releases.get(task);
    worker.releases.delete(task);
    done?.(state);
  }

  private onCrash(worker: WorkerHandle, error: Error): void {
    const run = this.run;
    if (run.over) return;
    if ((error as Error & { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      // Its partitions would take their state to the next worker, which would run out too.
      const tasks = run.ownedBy(worker);
      const entries = tasks.reduce((n, t) => n + (t.stateInfo?.entries.reduce((a, b) => a + b, 0) ?? 0), 0);
      run.fail(new Error(
        `worker ${worker.id} ran out of its memory limit (${this.init.memoryMb} MB) with ${tasks.length} partition${tasks.length === 1 ? '' : 's'} holding ${entries} state entries: ` +
        'raise the limit (runtime.workerMemory, RunOptions.workerMemoryMb), spread the partitions over more workers, or keep less state (fewer keys, shorter windows)',
      ));
      return;
    }
    run.workers.delete(worker.id);
    run.counts.crashes++;
    const orphans = run.ownedBy(worker);
    run.options.onEvent?.({ type: 'worker-crash', worker: worker.id, error: error.message, partitions: orphans.length });
    for (const t of orphans) orphan(t, worker, this.state.stateful(t));
    // Moves waiting on this worker continue from the state log.
    for (const [, done] of worker.releases) done(undefined);
    worker.releases.clear();
    if (run.counts.crashes > (run.options.maxWorkerCrashes ?? 10)) {
      run.fail(new Error(`${run.counts.crashes} worker crashes; last: ${error.message}`));
      return;
    }
    void this.enqueue(async () => {
      const missing = this.target - this.size();
      if (missing > 0) await this.spawn(missing);
      await this.rebalance(`worker ${worker.id} crashed`);
    });
  }

  /** Places the tasks that need a worker with the fewest moves, and takes the others (partitions another process owns now) off theirs. */
  async rebalance(reason: string): Promise<void> {
    const run = this.run;
    const pool = run.pool();
    // Every worker crashed since this step was queued: each crash queued a step that replaces it and places the tasks.
    if (pool.length === 0 && run.counts.crashes > 0) return;
    if (pool.length === 0) throw new Error('no live workers');
    const plan = planAssignment(
      run.tasks.filter(needsWorker).map((t) => ({ id: t.id, owner: t.owner?.id, load: t.load })),
      pool.map((w) => w.id),
    );
    const leaving = run.tasks.filter((t) => !needsWorker(t) && t.owner !== undefined && !t.moving);
    if (plan.moves.length === 0 && leaving.length === 0) return;
    const startedAt = performance.now();
    const moving = new Set(plan.moves.map((m) => run.tasks[m.task]!));
    const staying = new Set(run.tasks.filter((t) => !moving.has(t)));
    for (const t of staying) t.maxGapMs = 0;
    this.data.watching = staying;
    if (run.phase === 'running') run.phase = 'rebalancing';
    const [reports] = await Promise.all([
      Promise.all(plan.moves.map((m) => this.move(run.tasks[m.task]!, run.workers.get(m.to)!))),
      Promise.all(leaving.map((t) => this.unplace(t))),
    ]);
    let nonMovingMaxGapMs = 0;
    const end = performance.now();
    for (const t of staying) {
      if (t.exhausted && t.batches.length === 0) continue;
      nonMovingMaxGapMs = Math.max(nonMovingMaxGapMs, t.maxGapMs, t.lastResultAt ? end - Math.max(t.lastResultAt, startedAt) : 0);
    }
    this.data.watching = undefined;
    if (run.phase === 'rebalancing') run.phase = 'running';
    if (reason !== 'start') {
      run.counts.rebalances++;
      this.moves.push(...reports);
    }
    run.options.onEvent?.({ type: 'rebalance', reason, moves: reports, released: leaving.length, durationMs: end - startedAt, nonMovingMaxGapMs });
  }

  /** Stop dispatch → drain (the old owner answers `release` after its queued batches) → hand the state over → resume. */
  private async move(task: Task, to: WorkerHandle): Promise<MoveReport> {
    const from = task.owner;
    const stoppedAt = performance.now();
    task.moving = true;
    const released = from?.alive ? await this.release(from, task) : undefined;
    task.owner = undefined;
    // Without a live owner to hand it over (a crash, a start), the state is what the state log kept.
    const restoring = performance.now();
    const restored = released ? undefined : await this.state.restore(task);
    if (restored) task.restoreMs = performance.now() - restoring;
    const state = released ?? (restored && serialize(restored));
    await to.ready.catch(() => {});
    const report = { source: task.source.plan.name, partition: task.partition, from: from?.id, to: to.id };
    if (!to.alive) {
      // The new owner crashed first; the rebalance its crash queued places the task.
      task.moving = false;
      return { ...report, pauseMs: performance.now() - stoppedAt };
    }
    to.post({ type: 'assign', task: task.id, chain: task.chain, partition: task.partition, state }, state ? [state.buffer as ArrayBuffer] : []);
    task.owner = to;
    task.moving = false;
    this.data.pump(task);
    return { ...report, pauseMs: performance.now() - stoppedAt };
  }

  /**
   * Takes a task off its worker for good: its partition went to another
   * process, with its state (which belongs to the new owner from now on).
   */
  private async unplace(task: Task): Promise<void> {
    const from = task.owner!;
    task.moving = true;
    if (from.alive) await this.release(from, task);
    task.owner = undefined;
    task.moving = false;
  }

  /** Asks a worker to drain a task and hand it over: its state once its queued batches ran (undefined if it dies first). */
  private release(from: WorkerHandle, task: Task): Promise<MovedState | undefined> {
    return new Promise((resolve) => {
      from.releases.set(task.id, resolve);
      from.post({ type: 'release', task: task.id });
    });
  }

  /** Every worker: closed when the run ends, stopped when it fails. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.run.workers.values()].map((w) => w.close()));
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.run.workers.values()].map((w) => w.stop()));
  }
}
