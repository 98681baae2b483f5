/**
 * Event time of a task: a watermark per input (the largest record timestamp
 * seen, minus the allowed lateness) and the task's watermark, the minimum
 * over its inputs. An input that has had no record for `idleMs` stops
 * holding the minimum back (Flink's idle sources), and holds it again once
 * a record arrives. A task's watermark never goes back.
 */
import type { TimeState } from '../../src/plan/chain.ts';

export interface WatermarkOptions {
  /** How far behind the largest timestamp seen records may still arrive. */
  latenessMs: number;
  /** An input quiet this long is left out of the minimum (Infinity: never). */
  idleMs: number;
}

export class Watermarks {
  private readonly highest: number[];
  private readonly lastRecordAt: number[];
  private watermark = -Infinity;

  /** `now`: when the task started; an input without records counts as quiet since then. `from`: the time the task had elsewhere. */
  constructor(
    inputs: number,
    private readonly options: WatermarkOptions,
    now: number,
    from?: TimeState,
  ) {
    // Kept as JSON (the changelog's meta), infinite times come back as null.
    this.highest = from?.highest.length === inputs ? from.highest.map((v) => (typeof v === 'number' ? v : -Infinity)) : new Array<number>(inputs).fill(-Infinity);
    this.lastRecordAt = new Array<number>(inputs).fill(now);
    if (typeof from?.watermark === 'number') this.watermark = from.watermark;
  }

  snapshot(): TimeState {
    return { highest: [...this.highest], watermark: this.watermark };
  }

  /** Records arrived on `input` with timestamps up to `maxTimestamp`, at wall-clock time `now`. */
  observe(input: number, maxTimestamp: number, now: number): void {
    if (maxTimestamp > this.highest[input]!) this.highest[input] = maxTimestamp;
    this.lastRecordAt[input] = now;
  }

  /** The task's watermark at `now`: −Infinity until every input that is not idle has seen a record. */
  current(now: number): number {
    let min = Infinity;
    let active = false;
    for (let i = 0; i < this.highest.length; i++) {
      // An input that ended (+Infinity, an exchange's upstream partition) holds nothing back, idle or not.
      if (now - this.lastRecordAt[i]! >= this.options.idleMs && this.highest[i] !== Infinity) continue;
      active = true;
      min = Math.min(min, this.highest[i]! - this.options.latenessMs);
    }
    // Every input idle: nothing holds the watermark back, and nothing moves it either.
    if (active && min > this.watermark) this.watermark = min;
    return this.watermark;
  }
}

/** The largest of a batch's timestamps (−Infinity for none). */
export function maxTimestamp(timestamps: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < timestamps.length; i++) if (timestamps[i]! > max) max = timestamps[i]!;
  return max;
}
