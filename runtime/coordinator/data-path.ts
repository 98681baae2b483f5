/**
 * The data path of the coordinator: read a task's partition in offset
 * order, send its batches to the owning worker, write the worker's encoded
 * output to the sinks in the same order, and acknowledge a batch (commit
 * its offsets to the source) once every sink and the dead-letter target
 * have accepted everything derived from it.
 *
 * Backpressure is a bound on unacknowledged batches per task, on unanswered
 * batches per worker and on buffered records overall: a slow sink stops its
 * tasks' reads. Batches stay here until acknowledged, which is what lets a
 * crashed worker's batches go to the next owner (tasks.ts).
 */
import { RecordEncoder } from '../../src/formats/avro-codec.ts';
import { EXCHANGE_CONNECTOR } from '../../src/plan/plan.ts';
import type { DeadLetter, SinkWriter, SourceBatch } from '../../src/spi/connector.ts';
import type { WorkerHandle } from '../worker/pool.ts';
import { BufferPool, packOutput, packSourceBatch, type ResultMessage, type WrittenMessage } from '../worker/wire.ts';
import type { RunContext } from './context.ts';
import type { StateLog } from './state-log.ts';
import { newBatch, newEndBatch, takeAcknowledged, type Batch, type Task } from './tasks.ts';
import { stringifyJson } from '../../src/formats/json-text.ts';

/** How long a task reading an exchange waits for a batch before it gets a turn without one. */
const QUIET_MS = 1000;

export interface DataPathLimits {
  /** Largest batch read from a partition. */
  batchSize: number;
  /** Unacknowledged batches per task. */
  maxPerTask: number;
  /** Unanswered batches per worker. */
  maxPerWorker: number;
  /** Records read and not yet acknowledged, over all tasks. */
  maxBuffered: number;
}

