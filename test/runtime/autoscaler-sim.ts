/**
 * A deterministic model of a pool for autoscaler tests: records arrive at a
 * given rate, each worker processes `capacity` records per second, the
 * backlog carries over. Time is virtual; decisions apply at once.
 */
import { autoscale, DEFAULT_AUTOSCALER, type AutoscalerConfig, type AutoscalerState, type ScaleDecision } from '../../runtime/cluster/autoscaler.ts';

export interface SimOptions {
  /** Arrival rate (records/s) at a time (ms). */
  arrival: (t: number) => number;
  capacity: number;
  workers: number;
  partitions: number;
  durationMs: number;
  stepMs?: number;
  initialBacklog?: number;
  config?: Partial<AutoscalerConfig>;
}

export function simulate(o: SimOptions): { decisions: ScaleDecision[]; workers: number[] } {
  const step = o.stepMs ?? 5000;
  const config: AutoscalerConfig = { ...DEFAULT_AUTOSCALER, cpuBudget: 64, ...o.config };
  let state: AutoscalerState = {};
  let workers = o.workers;
  let backlog = o.initialBacklog ?? 0;
  const decisions: ScaleDecision[] = [];
  const sizes: number[] = [];
  for (let t = step; t <= o.durationMs; t += step) {
    const arrived = o.arrival(t) * (step / 1000);
    const can = workers * o.capacity * (step / 1000);
    const done = Math.min(can, backlog + arrived);
    backlog = backlog + arrived - done;
    const r = autoscale({ now: t, workers, partitions: o.partitions, backlog, throughput: done / (step / 1000), utilization: done / can }, state, config);
    state = r.state;
    if (r.decision.action !== 'hold') {
      decisions.push(r.decision);
      workers = r.decision.to;
    }
    sizes.push(workers);
  }
  return { decisions, workers: sizes };
}

export const brief = (d: ScaleDecision) => `${d.at / 1000}s ${d.action} ${d.from}→${d.to}`;
