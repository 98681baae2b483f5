/**
 * The stateful operators of one task, with their stores and the task's
 * event time: built when a task is assigned (from the state it had
 * elsewhere), fed each batch's record times, and snapshotted when the task
 * moves or checkpoints. Workers and `sensei test` share it.
 */
import type { PartitionState } from '../../src/plan/chain.ts';
import type { PlanOperator } from '../../src/plan/plan.ts';
import { memoryBackend, type KeyValueStore, type StoreBackend } from '../state/store.ts';
import { maxTimestamp, Watermarks, type WatermarkOptions } from '../time/watermarks.ts';
import type { StatefulOperator } from './operator.ts';
import { OPERATORS } from './registry.ts';

/** Record time is the source's record timestamp, with no lateness, until sources declare their event time. */
const RECORD_TIME: WatermarkOptions = { latenessMs: 0, idleMs: Infinity };

export class TaskOperators {
  /** By index in the chain's `operators`: what `ChainContext.operators` holds. */
  readonly instances: StatefulOperator[];
  private readonly stores: Map<string, KeyValueStore>[];
  private readonly time: Watermarks;
  private watermark = -Infinity;

  constructor(
    private readonly descriptors: readonly PlanOperator[],
    from: PartitionState | undefined,
    now: number,
    backend: StoreBackend = memoryBackend,
  ) {
    this.stores = descriptors.map((d) => new Map(d.stores.map((s) => [s.name, backend.open(s, from?.[d.id]?.[s.name])])));
    this.instances = descriptors.map((d, i) => {
      const factory = OPERATORS.get(d.kind);
      if (!factory) throw new Error(`operator ${d.id}: no stateful operator of kind ${d.kind}`);
      return factory(d, this.stores[i]!);
    });
    this.time = new Watermarks(1, RECORD_TIME, now);
  }

  get stateful(): boolean {
    return this.descriptors.length > 0;
  }

  /** A batch went through the chain: advance time from its record timestamps and let the operators react. */
  afterBatch(timestamps: ArrayLike<number>, now: number): void {
    if (!this.stateful || timestamps.length === 0) return;
    this.time.observe(0, maxTimestamp(timestamps), now);
    const watermark = this.time.current(now);
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    for (const op of this.instances) op.onWatermark?.(watermark);
  }

  /** Every store's contents, by operator id and store name. */
  snapshot(): PartitionState {
    const state: PartitionState = {};
    this.descriptors.forEach((d, i) => {
      state[d.id] = Object.fromEntries([...this.stores[i]!].map(([name, store]) => [name, store.snapshot()]));
    });
    return state;
  }
}
