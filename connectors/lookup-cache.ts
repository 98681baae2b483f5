/**
 * The cache in front of a lookup (PostgreSQL and Redis): least recently
 * used entries go first once `size` is reached, and an entry older than
 * `ttlMs` is fetched again. Misses are cached too (as null), so a key that
 * is not there does not cost a query per record. `lookup` asks the fetcher
 * once per batch, for the distinct keys the cache does not have.
 */

export type LookupKey = string | number | boolean;

export interface LookupStats {
  hits: number;
  misses: number;
  fetches: number;
}

export class LookupCache {
  /** Map order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<LookupKey, { value: unknown; at: number }>();
  readonly stats: LookupStats = { hits: 0, misses: 0, fetches: 0 };

  constructor(
    private readonly size: number,
    private readonly ttlMs: number,
    /** Results for distinct keys, in their order (null when none). */
    private readonly fetch: (keys: LookupKey[]) => Promise<unknown[]>,
  ) {}

  async lookup(keys: readonly unknown[]): Promise<unknown[]> {
    const now = Date.now();
    const out = new Array<unknown>(keys.length).fill(null);
    const wanted = new Map<LookupKey, number[]>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === null || k === undefined) continue;
      const key = k as LookupKey;
      const hit = this.entries.get(key);
      if (hit && now - hit.at < this.ttlMs) {
        this.entries.delete(key);
        this.entries.set(key, hit);
        out[i] = hit.value;
        this.stats.hits++;
        continue;
      }
      this.stats.misses++;
      const at = wanted.get(key);
      if (at) at.push(i);
      else wanted.set(key, [i]);
    }
    if (wanted.size === 0) return out;
    const distinct = [...wanted.keys()];
    this.stats.fetches++;
    const values = await this.fetch(distinct);
    distinct.forEach((key, j) => {
      const value = values[j] ?? null;
      for (const i of wanted.get(key)!) out[i] = value;
      if (this.size > 0) {
        this.entries.delete(key);
        this.entries.set(key, { value, at: now });
      }
    });
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.size) break;
      this.entries.delete(key);
    }
    return out;
  }
}
