/**
 * Worker threads as the coordinator sees them: spawn, message, terminate,
 * and tell a crash (uncaught error, unexpected exit) from a planned stop.
 */
import { Worker } from 'node:worker_threads';

import type { FromWorker, InitMessage, MovedState, ToWorker } from './wire.ts';
import { bundledWorker } from './bundle.ts';

const TSX_ENTRY = new URL('./entry.mjs', import.meta.url);

export interface WorkerEvents {
  message(worker: WorkerHandle, msg: FromWorker): void;
  /** The worker died without being asked to. */
  crash(worker: WorkerHandle, error: Error): void;
}

/** Node flags minus tsx's (`--import tsx`, `--require …/tsx/…/preflight.cjs`, `--import=tsx`). */
function withoutTsx(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/tsx/.test(a)) continue;
    if (/^(--import|--require|-r|--loader)$/.test(a) && /tsx/.test(args[i + 1] ?? '')) {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

export class WorkerHandle {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  alive = true;
  /** Leaving the pool: gets no new tasks, terminated once its tasks have moved. */
  retiring = false;
  /** Batches sent and not answered yet. */
  inflight = 0;
  /** Tasks (by id) with batches waiting for this worker to have room. */
  readonly blocked = new Set<number>();
  /** Busy time and records over the worker's life, from its results. */
  busyMs = 0;
  records = 0;
  /** Pending `release` requests by task. */
  readonly releases = new Map<number, (state: MovedState | undefined) => void>();
  private stopping = false;
  /** Resolves a pending `close`. */
  private closed: (() => void) | undefined;
  private readonly failReady: (e: Error) => void;

  constructor(
    readonly id: number,
    init: InitMessage,
    events: WorkerEvents,
  ) {
    // Workers need no tsx flags: the bundle is JavaScript, and the fallback entry registers tsx itself.
    this.worker = new Worker(bundledWorker(init) ?? TSX_ENTRY, { execArgv: withoutTsx(process.execArgv), resourceLimits: { maxOldGenerationSizeMb: init.memoryMb } });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.ready.catch(() => {});
    this.failReady = readyReject;
    const died = (error: Error) => {
      if (!this.alive) return;
      this.alive = false;
      readyReject(error);
      if (!this.stopping) events.crash(this, error);
    };
    this.worker.on('message', (msg: FromWorker) => {
      if (!this.alive) return;
      if (msg.type === 'ready') readyResolve();
      else if (msg.type === 'closed') this.closed?.();
      else events.message(this, msg);
    });
    this.worker.on('error', died);
    this.worker.on('exit', (code) => died(new Error(`worker ${id} exited with code ${code}`)));
    this.worker.postMessage(init);
  }

  post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /** Planned stop after the worker finished its writes in flight and closed its sinks (at most `timeoutMs`). */
  async close(timeoutMs = 30_000): Promise<void> {
    if (this.alive) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.closed = () => (clearTimeout(timer), resolve());
        this.worker.once('exit', this.closed);
        this.post({ type: 'close' });
      });
    }
    await this.stop();
  }

  /** Stop now. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.alive = false;
    this.failReady(new Error(`worker ${this.id} stopped`));
    await this.worker.terminate();
  }

  /** Fault injection for tests: the coordinator sees this as a crash. */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }
}
