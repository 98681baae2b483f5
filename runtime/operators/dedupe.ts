/**
 * `dedupe by KEY within D`: a record goes on the first time its key is seen
 * within D of the last time it was let through (by record time); a repeat
 * is dropped. One store, `seen`: key → the time it was last let through.
 * The watermark drops keys last seen more than D before it: no record at or
 * after the watermark can be a repeat of them.
 */
import type { PlanOperator } from '../../src/plan/plan.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { StatefulOperator } from './operator.ts';

export class Dedupe implements StatefulOperator {
  constructor(
    private readonly seen: KeyValueStore<unknown, number>,
    private readonly withinMs: number,
  ) {}

  static create(descriptor: PlanOperator, stores: ReadonlyMap<string, KeyValueStore>): Dedupe {
    return new Dedupe(stores.get('seen') as KeyValueStore<unknown, number>, Number(descriptor.config.withinMs));
  }

  /** True when the record goes on; the chain calls it with the record's key and time. */
  admit(key: unknown, time: number): boolean {
    const last = this.seen.get(key);
    if (last !== undefined && time - last < this.withinMs) return false;
    this.seen.put(key, time);
    return true;
  }

  onWatermark(watermark: number): void {
    // Oldest first (entries() is in last-put order): stop at the first key still inside the window.
    const horizon = watermark - this.withinMs;
    for (const [key, last] of this.seen.entries()) {
      if (last > horizon) break;
      this.seen.delete(key);
    }
  }
}
