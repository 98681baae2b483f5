/**
 * The state store API: what a stateful operator keeps per task, and what
 * moves with the task. Operators declare their stores in the plan
 * (`PlanStore`: key schema, value schema, retention); the runtime opens
 * them, hands them to the operator, and snapshots them when the task moves
 * to another worker or checkpoints (Kafka Streams' `StateStore`, reduced to
 * what the operators use).
 *
 * One backend exists: memory. A changelog backend (writes mirrored to a
 * compacted topic, restored from it and a local store) plugs in behind the
 * same interface.
 */
import type { PlanStore } from '../../src/plan/plan.ts';

export interface KeyValueStore<K = unknown, V = unknown> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): boolean;
  /** Entries oldest first: in the order their keys were last put (a put moves a key to the end). */
  entries(): IterableIterator<[K, V]>;
  readonly size: number;
  /**
   * The store's contents as data that survives structured clone (what a
   * move or checkpoint carries). Valid until the next change: posting it to
   * another thread copies it.
   */
  snapshot(): StoreSnapshot;
}

/** A store's contents, as a checkpoint or a moving task carries them. */
export type StoreSnapshot = Map<unknown, unknown>;

/** Opens the stores of one task: empty, or from the snapshot it had elsewhere. */
export interface StoreBackend {
  open(descriptor: PlanStore, from: StoreSnapshot | undefined): KeyValueStore;
}

/** A JavaScript Map: insertion order gives "oldest first" for free. */
export class MemoryStore<K, V> implements KeyValueStore<K, V> {
  private readonly map: Map<K, V>;

  constructor(from?: Map<K, V>) {
    this.map = from ?? new Map();
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  put(key: K, value: V): void {
    // Delete first: a Map keeps a key's first insertion position, and entries() promises last-put order.
    this.map.delete(key);
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }

  snapshot(): StoreSnapshot {
    return this.map as Map<unknown, unknown>;
  }
}

export const memoryBackend: StoreBackend = {
  open: (_descriptor, from) => new MemoryStore(from),
};
