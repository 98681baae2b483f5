/**
 * The stateful operators of one task, with their stores and the task's
 * event time: built when a task is assigned (from the state it had
 * elsewhere), told after each batch how far its records' times reached,
 * and snapshotted when the task moves or checkpoints. Workers and
 * `sensei test` share it.
 */
import type { PartitionState, WindowResult } from '../../src/plan/chain.ts';
import type { PlanEventTime, PlanOperator } from '../../src/plan/plan.ts';
import { memoryBackend, type KeyValueStore, type StoreBackend } from '../state/store.ts';
import { Watermarks, type WatermarkOptions } from '../time/watermarks.ts';
import type { StatefulOperator } from './operator.ts';
import { OPERATORS } from './registry.ts';

/** Without a declared event time, record timestamps are the time, with no lateness. */
const RECORD_TIME: WatermarkOptions = { latenessMs: 0, idleMs: Infinity };

/** Hands operator i's results to the chain's emitter for it. */
export type EmitResults = (operator: number, results: WindowResult[]) => void;

export class TaskOperators {
  /** By index in the chain's `operators`: what `ChainContext.operators` holds. */
  readonly instances: StatefulOperator[];
  private readonly stores: Map<string, KeyValueStore>[];
  private readonly time: Watermarks;
  private watermark: number;

  constructor(
    private readonly descriptors: readonly PlanOperator[],
    from: PartitionState | undefined,
    now: number,
    eventTime?: PlanEventTime,
    backend: StoreBackend = memoryBackend,
  ) {
    this.stores = descriptors.map((d) => new Map(d.stores.map((s) => [s.name, backend.open(s, from?.stores[d.id]?.[s.name])])));
    this.instances = descriptors.map((d, i) => {
      const factory = OPERATORS.get(d.kind);
      if (!factory) throw new Error(`operator ${d.id}: no stateful operator of kind ${d.kind}`);
      return factory(d, this.stores[i]!);
    });
    this.time = new Watermarks(1, eventTime ? { latenessMs: eventTime.latenessMs, idleMs: eventTime.idleMs } : RECORD_TIME, now, from?.time);
    this.watermark = from?.time?.watermark ?? -Infinity;
    for (const op of this.instances) if (this.watermark > -Infinity) op.onWatermark?.(this.watermark);
  }

  get stateful(): boolean {
    return this.descriptors.length > 0;
  }

  /** The task's watermark: −Infinity until it has seen a record. */
  get currentWatermark(): number {
    return this.watermark;
  }

  /**
   * A batch went through the chain and its records' times reached
   * `maxTime`: advance the watermark, let the operators close what it
   * passed, and hand each operator's results to `emit`, in operator order
   * (an emitter may feed a later operator, whose results then follow).
   */
  afterBatch(maxTime: number, now: number, emit: EmitResults): void {
    if (!this.stateful) return;
    if (maxTime > -Infinity) this.time.observe(0, maxTime, now);
    this.advance(this.time.current(now), emit);
  }

  /** The input ended: every window closes, and the last results go to `emit`. */
  finish(emit: EmitResults): void {
    if (this.stateful) this.advance(Infinity, emit);
  }

  private advance(watermark: number, emit: EmitResults): void {
    if (watermark > this.watermark) {
      this.watermark = watermark;
      for (const op of this.instances) op.onWatermark?.(watermark);
    }
    this.instances.forEach((op, i) => {
      const results = op.takeResults?.();
      if (results && results.length > 0) emit(i, results);
    });
  }

  /** Every store's contents, by operator id and store name, and the task's time. */
  snapshot(): PartitionState {
    const stores: PartitionState['stores'] = {};
    this.descriptors.forEach((d, i) => {
      stores[d.id] = Object.fromEntries([...this.stores[i]!].map(([name, store]) => [name, store.snapshot()]));
    });
    return { stores, time: this.time.snapshot() };
  }
}
