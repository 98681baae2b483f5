/**
 * Partition assignment: which worker owns which task (a source partition).
 * Pure: given the current owners, the measured load of every task and the
 * workers of the pool, it returns the new owners and the moves to get there.
 *
 * Sticky and frugal: tasks keep their owner unless the owner left the pool
 * or the pool is out of balance; a move is made only when it lowers the
 * load of the most loaded worker, so the fewest tasks move. Loads are
 * measured (busy time per second); a small floor per task keeps idle tasks
 * spread by count.
 */

export interface TaskLoad {
  id: number;
  /** Current owner; undefined for a task that has none (new, or its worker crashed). */
  owner: number | undefined;
  /** Measured load, any non-negative unit (the runtime uses busy milliseconds per second). */
  load: number;
}

export interface Move {
  task: number;
  /** The previous owner (possibly one leaving the pool), or undefined. */
  from: number | undefined;
  to: number;
}

export interface AssignmentPlan {
  owners: Map<number, number>;
  moves: Move[];
}

export interface AssignmentOptions {
  /** Imbalance tolerated before moving anything: the most loaded worker may exceed the mean by this fraction (default 0.1). */
  tolerance?: number;
}

export function planAssignment(tasks: readonly TaskLoad[], workers: readonly number[], options: AssignmentOptions = {}): AssignmentPlan {
  if (workers.length === 0) throw new Error('cannot assign tasks to an empty pool');
  const tolerance = options.tolerance ?? 0.1;
  const positive = tasks.filter((t) => t.load > 0);
  const floor = positive.length > 0 ? (positive.reduce((a, t) => a + t.load, 0) / positive.length) * 0.05 : 1;
  const weight = new Map(tasks.map((t) => [t.id, Math.max(0, t.load) + floor]));

  const pool = new Set(workers);
  const owners = new Map<number, number>();
  const load = new Map(workers.map((w) => [w, 0]));
  const count = new Map(workers.map((w) => [w, 0]));
  const place = (task: number, worker: number, sign: 1 | -1) => {
    load.set(worker, load.get(worker)! + sign * weight.get(task)!);
    count.set(worker, count.get(worker)! + sign);
  };

  const homeless: TaskLoad[] = [];
  for (const t of tasks) {
    if (t.owner !== undefined && pool.has(t.owner)) {
      owners.set(t.id, t.owner);
      place(t.id, t.owner, 1);
    } else {
      homeless.push(t);
    }
  }

  const byLoad = (a: number, b: number) => load.get(a)! - load.get(b)! || count.get(a)! - count.get(b)! || a - b;
  // Heaviest first onto the least loaded worker.
  homeless.sort((a, b) => weight.get(b.id)! - weight.get(a.id)! || a.id - b.id);
  for (const t of homeless) {
    const to = [...workers].sort(byLoad)[0]!;
    owners.set(t.id, to);
    place(t.id, to, 1);
  }

  const total = [...load.values()].reduce((a, b) => a + b, 0);
  const limit = (total / workers.length) * (1 + tolerance);
  for (let step = 0; step < tasks.length * 2; step++) {
    const sorted = [...workers].sort(byLoad);
    const from = sorted[sorted.length - 1]!;
    const to = sorted[0]!;
    const high = load.get(from)!;
    const low = load.get(to)!;
    if (high <= limit + 1e-9) break;
    // The task whose move leaves the pair most even, if it lowers the maximum at all.
    let best: number | undefined;
    let bestMax = high;
    for (const [task, owner] of owners) {
      if (owner !== from) continue;
      const w = weight.get(task)!;
      const pairMax = Math.max(high - w, low + w);
      // On a tie, move the lighter task: less to drain, and usually fewer moves in all.
      if (pairMax < bestMax - 1e-9 || (best !== undefined && Math.abs(pairMax - bestMax) <= 1e-9 && w < weight.get(best)!)) {
        best = task;
        bestMax = pairMax;
      }
    }
    if (best === undefined) break;
    place(best, from, -1);
    place(best, to, 1);
    owners.set(best, to);
  }

  const moves: Move[] = [];
  for (const t of tasks) {
    const to = owners.get(t.id)!;
    if (to !== t.owner) moves.push({ task: t.id, from: t.owner, to });
  }
  return { owners, moves };
}
