// Chains compiled from pipeline text through the whole compiler, then run on records.
import test from 'ava';
import { compilePlan } from '../support/compile.ts';
import type { ChainOutput, PartitionState, Rejection } from '../../src/plan/chain.ts';
import { instantiate, type Input } from './build.ts';
import { TaskOperators } from '../../runtime/operators/task-operators.ts';

function runText(text: string, source: string, inputs: Input[], state?: PartitionState) {
  const chain = compilePlan(text).chains.find((c) => c.source === `source:${source}`)!;
  const out: ChainOutput[] = chain.sinks.map(() => ({ keys: [], values: [], offsets: [] }));
  const rejected: Rejection[] = [];
  const operators = new TaskOperators(chain.operators, state, 0);
  const timestamps = inputs.map((r) => r.ts ?? 0);
  instantiate(chain.code)({
    partition: 0,
    keys: inputs.map((r) => r.key ?? null),
    values: inputs.map((r) => r.value),
    offsets: inputs.map((_, i) => i),
    timestamps,
  }, out, rejected, { operators: operators.instances, maxTime: -Infinity });
  operators.afterBatch(Math.max(...timestamps), 0, () => {});
  return { out: Object.fromEntries(chain.sinks.map((id, i) => [id, out[i]!])), rejected, state: operators.snapshot() };
}

const ORDER = `
schema Order {
  id: string
  customer_id: string
  status: enum OrderStatus { PAID, PENDING, FAILED, REFUNDED }
  amount: decimal(12, 2)
  country: string?
  items: array<record Item { sku: string, quantity: int }>
  attrs: map<string>
}
source orders: Order from datagen { count: 1 }
`;

const order = (id: string, status: string, amount: number, country: string | null, items: { sku: string; quantity: number }[] = [], attrs: Record<string, string> = {}) =>
  ({ value: { id, customer_id: `c-${id}`, status, amount, country, items, attrs } });

const orders = [
  order('1', 'PAID', 19.99, 'de', [{ sku: 'a', quantity: 2 }, { sku: 'b', quantity: 1 }], { channel: 'app' }),
  order('2', 'FAILED', 5, null),
  order('3', 'PAID', 0, 'fr'),
  order('4', 'REFUNDED', 250, null, [{ sku: 'c', quantity: 3 }]),
];

test('where, select with casts and ??, key by', (t) => {
  const { out } = runText(`pipeline p ${ORDER}
stream paid = orders
  | where status == "PAID" and amount > 0
  | select { order_id: id, customer_id, amount_cents: long(amount * 100), country: upper(country ?? "zz") }
  | key by customer_id
sink paid to stdout {}
`, 'orders', orders);
  t.deepEqual(out['sink:paid:0']!.values, [{ order_id: '1', customer_id: 'c-1', amount_cents: 1999, country: 'DE' }]);
  t.deepEqual(out['sink:paid:0']!.keys, ['c-1']);
});

test('a where that proves a field non-null lets later operators use it directly', (t) => {
  const { out } = runText(`pipeline p ${ORDER}
stream known = orders | where country != null | select { id, c: upper(country) }
sink known to stdout {}
`, 'orders', orders);
  t.deepEqual(out['sink:known:0']!.values, [{ id: '1', c: 'DE' }, { id: '3', c: 'FR' }]);
});

test('route, union and flat map from pipeline text', (t) => {
  const { out } = runText(`pipeline p ${ORDER}
stream split = orders | route {
  when status == "PAID" => paid
  when status == "FAILED" => failed
  else => other
}
stream problems = failed | union other | select { id, status: string(status) }
stream lines = paid | flat map items as item | select { id, sku: item.sku, n: item.quantity * 10, channel: attrs["channel"] ?? "web" }
sink problems to stdout {}
sink lines to stdout {}
`, 'orders', orders);
  t.deepEqual(out['sink:problems:0']!.values, [{ id: '2', status: 'FAILED' }, { id: '4', status: 'REFUNDED' }]);
  t.deepEqual(out['sink:lines:0']!.values, [{ id: '1', sku: 'a', n: 20, channel: 'app' }, { id: '1', sku: 'b', n: 10, channel: 'app' }]);
});

test('dedupe keeps state between batches', (t) => {
  const text = `pipeline p ${ORDER}
stream once = orders | dedupe by customer_id within 1m | select { id }
sink once to stdout {}
`;
  const first = runText(text, 'orders', [{ ...orders[0]!, ts: 0 }, { ...orders[0]!, ts: 1000 }]);
  t.deepEqual(first.out['sink:once:0']!.values, [{ id: '1' }]);
  const second = runText(text, 'orders', [{ ...orders[0]!, ts: 30_000 }, { ...orders[0]!, ts: 61_000 }], structuredClone(first.state));
  t.deepEqual(second.out['sink:once:0']!.values, [{ id: '1' }]);
  t.deepEqual(second.out['sink:once:0']!.offsets, [1]);
});

test('error policies from pipeline text', (t) => {
  const text = (policy: string) => `pipeline p ${ORDER}
stream ratio = orders | on error ${policy} | select { id, r: 100 / size(items) }
sink ratio to stdout {}
`;
  const skipped = runText(text('skip'), 'orders', orders);
  t.deepEqual(skipped.out['sink:ratio:0']!.values, [{ id: '1', r: 50 }, { id: '4', r: 100 }]);
  t.deepEqual(skipped.rejected.map((r) => [r.action, r.offset, r.reason]), [['skip', 1, 'division by zero'], ['skip', 2, 'division by zero']]);
  const dead = runText(text('dead_letter'), 'orders', orders);
  t.like(dead.rejected[0], { action: 'dead_letter', operator: 'ratio/1:select', value: orders[1]!.value });
  t.throws(() => runText(text('fail'), 'orders', orders), { name: 'ChainFailure', message: 'division by zero' });
});

test('backtick names and string literals with quotes, comment and template syntax stay data', (t) => {
  const { out } = runText(`pipeline p
schema Odd { \`__proto__\`: string, \`constructor\`: string, toString: int, x: string? }
source \`odd source\`: Odd from datagen { count: 1 }
stream \`out"put\` = \`odd source\`
  | where \`constructor\` != "\\"; globalThis.pwned = 1; \\"" and x != "*/ globalThis.pwned = 1; /*"
  | select { \`__proto__\`: \`constructor\`, \`constructor\`: \`__proto__\`, toString: toString + 1, x: x ?? "\${globalThis.pwned = 1}\`" }
sink \`out"put\` to stdout {}
`, 'odd source', [{ value: JSON.parse('{"__proto__": "p", "constructor": "c", "toString": 1, "x": null}') }]);
  const [value] = out['sink:out"put:0']!.values as Record<string, unknown>[];
  t.deepEqual(Object.entries(value!), [['__proto__', 'c'], ['constructor', 'p'], ['toString', 2], ['x', '${globalThis.pwned = 1}`']]);
  t.is(Object.getPrototypeOf(value), Object.prototype);
  t.is((globalThis as { pwned?: unknown }).pwned, undefined);
});
