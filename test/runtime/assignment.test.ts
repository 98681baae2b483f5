import test from 'ava';
import { planAssignment, type Placeable } from '../../runtime/cluster/assignment.ts';

type TaskLoad = Placeable<number, number>;

const tasks = (n: number, load = 0, owner?: (i: number) => number | undefined): TaskLoad[] =>
  Array.from({ length: n }, (_, id) => ({ id, owner: owner?.(id), load }));

const perWorker = (owners: Map<number, number>) => {
  const m = new Map<number, number>();
  for (const w of owners.values()) m.set(w, (m.get(w) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
};

test('a fresh assignment spreads tasks evenly by count when nothing is measured', (t) => {
  const plan = planAssignment(tasks(12), [0, 1, 2]);
  t.deepEqual(perWorker(plan.owners), [[0, 4], [1, 4], [2, 4]]);
  t.is(plan.moves.length, 12);
  t.true(plan.moves.every((m) => m.from === undefined));
});

test('a balanced assignment stays as it is (sticky)', (t) => {
  const plan = planAssignment(tasks(12, 5, (i) => i % 3), [0, 1, 2]);
  t.deepEqual(plan.moves, []);
});

test('growing the pool moves the fewest tasks: 12 tasks, 2 → 3 workers moves 4', (t) => {
  const plan = planAssignment(tasks(12, 10, (i) => i % 2), [0, 1, 2]);
  t.is(plan.moves.length, 4);
  t.true(plan.moves.every((m) => m.to === 2 && m.from !== undefined));
  t.deepEqual(perWorker(plan.owners), [[0, 4], [1, 4], [2, 4]]);
});

test('shrinking the pool moves only the departing worker\'s tasks', (t) => {
  const before = tasks(12, 10, (i) => i % 3);
  const plan = planAssignment(before, [0, 1]);
  t.deepEqual(plan.moves.map((m) => m.from).sort(), [2, 2, 2, 2]);
  t.deepEqual(perWorker(plan.owners), [[0, 6], [1, 6]]);
});

test('measured load decides, not counts: one hot task gets a worker to itself', (t) => {
  const input: TaskLoad[] = [
    { id: 0, owner: 0, load: 900 },
    { id: 1, owner: 0, load: 100 },
    { id: 2, owner: 0, load: 100 },
    { id: 3, owner: 1, load: 100 },
  ];
  const plan = planAssignment(input, [0, 1]);
  t.deepEqual([...plan.owners.entries()].sort(), [[0, 0], [1, 1], [2, 1], [3, 1]]);
  t.is(plan.moves.length, 2);
});

test('homeless tasks (their worker crashed) go to the least loaded workers, heaviest first', (t) => {
  const input: TaskLoad[] = [
    { id: 0, owner: 0, load: 100 },
    { id: 1, owner: 1, load: 100 },
    { id: 2, owner: undefined, load: 100 },
    { id: 3, owner: undefined, load: 50 },
  ];
  const plan = planAssignment(input, [0, 1]);
  t.is(plan.owners.get(2), 0);
  t.is(plan.owners.get(3), 1);
  t.deepEqual(plan.moves, [{ task: 2, from: undefined, to: 0 }, { task: 3, from: undefined, to: 1 }]);
});

test('imbalance within the tolerance moves nothing; 13 tasks on 3 workers stay 5/4/4', (t) => {
  t.deepEqual(planAssignment(tasks(13, 1, (i) => i % 3), [0, 1, 2]).moves, []);
  const skewed = [{ id: 0, owner: 0, load: 105 }, { id: 1, owner: 1, load: 100 }];
  t.deepEqual(planAssignment(skewed, [0, 1]).moves, []);
});

test('the result is deterministic', (t) => {
  const input = tasks(20, 0, (i) => (i < 15 ? 0 : 1)).map((x, i) => ({ ...x, load: (i * 37) % 11 }));
  t.deepEqual(planAssignment(input, [0, 1, 2, 3]), planAssignment(input, [0, 1, 2, 3]));
});

test('an empty pool is an error', (t) => {
  t.throws(() => planAssignment(tasks(2), []), { message: /empty pool/ });
});
