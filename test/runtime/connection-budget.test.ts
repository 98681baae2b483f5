// The process's connection budget: how a run's sinks and lookups share it, and what is left for other runs.
import test from 'ava';
import { ConnectionBudget, type ConnectionUse } from '../../runtime/coordinator/connections.ts';

const sink = (id: string, min = 1, wanted = 5): ConnectionUse => ({ id, role: 'sink', demand: { min, wanted } });
const lookup = (id: string, min = 1, wanted = 5): ConnectionUse => ({ id, role: 'lookup', demand: { min, wanted } });
const byId = (shares: { id: string; connections: number }[]) => Object.fromEntries(shares.map((s) => [s.id, s.connections]));

test('every use gets its minimum, then one more in turn; a lookup costs one per worker', (t) => {
  const budget = new ConnectionBudget('postgres', 10, 'postgres.connections');
  // sink 1 + lookup 1×2 = 3; then sink 2 (4), lookup 2 (6), sink 3 (7), lookup 3 (9), sink 4 (10).
  const a = budget.allot('p', [sink('out'), lookup('enrich')], 2);
  t.deepEqual(byId(a.shares), { out: 4, enrich: 3 });
  t.is(a.report().held, 10);
  t.is(budget.inUse, 10);
});

test('a use never gets more than it wants; the rest stays free', (t) => {
  const budget = new ConnectionBudget('postgres', 50, 'postgres.connections');
  const a = budget.allot('p', [sink('out', 1, 3), lookup('enrich', 1, 2)], 4);
  t.deepEqual(byId(a.shares), { out: 3, enrich: 2 });
  t.is(budget.inUse, 3 + 2 * 4);
});

test('runs share the budget: a second run gets what the first left, and what a run held is free again when it ends', (t) => {
  const budget = new ConnectionBudget('postgres', 8, 'postgres.connections');
  const first = budget.allot('one', [sink('out', 1, 5)], 1);
  t.is(first.shares[0]!.connections, 5);
  const second = budget.allot('two', [sink('out', 1, 5)], 1);
  t.is(second.shares[0]!.connections, 3);
  t.is(second.report().heldByProcess, 8);
  t.throws(() => budget.allot('three', [sink('out')], 1), { message: /pipeline three needs at least 1 postgres connections \(out: 1\), but the process's budget postgres\.connections is 8 and its other pipelines hold 8/ });
  first.release();
  t.is(budget.inUse, 3);
  t.is(budget.allot('three', [sink('out', 1, 5)], 1).shares[0]!.connections, 5);
});

test('a run whose minimum does not fit is refused, naming the setting and what each use needs', (t) => {
  const budget = new ConnectionBudget('postgres', 4, '--pg-connections (SENSEI_PG_CONNECTIONS)');
  const e = t.throws(() => budget.allot('orders', [sink('sink:out:0'), lookup('out/0:lookup', 2, 10)], 2));
  t.is(
    e.message,
    'pipeline orders needs at least 5 postgres connections (sink:out:0: 1, out/0:lookup: 2 in each of 2 workers), ' +
      "but the process's budget --pg-connections (SENSEI_PG_CONNECTIONS) is 4: raise the budget, or run fewer workers",
  );
  t.is(budget.inUse, 0, 'a refused run holds nothing');
});

test('a budget must be a whole number, at least 1', (t) => {
  t.throws(() => new ConnectionBudget('postgres', 0, 'postgres.connections'), { message: /postgres\.connections must be a whole number of connections, at least 1 \(got 0\)/ });
  t.throws(() => new ConnectionBudget('postgres', 2.5, 'postgres.connections'), { message: /got 2\.5/ });
});
