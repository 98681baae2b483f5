/**
 * Sticky, balanced assignment: which owner takes which task. One algorithm
 * for both levels the runtime places work at: tasks (source partitions) on
 * the worker threads of a process, and a consumer group's partitions on its
 * processes (a source's group leader calls it through
 * `SourceContext.assignor`).
 *
 * Pure: given the current owners, the load of every task and the owners
 * available, it returns the new owners and the moves to get there. Tasks
 * keep their owner unless the owner left or is over its share; a move is
 * made only when it lowers the load of the most loaded owner, so the fewest
 * tasks move. Loads are measured (threads: busy time per second) or equal
 * (group partitions); a small floor per task keeps idle tasks spread by
 * count. A task may be limited to some owners (`eligible`: the members
 * subscribed to its topic); one no owner may take stays unassigned.
 */

import type { GroupAssignor } from '../../src/spi/connector.ts';

export interface Placeable<T, O> {
  id: T;
  /** Current owner; undefined for a task that has none (new, or its owner is gone). */
  owner: O | undefined;
  /** Load, any non-negative unit. */
  load: number;
  /** The owners that may take it; absent: any. */
  eligible?: readonly O[];
}

export interface Move<T, O> {
  task: T;
  /** The previous owner (possibly one that left), or undefined. */
  from: O | undefined;
  to: O;
}

export interface AssignmentPlan<T, O> {
  owners: Map<T, O>;
  moves: Move<T, O>[];
}

export interface AssignmentOptions {
  /** Imbalance tolerated before moving anything: the most loaded owner may exceed the mean by this fraction (default 0.1). */
  tolerance?: number;
}

/** Orders ids (numbers or strings) so that equal inputs give equal outputs. */
const compareIds = <I>(a: I, b: I): number => (a < b ? -1 : a > b ? 1 : 0);

export function planAssignment<T, O>(tasks: readonly Placeable<T, O>[], available: readonly O[], options: AssignmentOptions = {}): AssignmentPlan<T, O> {
  if (available.length === 0) throw new Error('cannot assign tasks to an empty pool');
  const tolerance = options.tolerance ?? 0.1;
  const positive = tasks.filter((t) => t.load > 0);
  const floor = positive.length > 0 ? (positive.reduce((a, t) => a + t.load, 0) / positive.length) * 0.05 : 1;
  const weight = new Map(tasks.map((t) => [t.id, Math.max(0, t.load) + floor]));
  const eligible = new Map(tasks.map((t) => [t.id, t.eligible ? new Set(t.eligible) : undefined]));
  const mayTake = (task: T, owner: O) => eligible.get(task)?.has(owner) ?? true;

  const pool = new Set(available);
  const owners = new Map<T, O>();
  const load = new Map(available.map((w) => [w, 0]));
  const count = new Map(available.map((w) => [w, 0]));
  const place = (task: T, owner: O, sign: 1 | -1) => {
    load.set(owner, load.get(owner)! + sign * weight.get(task)!);
    count.set(owner, count.get(owner)! + sign);
  };

  const homeless: Placeable<T, O>[] = [];
  for (const t of tasks) {
    if (t.owner !== undefined && pool.has(t.owner) && mayTake(t.id, t.owner)) {
      owners.set(t.id, t.owner);
      place(t.id, t.owner, 1);
    } else {
      homeless.push(t);
    }
  }

  const byLoad = (a: O, b: O) => load.get(a)! - load.get(b)! || count.get(a)! - count.get(b)! || compareIds(a, b);
  // Heaviest first onto the least loaded owner that may take it.
  homeless.sort((a, b) => weight.get(b.id)! - weight.get(a.id)! || compareIds(a.id, b.id));
  for (const t of homeless) {
    const to = [...available].sort(byLoad).find((o) => mayTake(t.id, o));
    if (to === undefined) continue;
    owners.set(t.id, to);
    place(t.id, to, 1);
  }

  const total = [...load.values()].reduce((a, b) => a + b, 0);
  const limit = (total / available.length) * (1 + tolerance);
  for (let step = 0; step < tasks.length * 2; step++) {
    const sorted = [...available].sort(byLoad);
    const from = sorted[sorted.length - 1]!;
    const high = load.get(from)!;
    if (high <= limit + 1e-9) break;
    // The move (a task of the most loaded owner, to the least loaded owner that may take it) that leaves the pair most even, if it lowers the maximum at all.
    let best: { task: T; to: O } | undefined;
    let bestMax = high;
    // Latest placed first: a task that just arrived moves before one its owner has held longer.
    for (const [task, owner] of [...owners].reverse()) {
      if (owner !== from) continue;
      const to = sorted.find((o) => o !== from && mayTake(task, o));
      if (to === undefined) continue;
      const w = weight.get(task)!;
      const pairMax = Math.max(high - w, load.get(to)! + w);
      // On a tie, move the lighter task: less to drain, and usually fewer moves in all.
      if (pairMax < bestMax - 1e-9 || (best !== undefined && Math.abs(pairMax - bestMax) <= 1e-9 && w < weight.get(best.task)!)) {
        best = { task, to };
        bestMax = pairMax;
      }
    }
    if (best === undefined) break;
    place(best.task, from, -1);
    place(best.task, best.to, 1);
    owners.set(best.task, best.to);
  }

  const moves: Move<T, O>[] = [];
  for (const t of tasks) {
    const to = owners.get(t.id);
    if (to !== undefined && to !== t.owner) moves.push({ task: t.id, from: t.owner, to });
  }
  return { owners, moves };
}

/** The assignor handed to sources whose consumer group assigns partitions to processes: equal loads, balanced to within one partition. */
export const groupAssignor: GroupAssignor = (slots, members) =>
  planAssignment(slots.map((s) => ({ id: s.id, owner: s.owner, load: 1, eligible: s.eligible })), members, { tolerance: 0 }).owners;
