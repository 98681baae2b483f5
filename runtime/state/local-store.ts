/**
 * The local store: the state of this process's stateful tasks on disk, in
 * LMDB (the `lmdb` package: a memory-mapped B-tree with synchronous reads
 * and writes batched off the main thread). The coordinator applies each
 * batch's changes (codec.ts) once the batch's output is accepted, together
 * with the source offset the state then covers, in one transaction; a task
 * restored from it (after a worker crash, or a restart) skips the records
 * its state already covers.
 *
 * Writes are not fsynced one by one (`noSync`): the operating system keeps
 * them through a crash of the process, which is what a restart needs; a
 * machine that loses power restores from the changelog instead.
 *
 * Layout: one entry per store key, under `source NUL partition NUL operator
 * NUL store NUL` + the key's bytes; per task a `time` entry (its event
 * time), a `covered` entry (the last source offset in its state) and per
 * changelog the offset up to which the store holds it.
 */
import { open, type RootDatabase } from 'lmdb';
import type { PartitionState } from '../../src/plan/chain.ts';
import type { PlanOperator } from '../../src/plan/plan.ts';
import type { StateChanges, StoreCodec } from './codec.ts';

export interface StoredState {
  state: PartitionState;
  /** The last source offset the state includes (−1: none). */
  covered: number;
  /** Per changelog (`operator/store`), the offset after the last entry the store holds. */
  logOffsets: Record<string, number>;
}

export class LocalStore {
  private constructor(private readonly db: RootDatabase<Buffer, Buffer>) {}

  static open(dir: string): LocalStore {
    return new LocalStore(open<Buffer, Buffer>({ path: dir, keyEncoding: 'binary', encoding: 'binary', noSync: true }));
  }

  /**
   * A batch's changes of a task (or what its changelogs held beyond the
   * store), the offset its state covers from now on, and how far into each
   * changelog it is, in one transaction.
   */
  apply(source: string, partition: number, changes: StateChanges, covered: number, logOffsets: Record<string, number> = {}): Promise<void> {
    const task = taskPrefix(source, partition);
    return this.db.transaction(() => {
      for (const s of changes.stores) {
        const prefix = Buffer.concat([task, text(`${s.operator}\0${s.store}\0`)]);
        s.keys.forEach((key, i) => {
          const at = Buffer.concat([prefix, key]);
          const value = s.values[i];
          if (value) void this.db.put(at, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
          else void this.db.remove(at);
        });
      }
      void this.db.put(meta(task, 'time'), text(JSON.stringify(changes.time)));
      void this.db.put(meta(task, 'covered'), text(String(covered)));
      for (const [log, next] of Object.entries(logOffsets)) void this.db.put(meta(task, `log ${log}`), text(String(next)));
    }).then(() => undefined);
  }

  /** A task's state as stored, decoded with its operators' codecs; undefined when nothing is stored. */
  load(source: string, partition: number, operators: readonly PlanOperator[], codecs: readonly Map<string, StoreCodec>[]): StoredState | undefined {
    const task = taskPrefix(source, partition);
    const covered = this.db.get(meta(task, 'covered'));
    if (covered === undefined) return undefined;
    const time = this.db.get(meta(task, 'time'));
    const logOffsets: Record<string, number> = {};
    const stores: PartitionState['stores'] = {};
    operators.forEach((op, i) => {
      stores[op.id] = {};
      for (const [name, codec] of codecs[i]!) {
        const prefix = Buffer.concat([task, text(`${op.id}\0${name}\0`)]);
        const entries = new Map<unknown, unknown>();
        for (const { key, value } of this.db.getRange({ start: prefix, end: upperBound(prefix) })) {
          const k = codec.readKey(key.subarray(prefix.length));
          entries.set(k, codec.readValue(value, k));
        }
        stores[op.id]![name] = entries;
        const next = this.db.get(meta(task, `log ${op.id}/${name}`));
        if (next !== undefined) logOffsets[`${op.id}/${name}`] = Number(next.toString('utf8'));
      }
    });
    return { state: { stores, ...(time ? { time: JSON.parse(time.toString('utf8')) } : {}) }, covered: Number(covered.toString('utf8')), logOffsets };
  }

  /** Forgets a task's state (a source that starts over each run). */
  clear(source: string, partition: number): Promise<void> {
    const task = taskPrefix(source, partition);
    return this.db.transaction(() => {
      for (const key of this.db.getKeys({ start: task, end: upperBound(task) })) void this.db.remove(key);
    }).then(() => undefined);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function text(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function taskPrefix(source: string, partition: number): Buffer {
  return text(`${source}\0${partition}\0`);
}

/** A task's own entries sort before its stores' (\u0001 < any operator id's first character). */
function meta(task: Buffer, name: string): Buffer {
  return Buffer.concat([task, text(`\u0001${name}`)]);
}

/** The first key after every key that starts with `prefix` (which ends with NUL): the prefix with its last byte raised. */
function upperBound(prefix: Buffer): Buffer {
  const bound = Buffer.from(prefix);
  bound[bound.length - 1]! += 1;
  return bound;
}
