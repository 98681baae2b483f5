import test from 'ava';
import { ChainFailure } from '../../src/plan/chain.ts';
import { generateChain } from '../../src/codegen/codegen.ts';
import {
  bin, dedupe, field, flatMap, int, keyBy, lit, nullable, ProgramBuilder, record, route, run, select, str, T, union, where,
} from './build.ts';

const Order = record('Order', {
  id: T.string,
  status: T.string,
  amount: T.int,
  country: nullable(T.string),
  items: { kind: 'array', items: T.string },
});

const orders = [
  { id: 'a', status: 'PAID', amount: 10, country: 'DE', items: ['x', 'y'] },
  { id: 'b', status: 'FAILED', amount: 20, country: null, items: [] },
  { id: 'c', status: 'PAID', amount: 30, country: 'FR', items: ['z'] },
];
const batch = orders.map((value) => ({ key: value.id, value }));

const status = field('status', T.string);
const paid = bin('==', status, str('PAID'), T.boolean);

test('where keeps the records whose condition is true', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('paid', 'orders', [where(paid)]).sink('paid').build();
  const { out } = run(typed, 'orders', batch);
  t.deepEqual(out['sink:paid:0']!.values.map((v) => (v as { id: string }).id), ['a', 'c']);
  t.deepEqual(out['sink:paid:0']!.offsets, [0, 2]);
  t.deepEqual(out['sink:paid:0']!.keys, ['a', 'c']);
});

test('a null condition drops the record', (t) => {
  const flag = field('flag', nullable(T.boolean));
  const typed = new ProgramBuilder().source('s', record('R', { flag: nullable(T.boolean) })).stream('x', 's', [where(flag)]).sink('x').build();
  const { out } = run(typed, 's', [{ value: { flag: null } }, { value: { flag: true } }, { value: { flag: false } }]);
  t.deepEqual(out['sink:x:0']!.offsets, [1]);
});

test('select builds records with fields in schema order', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('slim', 'orders', [select({ total: bin('*', field('amount', T.int), int(2), T.int), order_id: field('id', T.string) })])
    .sink('slim').build();
  const { out } = run(typed, 'orders', batch);
  const values = out['sink:slim:0']!.values;
  t.deepEqual(values[0], { total: 20, order_id: 'a' });
  t.deepEqual(values.map((v) => Object.keys(v as object)), [['total', 'order_id'], ['total', 'order_id'], ['total', 'order_id']]);
});

test('key by sets the key of the records downstream', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('by_status', 'orders', [keyBy(status)])
    .stream('later', 'by_status', [where(paid)])
    .sink('by_status').sink('later').build();
  const { out } = run(typed, 'orders', batch);
  t.deepEqual(out['sink:by_status:0']!.keys, ['PAID', 'FAILED', 'PAID']);
  t.deepEqual(out['sink:later:0']!.keys, ['PAID', 'PAID']);
});

test('flat map emits one record per element, and a where after it skips single elements', (t) => {
  const item = field('item', T.string);
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('lines', 'orders', [flatMap(field('items', Order.fields[4]!.type), 'item', 'items'), where(bin('!=', item, str('y'), T.boolean)), select({ id: field('id', T.string), item })])
    .sink('lines').build();
  const { out } = run(typed, 'orders', batch);
  t.deepEqual(out['sink:lines:0']!.values, [{ id: 'a', item: 'x' }, { id: 'c', item: 'z' }]);
  t.deepEqual(out['sink:lines:0']!.offsets, [0, 2]);
});

test('flat map over a null array emits nothing', (t) => {
  const Maybe = record('M', { id: T.string, xs: nullable({ kind: 'array', items: T.int }) });
  const typed = new ProgramBuilder().source('s', Maybe).stream('x', 's', [flatMap(field('xs', Maybe.fields[1]!.type), 'x', 'xs')]).sink('x').build();
  const { out } = run(typed, 's', [{ value: { id: 'a', xs: null } }, { value: { id: 'b', xs: [1, 2] } }]);
  t.deepEqual(out['sink:x:0']!.values, [{ id: 'b', x: 1 }, { id: 'b', x: 2 }]);
});

