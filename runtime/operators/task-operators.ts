/**
 * The stateful operators of one task, with their stores and the task's
 * event time: built when a task is assigned (from the state it had
 * elsewhere), told after each batch how far its records' times reached,
 * and snapshotted when the task moves; their changes go to the state
 * log after each batch (tracked in workers). Workers and
 * `sensei test` share it.
 */
import type { PartitionState, WindowResult } from '../../src/plan/chain.ts';
import type { PlanEventTime, PlanOperator } from '../../src/plan/plan.ts';
import type { StateChanges, StoreCodec } from '../state/codec.ts';
import { memoryBackend, type KeyValueStore, type StoreBackend } from '../state/store.ts';
import { Watermarks, type WatermarkOptions } from '../time/watermarks.ts';
import type { StatefulOperator } from './operator.ts';
import { OPERATORS, storeCodecs } from './registry.ts';

/** Without a declared event time, record timestamps are the time, with no lateness. */
const RECORD_TIME: WatermarkOptions = { latenessMs: 0, idleMs: Infinity };

/** How a task keeps time beyond its operators' needs (repartitioning, `PlanExchange`). */
export interface TaskTimeOptions {
  /** It writes to an exchange: its watermark goes with its records, so it keeps one even without stateful operators. */
  writesExchange?: boolean;
  /** It reads an exchange: its watermark is the minimum over these upstream partitions' (`ChainContext.inputs`). */
  inputs?: { count: number; idleMs: number };
}

/** Hands operator i's results to the chain's emitter for it. */
export type EmitResults = (operator: number, results: WindowResult[]) => void;

export class TaskOperators {
  /** By index in the chain's `operators`: what `ChainContext.operators` holds. */
  readonly instances: StatefulOperator[];
  private readonly stores: Map<string, KeyValueStore>[];
  private readonly time: Watermarks;
  private watermark: number;
  /** The stores' codecs, when the task reports its changes (a durable run). */
  private readonly codecs: Map<string, StoreCodec>[] | undefined;
  /** It keeps a watermark: it has stateful operators, or reads or writes an exchange. */
  readonly keepsTime: boolean;
  /** Reading an exchange: the upstream partitions' watermarks as the chain raised them (`ChainContext.inputs`), and as last observed. */
  readonly inputs: number[] | undefined;
  private readonly observed: number[] | undefined;
  /** Writing an exchange: the watermark last sent to every exchange partition. */
  sentWatermark = -Infinity;

  constructor(
    private readonly descriptors: readonly PlanOperator[],
    from: PartitionState | undefined,
    now: number,
    eventTime?: PlanEventTime,
    options: { tracked?: boolean; backend?: StoreBackend; time?: TaskTimeOptions } = {},
  ) {
    const backend = options.backend ?? memoryBackend;
    this.stores = descriptors.map((d) => new Map(d.stores.map((s) => [s.name, backend.open(s, from?.stores[d.id]?.[s.name], options.tracked === true)])));
    this.instances = descriptors.map((d, i) => {
      const kind = OPERATORS.get(d.kind);
      if (!kind) throw new Error(`operator ${d.id}: no stateful operator of kind ${d.kind}`);
      return kind.create(d, this.stores[i]!);
    });
    this.codecs = options.tracked ? descriptors.map(storeCodecs) : undefined;
    const inputs = options.time?.inputs;
    this.keepsTime = descriptors.length > 0 || options.time?.writesExchange === true || inputs !== undefined;
    if (inputs) {
      // Upstream tasks applied their lateness already.
      this.time = new Watermarks(inputs.count, { latenessMs: 0, idleMs: inputs.idleMs }, now, from?.time);
      this.observed = this.time.snapshot().highest;
      this.inputs = [...this.observed];
    } else {
      this.time = new Watermarks(1, eventTime ? { latenessMs: eventTime.latenessMs, idleMs: eventTime.idleMs } : RECORD_TIME, now, from?.time);
    }
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
    if (!this.keepsTime) return;
    if (this.inputs) {
      for (let u = 0; u < this.inputs.length; u++) {
        if (this.inputs[u]! <= this.observed![u]!) continue;
        this.observed![u] = this.inputs[u]!;
        this.time.observe(u, this.inputs[u]!, now);
      }
    } else if (maxTime > -Infinity) this.time.observe(0, maxTime, now);
    this.advance(this.time.current(now), emit);
  }

  /** The input ended: every window closes, and the last results go to `emit`. */
  finish(emit: EmitResults): void {
    if (this.keepsTime) this.advance(Infinity, emit);
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

  /** Entries per operator, over its stores: the size of the state, for status and metrics. */
  entries(): number[] {
    return this.stores.map((stores) => [...stores.values()].reduce((n, s) => n + s.size, 0));
  }

  /** What changed since the last call, encoded; undefined unless tracked. */
  takeChanges(): StateChanges | undefined {
    if (!this.codecs || !this.stateful) return undefined;
    const stores: StateChanges['stores'] = [];
    this.descriptors.forEach((d, i) => {
      for (const [name, store] of this.stores[i]!) {
        const changes = store.takeChanges();
        if (changes.size === 0) continue;
        const codec = this.codecs![i]!.get(name)!;
        const keys: Uint8Array[] = [];
        const values: (Uint8Array | null)[] = [];
        for (const [key, value] of changes) {
          keys.push(codec.key(key));
          values.push(value === undefined ? null : codec.value(value));
        }
        stores.push({ operator: d.id, store: name, keys, values });
      }
    });
    return { stores, time: this.time.snapshot() };
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
