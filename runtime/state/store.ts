/**
 * The state store API: what a stateful operator keeps per task, and what
 * moves with the task. Operators declare their stores in the plan
 * (`PlanStore`: key schema, value schema, retention); the runtime opens
 * them, hands them to the operator, and snapshots them when the task moves
 * to another worker (Kafka Streams' `StateStore`, reduced to
 * what the operators use).
 *
 * Stores live in memory, in the worker that owns the task. A durable run
 * tracks what changed: after each batch the runtime takes the changed keys
 * with their values (`takeChanges`), encodes them (codec.ts) and the
 * coordinator keeps them in the local store and the changelog
 * (runtime/coordinator/state-log.ts), from which a task's state is restored
 * after a crash or a restart.
 */
import type { PlanStore } from '../../src/plan/plan.ts';

export interface KeyValueStore<K = unknown, V = unknown> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): boolean;
  /** The value of `key` changed in place (an operator updated it): it goes into the next changes. */
  touch(key: K): void;
  /** The keys put, touched or deleted since the last call, with their values now (undefined: deleted); empty unless tracked. */
  takeChanges(): Map<K, V | undefined>;
  /** Entries oldest first: in the order their keys were last put (a put moves a key to the end). */
  entries(): IterableIterator<[K, V]>;
  readonly size: number;
  /**
   * The store's contents as data that survives structured clone (what a
   * move carries). Valid until the next change: posting it to
   * another thread copies it.
   */
  snapshot(): StoreSnapshot;
}

/** A store's contents, as a moving task carries them. */
export type StoreSnapshot = Map<unknown, unknown>;

/** Opens the stores of one task: empty, or from the snapshot it had elsewhere; `tracked`: it reports its changes. */
export interface StoreBackend {
  open(descriptor: PlanStore, from: StoreSnapshot | undefined, tracked: boolean): KeyValueStore;
}

/** A JavaScript Map: insertion order gives "oldest first" for free. */
export class MemoryStore<K, V> implements KeyValueStore<K, V> {
  private readonly map: Map<K, V>;
  /** Keys changed since the last `takeChanges`, when tracked. */
  private readonly changed: Set<K> | undefined;

  constructor(from?: Map<K, V>, tracked = false) {
    this.map = from ?? new Map();
    this.changed = tracked ? new Set() : undefined;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  put(key: K, value: V): void {
    // Delete first: a Map keeps a key's first insertion position, and entries() promises last-put order.
    this.map.delete(key);
    this.map.set(key, value);
    this.changed?.add(key);
  }

  delete(key: K): boolean {
    this.changed?.add(key);
    return this.map.delete(key);
  }

  touch(key: K): void {
    this.changed?.add(key);
  }

  takeChanges(): Map<K, V | undefined> {
    const changes = new Map<K, V | undefined>();
    if (!this.changed) return changes;
    for (const key of this.changed) changes.set(key, this.map.get(key));
    this.changed.clear();
    return changes;
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
  open: (_descriptor, from, tracked) => new MemoryStore(from, tracked),
};