test('union merges streams; operators before the union apply to the first input only', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).source('more', Order)
    .stream('all', 'orders', [where(paid), union('more'), select({ id: field('id', T.string) })])
    .sink('all').build();
  const fromOrders = run(typed, 'orders', batch);
  const fromMore = run(typed, 'more', batch);
  t.deepEqual(fromOrders.out['sink:all:0']!.values, [{ id: 'a' }, { id: 'c' }]);
  t.deepEqual(fromMore.out['sink:all:0']!.values, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
});

test('a stream reached along two paths appears once per path', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('p', 'orders', [where(paid)])
    .stream('q', 'orders', [where(bin('>', field('amount', T.int), int(15), T.int))])
    .stream('both', 'p', [union('q'), select({ id: field('id', T.string) })])
    .sink('both').build();
  const { out } = run(typed, 'orders', batch);
  t.deepEqual(out['sink:both:0']!.values.map((v) => (v as { id: string }).id), ['a', 'b', 'c', 'c']);
});

test('route sends each record to the first matching branch, else to the last; the routing stream passes none on', (t) => {
  const failed = bin('==', status, str('FAILED'), T.boolean);
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('split', 'orders', [route([{ condition: paid, target: 'ok' }, { condition: failed, target: 'bad' }], 'other')])
    .sink('ok').sink('bad').sink('other').sink('split').build();
  const more = [...batch, { key: 'd', value: { ...orders[0]!, id: 'd', status: 'PENDING' } }];
  const { out } = run(typed, 'orders', more);
  const ids = (id: string) => out[id]!.values.map((v) => (v as { id: string }).id);
  t.deepEqual(ids('sink:ok:0'), ['a', 'c']);
  t.deepEqual(ids('sink:bad:0'), ['b']);
  t.deepEqual(ids('sink:other:0'), ['d']);
  t.deepEqual(out['sink:split:0']?.values ?? [], []);
});

test('route without else drops unmatched records from the branches', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('split', 'orders', [route([{ condition: paid, target: 'ok' }])])
    .stream('ok_ids', 'ok', [select({ id: field('id', T.string) })])
    .sink('ok_ids').build();
  const { out } = run(typed, 'orders', batch);
  t.deepEqual(out['sink:ok_ids:0']!.values, [{ id: 'a' }, { id: 'c' }]);
});

test('dedupe drops a key seen within the window, per partition state that survives structured clone', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('once', 'orders', [dedupe(field('id', T.string), 1000)]).sink('once').build();
  const first = run(typed, 'orders', [{ value: orders[0], ts: 0 }, { value: orders[0], ts: 500 }, { value: orders[1], ts: 600 }]);
  t.deepEqual(first.out['sink:once:0']!.offsets, [0, 2]);
  const state = structuredClone(first.state);
  t.true(state.stores['once/0:dedupe']!.seen instanceof Map);
  const second = run(typed, 'orders', [{ value: orders[0], ts: 900 }, { value: orders[0], ts: 1000 }, { value: orders[1], ts: 1000 }], { state });
  // a: first seen at 0, so 900 is a repeat and 1000 is outside the window; b (600) is a repeat at 1000.
  t.deepEqual(second.out['sink:once:0']!.offsets, [1]);
});

test('dedupe forgets keys last seen more than the window before the watermark', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('once', 'orders', [dedupe(field('id', T.string), 100)]).sink('once').build();
  const { state } = run(typed, 'orders', [
    [{ value: orders[0], ts: 0 }, { value: orders[1], ts: 50 }],
    [{ value: orders[2], ts: 120 }],
  ]);
  t.deepEqual([...state.stores['once/0:dedupe']!.seen!.keys()], ['b', 'c']);
});

test('dedupe by a structured key compares by content', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('once', 'orders', [dedupe(field('items', Order.fields[4]!.type), 1000)]).sink('once').build();
  const { out } = run(typed, 'orders', [{ value: orders[0] }, { value: { ...orders[2], items: ['x', 'y'] } }, { value: orders[2] }]);
  t.deepEqual(out['sink:once:0']!.offsets, [0, 2]);
});

