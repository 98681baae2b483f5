/**
 * The autoscaler: a pure function of observed metrics and time. The runtime
 * feeds it one observation per interval and applies the decision; tests feed
 * it traces on a virtual clock.
 *
 * - Scale up when the backlog would take longer than the target window to
 *   drain (with what the pool can do beyond what keeps arriving; arrivals
 *   are throughput plus backlog growth), the workers are busy (otherwise the
 *   bottleneck is elsewhere: more threads would not help), and this has held
 *   for the up-stabilization window. Size from the measured capacity per
 *   worker; at most +`maxStepUp` per decision.
 * - Scale down when utilization stays below `lowUtilization` for the whole
 *   cooldown with no backlog to worry about; size so that the remaining
 *   workers run near the target utilization; at most −`maxStepDown`.
 * - After any change, hold for `stabilizationMs`: a rebalance has to settle
 *   before its effect can be measured. Together with the windows this keeps
 *   the pool from flapping.
 * Every decision, holds included, carries a human-readable reason.
 */

export interface AutoscalerConfig {
  minWorkers: number;
  /** Hard ceiling; the effective maximum is min(maxWorkers, partitions, cpuBudget). */
  maxWorkers: number;
  /** Threads the machine can give the pool (os.availableParallelism() by default). */
  cpuBudget: number;
  /** The backlog should drain within this window. */
  targetWindowMs: number;
  /** Utilization the pool is sized for. */
  targetUtilization: number;
  /** Below this utilization, more workers would not help (the bottleneck is elsewhere). */
  minUtilizationToScaleUp: number;
  /** Utilization under which the pool is too large. */
  lowUtilization: number;
  /** How long utilization must stay low before scaling down. */
  scaleDownCooldownMs: number;
  /** How long the backlog must stay high before scaling up. */
  scaleUpStabilizationMs: number;
  /** No decision for this long after a change. */
  stabilizationMs: number;
  maxStepUp: number;
  maxStepDown: number;
}

export const DEFAULT_AUTOSCALER: Omit<AutoscalerConfig, 'cpuBudget'> = {
  minWorkers: 2,
  maxWorkers: 128,
  targetWindowMs: 30_000,
  targetUtilization: 0.7,
  minUtilizationToScaleUp: 0.5,
  lowUtilization: 0.2,
  scaleDownCooldownMs: 300_000,
  scaleUpStabilizationMs: 15_000,
  stabilizationMs: 30_000,
  maxStepUp: 8,
  maxStepDown: 4,
};

export interface Observation {
  /** Milliseconds, any monotonic clock. */
  now: number;
  workers: number;
  /** Partitions (tasks) of all sources: more workers than that would idle. */
  partitions: number;
  /** Records waiting to be processed; may be Infinity (an unbounded generator). */
  backlog: number;
  /** Records processed per second over the last interval. */
  throughput: number;
  /** Busy fraction of the pool over the last interval, 0..1. */
  utilization: number;
}

export interface AutoscalerState {
  /** The previous observation's backlog, to tell how fast records arrive. */
  previous?: { at: number; backlog: number };
  lastChangeAt?: number;
  backlogHighSince?: number;
  utilizationLowSince?: number;
}

export interface ScaleDecision {
  at: number;
  action: 'up' | 'down' | 'hold';
  from: number;
  to: number;
  reason: string;
}

