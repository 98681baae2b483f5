/**
 * Where the coordinator keeps the state of its stateful tasks: each
 * result carries what its batch changed (encoded by the worker), and once
 * the batch's output is accepted everywhere the changes go to the source's
 * changelogs (when it has them: Kafka) and then to the local store
 * (runtime/state/local-store.ts), in the task's batch order, before the
 * batch is acknowledged and its offsets committed. A task placed without a
 * live previous owner (a worker crash, the start of a run, a partition
 * this process gets from another) starts from the local store, caught up
 * with what its changelogs hold beyond it, and skips the records its state
 * already covers.
 *
 * A changelog partition holds, per batch, the changed entries (key byte 0,
 * then the store key) and a meta entry (key byte 1): the source offset the
 * state covers and the task's time. Every store of the task gets the meta,
 * so a restore takes the smallest covered offset among them.
 *
 * The store is a directory of the run's own (removed at its end) unless
 * `RunOptions.stateDir` names one that outlives it. Only sources that
 * resume where they stopped (they commit offsets) restore state from an
 * earlier run; the others start over, and so does their state. With
 * exactly-once the local store may hold changes of a transaction that
 * never committed, so a new run reads the changelogs alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionState, TimeState } from '../../src/plan/chain.ts';
import type { ChangelogEntry, StateChangelog } from '../../src/spi/connector.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { storeCodecs } from '../operators/registry.ts';
import type { StateChanges, StoreChanges, StoreCodec } from '../state/codec.ts';
import { LocalStore } from '../state/local-store.ts';
import type { Task } from './tasks.ts';

export class StateLog {
  /** The codecs of each chain's operators, by chain index. */
  private readonly codecs: Map<string, StoreCodec>[][];
  /** Changelogs whose logs exist (prepare). */
  private readonly prepared = new Set<StateChangelog>();

  private constructor(
    private readonly plan: Plan,
    private readonly store: LocalStore,
    /** The directory to remove at the end: the run's own. */
    private readonly scratch: string | undefined,
  ) {
    this.codecs = plan.chains.map((c) => c.operators.map(storeCodecs));
  }

  static async open(plan: Plan, dir: string | undefined): Promise<StateLog> {
    const scratch = dir === undefined ? await mkdtemp(join(tmpdir(), `sensei-state-${plan.pipeline}-`)) : undefined;
    return new StateLog(plan, LocalStore.open(dir ?? scratch!), scratch);
  }

  /** Whether the task's chain keeps state. */
  stateful(task: Task): boolean {
    return this.plan.chains[task.chain]!.operators.length > 0;
  }

  /**
   * At the start of a run: the changelogs of the task's stores exist, and
   * what an earlier run left in the local store is forgotten when it cannot
   * be trusted (a source that starts over, or exactly-once).
   */
  async prepare(task: Task): Promise<void> {
    const changelog = task.source.reader.changelog;
    // One source's tasks share their logs (a partition each): made sure of once.
    if (changelog && !this.prepared.has(changelog)) {
      this.prepared.add(changelog);
      await changelog.prepare(this.logs(task).map((l) => l.name));
    }
    if (!task.source.reader.commit || changelog?.transactional) await this.store.clear(task.source.plan.name, task.partition);
  }

  /** The task's stores: their changelogs' names (`operator/store`). */
  private logs(task: Task): { operator: string; store: string; name: string }[] {
    return this.plan.chains[task.chain]!.operators.flatMap((op) => op.stores.map((s) => ({ operator: op.id, store: s.name, name: `${op.id}/${s.name}` })));
  }

  /**
   * Keeps a batch's changes, after the task's earlier batches, once
   * `written` (asked then) resolves true: its output accepted. Resolves true
   * when they are stored, false when the answer was abandoned (its batch
   * goes to another worker, which sends its own changes).
   */
  persist(task: Task, changes: StateChanges, written: () => Promise<boolean>, covered: number): Promise<boolean> {
    const stored = task.stateWrites
      .then(written)
      .then(async (ok) => {
        if (!ok) return false;
        const logOffsets = await this.appendToChangelogs(task, changes, covered);
        await this.store.apply(task.source.plan.name, task.partition, changes, covered, logOffsets);
        return true;
      });
    task.stateWrites = stored.then(() => {}, () => {});
    return stored;
  }

  /** Each store's changes and the meta entry, to its changelog partition; the logs' offsets after them. */
  private async appendToChangelogs(task: Task, changes: StateChanges, covered: number): Promise<Record<string, number>> {
    const changelog = task.source.reader.changelog;
    if (!changelog) return {};
    const meta: ChangelogEntry = { key: META_KEY, value: Buffer.from(JSON.stringify({ covered, time: changes.time } satisfies Meta)) };
    const offsets: Record<string, number> = {};
    await Promise.all(this.logs(task).map(async (log) => {
      const store = changes.stores.find((s) => s.operator === log.operator && s.store === log.store);
      const entries: ChangelogEntry[] = store ? store.keys.map((key, i) => ({ key: entryKey(key), value: store.values[i]! })) : [];
      offsets[log.name] = await changelog.append(log.name, task.partition, [...entries, meta]);
    }));
    return offsets;
  }

  /**
   * The state the task starts from without a live previous owner: the
   * local store once the task's pending writes are in it, caught up with
   * what the changelogs hold beyond it; the records it covers are skipped.
   */
  async restore(task: Task): Promise<PartitionState | undefined> {
    if (!this.stateful(task)) return undefined;
    await task.stateWrites;
    const chain = this.plan.chains[task.chain]!;
    const source = task.source.plan.name;
    let stored = this.store.load(source, task.partition, chain.operators, this.codecs[task.chain]!);
    const changelog = task.source.reader.changelog;
    if (changelog && (await this.catchUp(task, changelog, stored?.logOffsets ?? {}))) {
      stored = this.store.load(source, task.partition, chain.operators, this.codecs[task.chain]!);
    }
    if (!stored) return undefined;
    task.skipThrough = Math.max(task.skipThrough, stored.covered);
    return stored.state;
  }

  /** Applies to the local store what the task's changelogs hold beyond it; whether they held anything. */
  private async catchUp(task: Task, changelog: StateChangelog, from: Record<string, number>): Promise<boolean> {
    const logs = this.logs(task);
    const read = await Promise.all(logs.map((l) => changelog.read(l.name, task.partition, from[l.name] ?? 0)));
    if (read.every((r) => r.entries.length === 0)) return false;
    const stores: StoreChanges[] = [];
    let last: Meta | undefined;
    read.forEach(({ entries }, i) => {
      const changes: StoreChanges = { operator: logs[i]!.operator, store: logs[i]!.store, keys: [], values: [] };
      /** The log's last meta entry: what its state covers. */
      let metaEntry: Uint8Array | undefined;
      for (const e of entries) {
        if (e.key[0] === META_KEY[0]) {
          metaEntry = e.value!;
          continue;
        }
        changes.keys.push(e.key.subarray(1));
        changes.values.push(e.value);
      }
      // A crash between two logs' appends leaves one behind: the state covers only what every log has.
      const meta = metaEntry && (JSON.parse(Buffer.from(metaEntry).toString('utf8')) as Meta);
      if (meta && (!last || meta.covered < last.covered)) last = meta;
      stores.push(changes);
    });
    if (!last) return false;
    await this.store.apply(task.source.plan.name, task.partition, { stores, time: last.time }, last.covered, Object.fromEntries(logs.map((l, i) => [l.name, read[i]!.next])));
    return true;
  }

  async close(): Promise<void> {
    await this.store.close();
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }
}

/** A changelog's meta entry: the offset the state covers after the batch, and the task's time. */
interface Meta {
  covered: number;
  time: TimeState;
}

const META_KEY = Buffer.from([1]);

function entryKey(key: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0]), key]);
}
