/**
 * The task table: a task is one source partition, with the batches read
 * from it and not yet acknowledged, and its owner among the workers. A
 * stateful task's state is kept by the state log (state-log.ts), which a
 * new owner starts from after a crash: it holds exactly the acknowledged
 * batches, so a batch sent again is never already in it (a `dedupe` would
 * count its records as seen and drop them).
 */
import type { PlanSink, PlanSource } from '../../src/plan/plan.ts';
import type { AvroType } from '../../src/formats/avro-codec.ts';
import type { SinkWriter, SourceBatch, SourceReader } from '../../src/spi/connector.ts';
import type { WorkerHandle } from '../worker/pool.ts';
import type { WrittenMessage } from '../worker/wire.ts';

export interface Source {
  plan: PlanSource;
  reader: SourceReader;
  valueType: AvroType;
  keyType: AvroType | undefined;
  tasks: Task[];
  /** The partitions this process owns, when the source's consumer group decides (`SourceReader.assignedPartitions`). */
  owned: Set<number> | undefined;
}

export interface Sink {
  plan: PlanSink;
  writer: SinkWriter;
  records: number;
}

export interface Batch {
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
  /** Gives up that wait: the worker died, the batch goes to the next owner. */
  abandon: (() => void) | undefined;
  done: boolean;
  /** The end of the partition's input: no records, the windows its operators still hold close. */
  end: boolean;
  /** With `end`: not the end, only a turn without records, so that the task's watermark sees the time passed (idle inputs). */
  quiet: boolean;
}

export interface Task {
  id: number;
  source: Source;
  partition: number;
  chain: number;
  owner: WorkerHandle | undefined;
  moving: boolean;
  batches: Batch[];
  reading: boolean;
  exhausted: boolean;
  /**
   * This process owns the partition (always, unless its source's consumer
   * group shares the partitions among processes). Only owned tasks, and
   * tasks still draining batches, are placed on a worker.
   */
  owned: boolean;
  nextSeq: number;
  /** The last offset read (−1 before the first batch). */
  lastOffset: number;
  /** The state log's writes of the task's changes, in batch order (state-log.ts). */
  stateWrites: Promise<void>;
  /** Records up to this offset are in the state the task was restored with: read again, they are skipped. */
  skipThrough: number;
  /** Its state as the last result reported it (stateful tasks). */
  stateInfo: { entries: number[]; watermark: number | null } | undefined;
  /** Records dead-lettered because their windows had closed. */
  lateRecords: number;
  /** How long its last restore from the state log took. */
  restoreMs: number | undefined;
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

export function newTask(id: number, source: Source, partition: number, chain: number): Task {
  return {
    id, source, partition, chain, owner: undefined, moving: false, batches: [], reading: false, exhausted: false, owned: source.owned?.has(partition) ?? true, nextSeq: 0, lastOffset: -1,
    stateWrites: Promise.resolve(), skipThrough: -1, stateInfo: undefined, lateRecords: 0, restoreMs: undefined, sentSeq: -1, recordsIn: 0, busyMs: 0, load: 0, busyAtLastTick: 0, lastResultAt: 0, maxGapMs: 0,
  };
}

export function newBatch(task: Task, raw: SourceBatch): Batch {
  const count = raw.offsets.length;
  task.lastOffset = raw.offsets[count - 1]!;
  return {
    seq: task.nextSeq++, raw, count, lastOffset: task.lastOffset, readAt: performance.now(),
    sentTo: undefined, answered: false, onWritten: undefined, abandon: undefined, done: false, end: false, quiet: false,
  };
}

/** The batch that ends a partition's input (`Batch.end`), after every batch read from it; or a `quiet` turn. */
export function newEndBatch(task: Task, quiet = false): Batch {
  const last = task.batches.at(-1)?.lastOffset ?? task.lastOffset;
  return {
    seq: task.nextSeq++, raw: { offsets: [], timestamps: [], keys: [] }, count: 0, lastOffset: last, readAt: performance.now(),
    sentTo: undefined, answered: false, onWritten: undefined, abandon: undefined, done: false, end: true, quiet,
  };
}

/** Takes the acknowledged batches off the front of the task (in order). */
export function takeAcknowledged(task: Task): Batch[] {
  const acked: Batch[] = [];
  while (task.batches.length > 0 && task.batches[0]!.done) acked.push(task.batches.shift()!);
  return acked;
}

/** Whether the task needs a worker: this process owns its partition, or it still has batches to finish. */
export function needsWorker(task: Task): boolean {
  return task.owned || task.batches.length > 0;
}

/**
 * The task's worker died: batches it did not answer, or whose output it had
 * not finished writing itself, go to the next owner. In a stateful task the
 * answers after such a batch go too: their state changes were computed on
 * top of its own, which is not kept.
 */
export function orphan(task: Task, dead: WorkerHandle, stateful: boolean): void {
  task.owner = undefined;
  let reset = false;
  for (const b of task.batches) {
    if (b.sentTo !== dead || b.done || (b.answered && !b.onWritten && !(stateful && reset))) continue;
    reset = true;
    b.sentTo = undefined;
    b.answered = false;
    b.onWritten = undefined;
    b.abandon?.();
    b.abandon = undefined;
  }
}