export function autoscale(obs: Observation, state: AutoscalerState, config: AutoscalerConfig): { decision: ScaleDecision; state: AutoscalerState } {
  const max = Math.max(1, Math.min(config.maxWorkers, obs.partitions, config.cpuBudget));
  const min = Math.min(config.minWorkers, max);
  const maxWhy = `min(${config.maxWorkers} max, ${obs.partitions} partitions, ${config.cpuBudget} CPUs)`;
  const previous = { at: obs.now, backlog: obs.backlog };
  const decide = (to: number, reason: string, next: AutoscalerState) => {
    const action = to > obs.workers ? 'up' : to < obs.workers ? 'down' : 'hold';
    const changed = action !== 'hold';
    return {
      decision: { at: obs.now, action, from: obs.workers, to, reason } as ScaleDecision,
      state: changed ? { previous, lastChangeAt: obs.now } : { ...next, previous },
    };
  };

  if (obs.workers < min) return decide(min, `${obs.workers} workers is below the minimum of ${min}`, state);
  if (obs.workers > max) return decide(max, `${obs.workers} workers is above the maximum of ${max} = ${maxWhy}`, state);
  if (state.lastChangeAt !== undefined && obs.now - state.lastChangeAt < config.stabilizationMs) {
    return decide(obs.workers, `stabilizing after the last change (${secs(config.stabilizationMs - (obs.now - state.lastChangeAt))} left)`, { lastChangeAt: state.lastChangeAt });
  }

  const util = `${pct(obs.utilization)} busy`;
  // What the pool could do fully busy, and what arrives: processed plus the growth of the backlog.
  const capacity = obs.throughput / Math.max(obs.utilization, 0.01);
  const dt = state.previous ? (obs.now - state.previous.at) / 1000 : 0;
  const arrival = !Number.isFinite(obs.backlog) ? Infinity
    : state.previous && dt > 0 && Number.isFinite(state.previous.backlog) ? Math.max(0, obs.throughput + (obs.backlog - state.previous.backlog) / dt)
    : obs.throughput;
  const spare = capacity - arrival;
  const drainMs = obs.backlog === 0 ? 0 : spare > 0 ? (obs.backlog / spare) * 1000 : Infinity;
  const behind = drainMs > config.targetWindowMs;
  const backlogText = `backlog ${count(obs.backlog)} ${drainMs === Infinity ? 'never drains' : `drains in ${secs(drainMs)}`} (arriving ${count(arrival)}/s, capacity ${count(capacity)}/s, target ${secs(config.targetWindowMs)})`;

  if (behind) {
    if (obs.utilization < config.minUtilizationToScaleUp) {
      return decide(obs.workers, `${backlogText}, but workers are only ${util}: the bottleneck is not processing`, {});
    }
    const since = state.backlogHighSince ?? obs.now;
    if (obs.now - since < config.scaleUpStabilizationMs) {
      return decide(obs.workers, `${backlogText}; waiting ${secs(config.scaleUpStabilizationMs - (obs.now - since))} before scaling up`, { backlogHighSince: since });
    }
    if (obs.workers >= max) return decide(obs.workers, `${backlogText}, but already at the maximum of ${max} = ${maxWhy}`, { backlogHighSince: since });
    // Enough fully-busy-worker capacity for the arrivals plus the backlog over the window, at the target utilization.
    const perWorker = capacity / obs.workers;
    const needed = Number.isFinite(arrival) && perWorker > 0
      ? Math.ceil((arrival + (obs.backlog * 1000) / config.targetWindowMs) / (perWorker * config.targetUtilization))
      : max;
    const to = Math.min(max, obs.workers + config.maxStepUp, Math.max(obs.workers + 1, needed));
    return decide(to, `${backlogText}, ${util}: ${needed >= max ? 'needs the maximum' : `needs about ${needed} workers`}${to < needed ? ` (step limited to +${to - obs.workers})` : ''}`, {});
  }

  if (obs.utilization < config.lowUtilization && obs.workers > min) {
    const since = state.utilizationLowSince ?? obs.now;
    const low = obs.now - since;
    if (low < config.scaleDownCooldownMs) {
      return decide(obs.workers, `${util} < ${pct(config.lowUtilization)} for ${secs(low)}; scaling down after ${secs(config.scaleDownCooldownMs)}`, { utilizationLowSince: since });
    }
    const needed = Math.max(min, Math.ceil((obs.workers * obs.utilization) / config.targetUtilization));
    const to = Math.max(needed, obs.workers - config.maxStepDown, min);
    return decide(Math.min(to, obs.workers - 1), `${util} < ${pct(config.lowUtilization)} for ${secs(low)}: ${Math.max(needed, 1)} workers suffice${to > needed ? ` (step limited to -${obs.workers - to})` : ''}`, {});
  }

  return decide(obs.workers, `${util}, ${backlogText}: within target`, {});
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function secs(ms: number): string {
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.round(ms / 100) / 10}s`;
}

function count(n: number): string {
  if (!Number.isFinite(n)) return 'unbounded';
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n));
}