export class DataPath {
  private readonly valueEncoder = new RecordEncoder();
  private readonly keyEncoder = new RecordEncoder();
  private readonly buffers = new BufferPool();
  /** Records read and not yet acknowledged. */
  private buffered = 0;
  /** Tasks waiting for `buffered` to fall below the limit. */
  private readonly starved = new Set<Task>();
  /** Tasks that keep their owner during a rebalance: the gaps between their results are measured. */
  watching: Set<Task> | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly limits: DataPathLimits,
    private readonly deadLetter: SinkWriter,
    private readonly state: StateLog,
  ) {}

  /** Send the task's unsent batches to its owner (while it has room), then read more if the task may. */
  pump(task: Task): void {
    if (this.run.over) return;
    const owner = task.owner;
    if (owner && !task.moving && owner.alive) {
      let covered = false;
      for (const b of task.batches) {
        if (b.sentTo || b.done || b.answered) continue;
        // Read before the task's state was restored, and all in that state already: done.
        if (!b.end && b.lastOffset <= task.skipThrough) {
          b.answered = b.done = covered = true;
          continue;
        }
        if (owner.inflight >= this.limits.maxPerWorker) {
          owner.blocked.add(task.id);
          break;
        }
        this.send(task, b, owner);
      }
      if (covered) {
        this.acknowledge(task);
        return;
      }
    }
    if (task.reading || task.exhausted || task.batches.length >= this.limits.maxPerTask) return;
    if (this.run.stopping.aborted) {
      task.exhausted = true;
      this.run.checkFinished();
      return;
    }
    // An exchange is read even so: the writes holding up its upstream tasks wait for that.
    if (this.buffered >= this.limits.maxBuffered && !task.source.plan.exchange) {
      this.starved.add(task);
      return;
    }
    this.read(task);
  }

  private read(task: Task): void {
    task.reading = true;
    task.source.reader.read(task.partition, this.limits.batchSize).then(
      (raw) => {
        task.reading = false;
        if (!raw || raw.offsets.length === 0) {
          task.exhausted = true;
          // Windows still open close with the input (not with a stop: their state stays for the next run), as the answer to one last batch.
          if (this.closesWindows(task) && !this.run.stopping.aborted) {
            task.batches.push(newEndBatch(task));
            this.pump(task);
          }
          this.run.checkFinished();
          return;
        }
        const batch = newBatch(task, raw);
        task.batches.push(batch);
        task.recordsIn += batch.count;
        // Records that go through an exchange were counted when read from their source.
        if (!task.source.plan.exchange) this.run.counts.recordsIn += batch.count;
        this.buffered += batch.count;
        this.pump(task);
      },
      (e: Error) => this.run.fail(new Error(`source ${task.source.plan.name} partition ${task.partition}: ${e.message}`)),
    );
  }

  /** The task's chain holds windows (an `aggregate`), which the end of its input closes, or tells an exchange that its input ended. */
  private closesWindows(task: Task): boolean {
    return this.run.plan.chains[task.chain]!.operators.some((o) => o.kind === 'aggregate') || this.run.chainSinks[task.chain]!.some((i) => this.run.sinks[i]!.plan.exchange);
  }

  private send(task: Task, batch: Batch, worker: WorkerHandle): void {
    if (batch.end) {
      batch.sentTo = worker;
      task.sentSeq = batch.seq;
      worker.inflight++;
      worker.post({ type: 'end', task: task.id, seq: batch.seq, offset: batch.lastOffset, ...(batch.quiet ? { quiet: true as const } : {}) });
      return;
    }
    const src = task.source;
    // Records the task's restored state already holds were read again: only the rest is sent.
    const raw = batch.raw.offsets[0]! <= task.skipThrough ? skipCovered(batch.raw, task.skipThrough) : batch.raw;
    const packed = packSourceBatch(raw, src.valueType, src.keyType, this.valueEncoder, this.keyEncoder, this.buffers);
    batch.sentTo = worker;
    task.sentSeq = batch.seq;
    worker.inflight++;
    worker.post({ ...packed, task: task.id, seq: batch.seq }, [packed.offsets.buffer as ArrayBuffer]);
  }

  /** A worker answered a batch: fan its outputs out to the sinks; acknowledge once all are written. */
  onResult(worker: WorkerHandle, msg: ResultMessage): void {
    if (msg.recycle) this.buffers.give(msg.recycle);
    const task = this.run.tasks[msg.task];
    const batch = task?.batches.find((b) => b.seq === msg.seq);
    // A late answer from a worker that lost the batch (crash) is dropped: the batch went elsewhere.
    if (!task || !batch || batch.sentTo !== worker || batch.answered) return;
    batch.answered = true;
    worker.inflight--;
    worker.busyMs += msg.busyMs;
    worker.records += batch.count;
    task.busyMs += msg.busyMs;
    this.run.counts.processed += batch.count;
    this.run.counts.skipped += msg.skipped;
    const hooks = this.run.options.hooks;
    for (const e of msg.errors) hooks?.operatorErrors?.(e);
    const now = performance.now();
    if (this.watching?.has(task) && task.lastResultAt) task.maxGapMs = Math.max(task.maxGapMs, now - task.lastResultAt);
    task.lastResultAt = now;
    if (msg.stateInfo) task.stateInfo = msg.stateInfo;
    task.lateRecords += msg.late;
    this.run.counts.lateRecords += msg.late;

    const writes = this.writeOutputs(task, msg);
    // A batch whose worker dies before its own sinks accepted the output goes to the next owner: this answer is abandoned.
    let abandon = () => {};
    const abandoned = new Promise<false>((resolve) => (abandon = () => resolve(false)));
    if (msg.writing) {
      batch.abandon = abandon;
      writes.push(new Promise<void>((resolve) => (batch.onWritten = (w) => {
        batch.onWritten = undefined;
        batch.abandon = undefined;
        this.countWorkerWrites(task, w);
        resolve();
      })));
    }
    if (msg.deadLetters) {
      const dl = msg.deadLetters;
      writes.push(this.deadLetter.write({ source: task.source.plan.name, partition: task.partition, ...dl }).then(() => void (this.run.counts.deadLetters += dl.count)));
    }
    const written = Promise.race([Promise.all(writes).then(() => true), abandoned]);
    // A stateful batch is acknowledged once its state changes are kept too, after its output.
    // Its changes are kept only if the batch is still this worker's when their turn comes (a crash before may have sent it again).
    const kept = msg.changes ? this.state.persist(task, msg.changes, () => written.then((ok) => ok && batch.sentTo === worker), batch.lastOffset) : written;
    kept.then(
      (ok) => {
        if (ok === false) return;
        batch.done = true;
        this.acknowledge(task);
      },
      (e: Error) => this.run.fail(e),
    );
    // The worker has room again: tasks waiting for it may send.
    if (worker.blocked.size > 0) {
      const waiting = [...worker.blocked];
      worker.blocked.clear();
      for (const id of waiting) this.pump(this.run.tasks[id]!);
    }
  }

  /** A worker's own sinks accepted a batch's output. */
  onWritten(worker: WorkerHandle, msg: WrittenMessage): void {
    const batch = this.run.tasks[msg.task]?.batches.find((b) => b.seq === msg.seq);
    if (batch?.sentTo === worker) batch.onWritten?.(msg);
  }

  /** The coordinator's sinks, one write per output of the batch. */
  private writeOutputs(task: Task, msg: ResultMessage): Promise<void>[] {
    const sinks = this.run.chainSinks[task.chain]!;
    const writes: Promise<void>[] = [];
    msg.outputs.forEach((out, i) => {
      if (!out) return;
      const sink = this.run.sinks[sinks[i]!]!;
      const writing = performance.now();
      writes.push(sink.writer.write({ source: task.source.plan.name, partition: task.partition, ...out }).then(() => {
        this.countWritten(sinks[i]!, out.count, performance.now() - writing);
      }));
    });
    return writes;
  }

  private countWorkerWrites(task: Task, w: WrittenMessage): void {
    const sinks = this.run.chainSinks[task.chain]!;
    w.counts.forEach((count, i) => {
      if (count > 0) this.countWritten(sinks[i]!, count, w.latencyMs);
    });
  }

  /** Records a sink accepted, wherever they were written from. */
  private countWritten(sinkIndex: number, records: number, latencyMs: number): void {
    const sink = this.run.sinks[sinkIndex]!;
    this.run.options.hooks?.sinkWritten?.({ sink: sink.plan.id, records, latencyMs });
    sink.records += records;
    if (!sink.plan.exchange) this.run.counts.recordsOut += records;
  }

  /** Advance the partition's acknowledged offset over the batches every sink has accepted. */
  private acknowledge(task: Task): void {
    const acked = takeAcknowledged(task);
    for (const b of acked) {
      this.buffered -= b.count;
      this.run.options.hooks?.batchAcknowledged?.({ source: task.source.plan.name, partition: task.partition, records: b.count, latencyMs: performance.now() - b.readAt });
    }
    const last = acked.findLast((b) => b.count > 0);
    if (last) {
      const commit = task.source.reader.commit?.(task.partition, last.lastOffset);
      if (commit) commit.catch((e: Error) => this.run.fail(e));
    }
    this.pump(task);
    if (this.starved.size > 0 && this.buffered < this.limits.maxBuffered) {
      const waiting = [...this.starved];
      this.starved.clear();
      for (const t of waiting) this.pump(t);
    }
    this.run.checkFinished();
  }

  /** Dead letters a connector reports itself (a source's unreadable record, a sink's rejected rows). */
  writeDeadLetters(source: string, partition: number, letters: DeadLetter[]): Promise<void> {
    const r = this.valueEncoder.encodeLines(letters.map((l) => stringifyJson(l)));
    const out = packOutput(this.valueEncoder.bytes(r.bytes), r.ends, letters.map((l) => l.offset));
    return this.deadLetter.write({ source, partition, ...out }).then(() => void (this.run.counts.deadLetters += letters.length));
  }

  /**
   * A task reading an in-process exchange takes its watermark from every
   * upstream partition, and one of them may go idle while nothing arrives:
   * such a task that had nothing to do for a second gets a turn without
   * records, so that windows the remaining partitions have passed close.
   * (A Kafka exchange's tasks, whose partitions move between processes and
   * are restored from changelogs, get none: they see the time pass with the
   * next record or watermark any upstream partition sends.)
   */
  quietTurns(now: number): void {
    for (const task of this.run.tasks) {
      if (task.source.plan.connector !== EXCHANGE_CONNECTOR || !task.owned || !task.owner || task.exhausted || task.batches.length > 0 || now - task.lastResultAt < QUIET_MS) continue;
      task.batches.push(newEndBatch(task, true));
      this.pump(task);
    }
  }

  /** Records waiting: in the sources plus read and not yet answered. */
  backlog(): number {
    let n = 0;
    for (const t of this.run.tasks) {
      n += t.source.reader.backlog?.(t.partition) ?? 0;
      for (const b of t.batches) if (!b.answered) n += b.count;
    }
    return n;
  }
}

/** The records of a batch after offset `through`. */
function skipCovered(raw: SourceBatch, through: number): SourceBatch {
  const from = raw.offsets.findIndex((o) => o > through);
  if (from <= 0) return raw;
  const cut = <T>(a: T[] | undefined) => a?.slice(from);
  return {
    ...raw, offsets: raw.offsets.slice(from), timestamps: raw.timestamps.slice(from), keys: raw.keys.slice(from),
    ...(raw.values ? { values: cut(raw.values) } : {}), ...(raw.encoded ? { encoded: cut(raw.encoded) } : {}),
    ...(raw.rawKeys ? { rawKeys: cut(raw.rawKeys) } : {}), ...(raw.headers ? { headers: cut(raw.headers) } : {}),
  };
}
