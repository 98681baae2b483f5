/**
 * Waiting out an unreachable server, shared by the PostgreSQL and Redis
 * connectors: exponential backoff between attempts, an optional deadline,
 * and a stop when the run is aborted (the unwritten records are then not
 * acknowledged, so the source delivers them again on the next run).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Options, Outage } from '../src/spi/connector.ts';
import { durationOption } from './options.ts';

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** 0: no deadline. */
  timeoutMs: number;
}


export function retryPolicy(options: Options): RetryPolicy {
  return {
    initialMs: durationOption(options, 'retry_backoff', '100ms'),
    maxMs: durationOption(options, 'retry_max_backoff', '5s'),
    timeoutMs: durationOption(options, 'retry_timeout', '0ms'),
  };
}

/**
 * One outage: call `wait` after each failed attempt, `reset` after a
 * success. `report` (the context's `outage`) hears of each failed attempt
 * and of the recovery, so that the run can say what it is waiting for.
 */
export class Backoff {
  private failures = 0;
  private since = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly signal: AbortSignal,
    private readonly what: string,
    private readonly report?: (outage: Outage | undefined) => void,
  ) {}

  async wait(error: Error): Promise<void> {
    const now = Date.now();
    if (this.failures === 0) this.since = now;
    this.failures++;
    this.report?.({ what: this.what, error: error.message, since: this.since, attempts: this.failures });
    if (this.policy.timeoutMs > 0 && now - this.since >= this.policy.timeoutMs) {
      throw new Error(`${this.what}: still failing after ${Math.round((now - this.since) / 1000)} s: ${error.message}`);
    }
    if (this.signal.aborted) throw new Error(`${this.what}: the run stopped while the server was failing: ${error.message}`);
    const ms = Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** (this.failures - 1));
    await sleep(ms * (0.75 + Math.random() * 0.5), undefined, { signal: this.signal }).catch(() => {});
  }

  reset(): void {
    if (this.failures > 0) this.report?.(undefined);
    this.failures = 0;
  }
}
