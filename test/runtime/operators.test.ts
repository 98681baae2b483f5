import test from 'ava';
import type { PlanOperator } from '../../src/plan/plan.ts';
import { Dedupe } from '../../runtime/operators/dedupe.ts';
import { OPERATORS } from '../../runtime/operators/registry.ts';
import { TaskOperators } from '../../runtime/operators/task-operators.ts';
import { MemoryStore } from '../../runtime/state/store.ts';

const dedupe = (withinMs: number): PlanOperator => ({
  id: 'once/0:dedupe',
  kind: 'dedupe',
  config: { withinMs },
  stores: [{ name: 'seen', keySchema: 'string', valueSchema: 'long', retentionMs: withinMs }],
});

test('the registry builds dedupe from its plan descriptor', (t) => {
  t.true(OPERATORS.has('dedupe'));
  const ops = new TaskOperators([dedupe(100)], undefined, 0);
  t.true(ops.instances[0] instanceof Dedupe);
  t.true(ops.stateful);
  t.false(new TaskOperators([], undefined, 0).stateful);
});

test('an unknown kind is an error naming the operator', (t) => {
  const error = t.throws(() => new TaskOperators([{ ...dedupe(1), id: 'x/0:window', kind: 'window' }], undefined, 0));
  t.is(error!.message, 'operator x/0:window: no stateful operator of kind window');
});

test('dedupe lets a key through once per window, measured from the last time it went through', (t) => {
  const op = new Dedupe(new MemoryStore(), 100);
  t.true(op.admit('a', 0));
  t.false(op.admit('a', 99));
  t.true(op.admit('a', 100));
  t.false(op.admit('a', 150));
  t.true(op.admit('b', 150));
});

test('the watermark expires keys last let through a window or more before it, oldest first', (t) => {
  const store = new MemoryStore<unknown, number>();
  const op = new Dedupe(store, 100);
  op.admit('a', 0);
  op.admit('b', 50);
  op.admit('c', 120);
  op.onWatermark(150);
  t.deepEqual([...store.entries()].map(([k]) => k), ['c'], 'b, exactly a window before the watermark, is expired too');
  op.admit('b', 160);
  op.admit('d', 200);
  op.onWatermark(230);
  t.deepEqual([...store.entries()].map(([k]) => k), ['b', 'd']);
});

test('a task moved with its snapshot decides exactly as it would have stayed', (t) => {
  const first = new TaskOperators([dedupe(1000)], undefined, 0);
  const op = first.instances[0] as Dedupe;
  t.true(op.admit('a', 10));
  first.afterBatch(10, 0, () => {});
  // What a move carries: the snapshot, through structured clone.
  const moved = new TaskOperators([dedupe(1000)], structuredClone(first.snapshot()), 0);
  const again = moved.instances[0] as Dedupe;
  t.false(again.admit('a', 500));
  t.true(again.admit('b', 500));
  t.deepEqual([...moved.snapshot().stores['once/0:dedupe']!.seen!.keys()], ['a', 'b']);
});

test('afterBatch drives the watermark from record times: keys expire only when it moves far enough', (t) => {
  const ops = new TaskOperators([dedupe(100)], undefined, 0);
  const op = ops.instances[0] as Dedupe;
  op.admit('a', 0);
  ops.afterBatch(0, 0, () => {});
  ops.afterBatch(-Infinity, 0, () => {});
  t.is(ops.snapshot().stores['once/0:dedupe']!.seen!.size, 1);
  op.admit('b', 99);
  ops.afterBatch(99, 0, () => {});
  t.is(ops.snapshot().stores['once/0:dedupe']!.seen!.size, 2, 'the watermark (99) is not a window past a (0)');
  ops.afterBatch(100, 0, () => {});
  t.deepEqual([...ops.snapshot().stores['once/0:dedupe']!.seen!.keys()], ['b']);
});

test('a memory store lists entries oldest first: a put moves its key to the end', (t) => {
  const store = new MemoryStore<string, number>();
  store.put('x', 1);
  store.put('y', 2);
  store.put('x', 3);
  t.deepEqual([...store.entries()], [['y', 2], ['x', 3]]);
  t.is(store.size, 2);
  t.true(store.delete('y'));
  t.false(store.delete('y'));
  t.deepEqual(structuredClone(store.snapshot()), new Map([['x', 3]]));
});
