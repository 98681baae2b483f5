/**
 * The sink's record count over time, sampled by an independent client while
 * a fault scenario runs: when output resumed after a fault (its time to
 * recover), and how far the pipeline has got (for the feed's pace).
 */
import { setTimeout as sleep } from 'node:timers/promises';

const TIMEOUT_MS = 180_000;

export class OutputWatch {
  /** `begun` and `at`: `performance.now()` when the count was asked for and when it came back. */
  private readonly samples: { begun: number; at: number; count: number }[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  /** `count` answers undefined (or throws) while the sink is unreachable; such samples are left out. */
  constructor(count: () => Promise<number | undefined>, intervalMs = 100) {
    this.loop = (async () => {
      while (!this.stopped) {
        const begun = performance.now();
        const n = await count().catch(() => undefined);
        if (n !== undefined) this.samples.push({ begun, at: performance.now(), count: n });
        await sleep(intervalMs);
      }
    })();
  }

  /** The last count seen, 0 before the first. */
  get count(): number {
    return this.samples.at(-1)?.count ?? 0;
  }

  /** Resolves once a sample begun now has come back: the counts seen then include everything the sink held before. */
  async fresh(): Promise<void> {
    const now = performance.now();
    while (!this.samples.some((s) => s.begun >= now)) await sleep(20);
  }

  /**
   * Milliseconds from `since` (a fault's end, `performance.now()`) to the first sample
   * holding more records than the sink held then; or, when `done` settles first
   * (nothing was left to write), to that.
   */
  async recovery(since: number, done: Promise<unknown>): Promise<number> {
    const before = this.samples.findLast((s) => s.at <= since)?.count ?? 0;
    let finished: number | undefined;
    void done.then(() => (finished = performance.now()), () => (finished = performance.now()));
    for (const until = since + TIMEOUT_MS; ; await sleep(20)) {
      const grown = this.samples.find((s) => s.at > since && s.count > before);
      if (grown) return Math.round(grown.at - since);
      if (finished !== undefined) return Math.round(finished - since);
      if (performance.now() > until) throw new Error(`no output within ${TIMEOUT_MS / 1000} s after the fault (the sink stayed at ${this.count} records)`);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