test('the chain lists its stateful operators and sinks', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).source('other', Order)
    .stream('once', 'orders', [dedupe(field('id', T.string), 1000)])
    .stream('o2', 'other', [])
    .sink('once').sink('o2').sink('orders').build();
  const chain = generateChain(typed, { source: 'orders' });
  t.deepEqual(chain.sinks, ['sink:orders:0', 'sink:once:0']);
  t.deepEqual(chain.operators, [{
    id: 'once/0:dedupe',
    kind: 'dedupe',
    config: { withinMs: 1000 },
    stores: [{ name: 'seen', keySchema: 'string', valueSchema: { type: 'long', logicalType: 'timestamp-millis' }, retentionMs: 1000 }],
  }]);
});

const boom = bin('/', field('amount', T.int), bin('-', field('amount', T.int), int(20), T.int), T.int);

test('on error dead_letter rejects the failing record with its operator and goes on', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('x', 'orders', [where(paid), select({ q: boom })], { policy: 'dead_letter' }).sink('x').build();
  const { out, rejected } = run(typed, 'orders', [...batch, { key: 'd', value: { ...orders[0]!, amount: 20 } }]);
  t.deepEqual(out['sink:x:0']!.values, [{ q: -1 }, { q: 3 }]);
  t.is(rejected.length, 1);
  t.like(rejected[0], { action: 'dead_letter', operator: 'x/1:select', offset: 3, key: 'd', reason: 'division by zero' });
  t.deepEqual(rejected[0]!.value, { ...orders[0]!, amount: 20 });
});

test('on error skip records a skip', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('x', 'orders', [select({ q: boom })], { policy: 'skip' }).sink('x').build();
  const { out, rejected } = run(typed, 'orders', [{ value: { ...orders[0]!, amount: 20 } }, { value: orders[0] }]);
  t.is(out['sink:x:0']!.values.length, 1);
  t.like(rejected[0], { action: 'skip', operator: 'x/0:select', offset: 0 });
});

test('on error fail throws a ChainFailure naming the operator and offset', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('x', 'orders', [select({ q: boom })], { policy: 'fail' }).sink('x').build();
  const error = t.throws(() => run(typed, 'orders', [{ value: orders[0] }, { value: { ...orders[0]!, amount: 20 } }]));
  t.true(error instanceof ChainFailure);
  t.like(error, { operator: 'x/0:select', offset: 1, message: 'division by zero' });
});

test('a failing downstream stream is not caught by the policy of the stream that feeds it', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('up', 'orders', [where(paid)], { policy: 'dead_letter' })
    .stream('down', 'up', [select({ q: boom })], { policy: 'fail' })
    .sink('down').build();
  const error = t.throws(() => run(typed, 'orders', [{ value: { ...orders[0]!, amount: 20 } }]));
  t.like(error, { name: 'ChainFailure', operator: 'down/0:select' });
});

test('an error in one stream does not stop its sibling streams', (t) => {
  const typed = new ProgramBuilder().source('orders', Order)
    .stream('bad', 'orders', [select({ q: boom })], { policy: 'skip' })
    .stream('good', 'orders', [select({ id: field('id', T.string) })])
    .sink('bad').sink('good').build();
  const { out, rejected } = run(typed, 'orders', [{ value: { ...orders[0]!, amount: 20 } }]);
  t.is(out['sink:bad:0']!.values.length, 0);
  t.deepEqual(out['sink:good:0']!.values, [{ id: 'a' }]);
  t.is(rejected.length, 1);
});

test('errors after a flat map reject the element and go on with the next', (t) => {
  const item = field('item', T.int);
  const Nums = record('N', { id: T.string, xs: { kind: 'array', items: T.int } });
  const typed = new ProgramBuilder().source('s', Nums)
    .stream('x', 's', [flatMap(field('xs', Nums.fields[1]!.type), 'item', 'xs'), select({ q: bin('/', int(6), item, T.int) })], { policy: 'dead_letter' })
    .sink('x').build();
  const { out, rejected } = run(typed, 's', [{ value: { id: 'a', xs: [1, 0, 3] } }]);
  t.deepEqual(out['sink:x:0']!.values, [{ q: 6 }, { q: 2 }]);
  t.like(rejected[0], { operator: 'x/1:select' });
});

test('the literal `true` condition and an empty stream pass records through', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('x', 'orders', [where(lit(true, T.boolean))]).stream('y', 'x', []).sink('y').build();
  t.is(run(typed, 'orders', batch).out['sink:y:0']!.values.length, 3);
});
