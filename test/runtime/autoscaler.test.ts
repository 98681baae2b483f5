import test from 'ava';
import { autoscale, DEFAULT_AUTOSCALER, type AutoscalerConfig, type Observation } from '../../runtime/cluster/autoscaler.ts';
import { brief, simulate } from './autoscaler-sim.ts';

const config: AutoscalerConfig = { ...DEFAULT_AUTOSCALER, cpuBudget: 64 };
const obs = (o: Partial<Observation>): Observation => ({ now: 0, workers: 2, partitions: 64, backlog: 0, throughput: 1000, utilization: 0.5, ...o });

test('rising load: the pool grows in steps sized from measured capacity, each after the backlog stayed high', (t) => {
  // Arrivals climb from 1000/s by 100/s every second; a worker does 2500/s.
  const { decisions } = simulate({ arrival: (ms) => 1000 + ms / 10, capacity: 2500, workers: 2, partitions: 64, durationMs: 300_000 });
  t.deepEqual(decisions.map(brief), ['60s up 2→5', '135s up 5→9', '235s up 9→15']);
  t.is(decisions[0]!.reason, 'backlog 25k never drains (arriving 7000/s, capacity 5000/s, target 30s), 100% busy: needs about 5 workers');
  t.true(decisions.every((d) => d.to - d.from <= 8));
});

test('falling load: the pool shrinks by at most 4 after utilization stayed under 20% for the cooldown, down to the minimum', (t) => {
  const { decisions, workers } = simulate({ arrival: (ms) => (ms < 60_000 ? 30_000 : 500), capacity: 2500, workers: 16, partitions: 64, durationMs: 1_500_000 });
  t.deepEqual(decisions.map(brief), ['360s down 16→12', '690s down 12→8', '1020s down 8→4', '1350s down 4→2']);
  t.is(decisions[0]!.reason, '1% busy < 20% for 5m0s: 2 workers suffice (step limited to -4)');
  t.is(workers.at(-1), 2);
});

test('spiky load: short bursts drain within the target window, so the pool never changes', (t) => {
  // 10 s bursts of 12 000/s every minute over 2000/s; two workers catch up in about 23 s.
  const { decisions } = simulate({ arrival: (ms) => (ms % 60_000 < 10_000 ? 12_000 : 2000), capacity: 2500, workers: 2, partitions: 64, durationMs: 600_000 });
  t.deepEqual(decisions, []);
});

test('rise then fall: up once, down only after the cooldown, no flapping in between', (t) => {
  const arrival = (ms: number) => (ms < 120_000 ? 9000 : ms < 180_000 ? 1000 : 200);
  const { decisions } = simulate({ arrival, capacity: 2500, workers: 2, partitions: 64, durationMs: 900_000 });
  t.deepEqual(decisions.map(brief), ['20s up 2→7', '420s down 7→3', '750s down 3→2']);
});

test('the maximum is min(maxWorkers, partitions, CPU budget), and the reason says so', (t) => {
  const { decision } = autoscale(obs({ workers: 4, partitions: 4, backlog: 1e6, utilization: 1 }), { backlogHighSince: -20_000 }, config);
  t.is(decision.action, 'hold');
  t.regex(decision.reason, /already at the maximum of 4 = min\(128 max, 4 partitions, 64 CPUs\)/);
  const over = autoscale(obs({ workers: 6, partitions: 64 }), {}, { ...config, cpuBudget: 4 }).decision;
  t.deepEqual([over.action, over.to], ['down', 4]);
});

test('below the minimum scales up at once; one partition means one worker', (t) => {
  t.like(autoscale(obs({ workers: 1 }), {}, config).decision, { action: 'up', to: 2, reason: '1 workers is below the minimum of 2' });
  t.like(autoscale(obs({ workers: 1, partitions: 1 }), {}, config).decision, { action: 'hold', to: 1 });
});

test('a backlog with idle workers does not scale: the bottleneck is elsewhere', (t) => {
  const { decision } = autoscale(obs({ backlog: 1e6, throughput: 100, utilization: 0.1 }), {}, config);
  t.is(decision.action, 'hold');
  t.regex(decision.reason, /only 10% busy: the bottleneck is not processing/);
});

test('an unbounded backlog (a generator without rate) asks for the maximum, step limited', (t) => {
  const { decision } = autoscale(obs({ workers: 2, backlog: Infinity, utilization: 1, throughput: 5000 }), { backlogHighSince: 0 }, { ...config, scaleUpStabilizationMs: 0 });
  t.like(decision, { action: 'up', from: 2, to: 10 });
  t.regex(decision.reason, /needs the maximum \(step limited to \+8\)/);
});

test('after a change the autoscaler holds for the stabilization window', (t) => {
  const { decision } = autoscale(obs({ now: 10_000, backlog: 1e6, utilization: 1 }), { lastChangeAt: 0 }, config);
  t.is(decision.action, 'hold');
  t.is(decision.reason, 'stabilizing after the last change (20s left)');
});
