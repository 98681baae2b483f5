/**
 * Where the coordinator keeps the state of its stateful tasks: each
 * result carries what its batch changed (encoded by the worker), and once
 * the batch's output is accepted everywhere the changes go to the local
 * store (runtime/state/local-store.ts), in the task's batch order, before
 * the batch is acknowledged and its offsets committed. A task placed
 * without a live previous owner (a worker crash, the start of a run, a
 * partition this process gets) starts from what is stored, and skips the
 * records its state already covers.
 *
 * The store is a directory of the run's own (removed at its end) unless
 * `RunOptions.stateDir` names one that outlives it; only sources that
 * resume where they stopped (they commit offsets) restore state from an
 * earlier run; the others start over, and so does their state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionState } from '../../src/plan/chain.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { storeCodecs } from '../operators/registry.ts';
import type { StateChanges, StoreCodec } from '../state/codec.ts';
import { LocalStore } from '../state/local-store.ts';
import type { Task } from './tasks.ts';

export class StateLog {
  /** The codecs of each chain's operators, by chain index. */
  private readonly codecs: Map<string, StoreCodec>[][];

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

  /** A task of a source that starts over each run forgets what an earlier run stored. */
  forget(task: Task): Promise<void> {
    return this.store.clear(task.source.plan.name, task.partition);
  }

  /**
   * Keeps a batch's changes once `written` resolves true (its output
   * accepted), after the task's earlier batches; resolves true when they
   * are stored, false when the answer was abandoned (its batch goes to
   * another worker, which sends its own changes).
   */
  persist(task: Task, changes: StateChanges, written: Promise<boolean>, covered: number): Promise<boolean> {
    const stored = task.stateWrites
      .then(() => written)
      .then(async (ok) => {
        if (ok) await this.store.apply(task.source.plan.name, task.partition, changes, covered);
        return ok;
      });
    task.stateWrites = stored.then(() => {}, () => {});
    return stored;
  }

  /** The state the task starts from without a live previous owner: what is stored once its pending writes are; the records it covers are skipped. */
  async restore(task: Task): Promise<PartitionState | undefined> {
    if (!this.stateful(task)) return undefined;
    await task.stateWrites;
    const chain = this.plan.chains[task.chain]!;
    const stored = this.store.load(task.source.plan.name, task.partition, chain.operators, this.codecs[task.chain]!);
    if (!stored) return undefined;
    task.skipThrough = Math.max(task.skipThrough, stored.covered);
    return stored.state;
  }

  async close(): Promise<void> {
    await this.store.close();
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }
}
