import test from 'ava';
import { typedToPlan } from '../../src/lower/lower.ts';
import { durationText, exprText } from '../../src/lower/expr-text.ts';
import { validatePlan } from '../../src/plan/validate.ts';
import { PLAN_VERSION } from '../../src/plan/plan.ts';
import { compilePlan } from '../support/compile.ts';
import { decimal } from '../../src/types/type-utils.ts';
import { bin, call, dedupe, field, inList, keyBy, lit, ProgramBuilder, record, route, select, str, T, union, where } from '../codegen/build.ts';

const Order = record('Order', { id: T.string, status: T.string, amount: T.int });
const paid = bin('==', field('status', T.string), str('PAID'), T.boolean);

function program() {
  const typed = new ProgramBuilder().source('orders', Order).source('refunds', Order)
    .stream('paid', 'orders', [where(paid), keyBy(field('id', T.string))])
    .stream('all', 'paid', [union('refunds'), select({ id: field('id', T.string) })])
    .stream('split', 'orders', [route([{ condition: paid, target: 'ok' }], 'rest')])
    .sink('all').sink('ok').build();
  typed.deadLetter = { connector: 'file', options: { path: 'dlq.jsonl' }, span: typed.sources[0]!.span };
  return typed;
}

test('sources, sinks and the dead letter carry connectors and Avro schemas', (t) => {
  const plan = typedToPlan(program());
  t.is(plan.version, PLAN_VERSION);
  t.deepEqual(plan.sources.map((s) => s.id), ['source:orders', 'source:refunds']);
  t.like(plan.sources[0]!.schema as object, { type: 'record', name: 'Order' });
  t.is(plan.sources[0]!.keySchema, 'string');
  t.deepEqual(plan.sinks.map((s) => [s.id, s.stream]), [['sink:all:0', 'all'], ['sink:ok:0', 'ok']]);
  t.deepEqual(plan.deadLetter, { connector: 'file', options: { path: 'dlq.jsonl' } });
});

test('one chain per source, naming the sinks it feeds', (t) => {
  const plan = typedToPlan(program());
  t.deepEqual(plan.chains.map((c) => [c.source, c.sinks]), [['source:orders', ['sink:all:0', 'sink:ok:0']], ['source:refunds', ['sink:all:0']]]);
});

test('the graph has a node per source, operator, stream and sink', (t) => {
  const { nodes } = typedToPlan(program()).graph;
  t.deepEqual(nodes.map((n) => [n.kind, n.id, n.label]), [
    ['source', 'source:orders', 'orders'],
    ['source', 'source:refunds', 'refunds'],
    ['operator', 'paid/0:where', 'where status == "PAID"'],
    ['operator', 'paid/1:key-by', 'key by id'],
    ['stream', 'stream:paid', 'paid'],
    ['operator', 'all/0:union', 'union refunds'],
    ['operator', 'all/1:select', 'select { id }'],
    ['stream', 'stream:all', 'all'],
    ['operator', 'split/0:route', 'route to ok, rest'],
    ['stream', 'stream:split', 'split'],
    ['stream', 'stream:ok', 'ok'],
    ['stream', 'stream:rest', 'rest'],
    ['sink', 'sink:all:0', 'all'],
    ['sink', 'sink:ok:0', 'ok'],
  ]);
  t.deepEqual(nodes[0]!.location, { file: 'test.sensei', line: 1, column: 1 });
});

test('edges carry the schema of their records and the key once known', (t) => {
  const { edges } = typedToPlan(program()).graph;
  const text = edges.map((e) => `${e.from} -> ${e.to}${e.key ? ` [${e.key}]` : ''}`);
  t.deepEqual(text, [
    'source:orders -> paid/0:where',
    'paid/0:where -> paid/1:key-by',
    'paid/1:key-by -> stream:paid [id]',
    'stream:paid -> all/0:union [id]',
    'source:refunds -> all/0:union',
    'all/0:union -> all/1:select [id]',
    'all/1:select -> stream:all [id]',
    'source:orders -> split/0:route',
    'split/0:route -> stream:split',
    'split/0:route -> stream:ok',
    'split/0:route -> stream:rest',
    'stream:all -> sink:all:0 [id]',
    'stream:ok -> sink:ok:0',
  ]);
  t.like(edges[0]!.schema as object, { name: 'Order' });
  t.like(edges[6]!.schema as object, { type: 'record', fields: [{ name: 'id', type: 'string' }] });
});

test('the plan survives JSON and validation', (t) => {
  const plan = typedToPlan(program());
  t.deepEqual(validatePlan(JSON.parse(JSON.stringify(plan))), plan);
});

test('stateful operators are listed in their chain', (t) => {
  const typed = new ProgramBuilder().source('orders', Order).stream('once', 'orders', [dedupe(field('id', T.string), 600_000)]).sink('once').build();
  const plan = typedToPlan(typed);
  t.deepEqual(plan.chains[0]!.operators.map((o) => [o.id, o.kind, o.stores.map((s) => s.name)]), [['once/0:dedupe', 'dedupe', ['seen']]]);
  t.is(plan.graph.nodes.find((n) => n.type === 'dedupe')!.label, 'dedupe by id within 10m');
});

test('expressions print as pipeline text', (t) => {
  t.is(exprText(bin('and', paid, inList(field('n', T.int), [lit(1, T.int), lit(2, T.long)], true), T.boolean)), 'status == "PAID" and n not in (1, 2L)');
  t.is(exprText(call('upper', [bin('??', field('c', T.string), str('a"b'), T.string)], T.string)), 'upper(c ?? "a\\"b")');
  t.is(exprText(bin('*', bin('+', lit(1.5, decimal(2, 1)), lit(2, T.double), T.double), lit(1714557600000, T.timestampMillis), T.double)), '(1.5d + 2.0) * timestamp "2024-05-01T10:00:00.000Z"');
  t.is(durationText(1500), '1500ms');
  t.is(durationText(7_200_000), '2h');
});

test('a repartition is a source and a sink of the plan, and a node of the graph before its group', (t) => {
  const plan = compilePlan(`pipeline p
schema Order { id: string, country: string, amount: long, at: timestamp_millis }
source orders: Order from datagen { partitions: 3 } event time at idle 5s
stream totals = orders | window tumbling 1m | group by country { n: count() }
sink totals to stdout {}
`);
  validatePlan(plan);
  const exchange = plan.sources.find((s) => s.name === 'totals-repartition')!;
  t.deepEqual(exchange.exchange, { from: 'source:orders', sink: 'exchange:totals-repartition', idleMs: 5000 });
  t.is(exchange.connector, 'exchange');
  const sink = plan.sinks.find((s) => s.id === 'exchange:totals-repartition')!;
  t.is(sink.exchange, 'source:totals-repartition');
  t.is(sink.keySchema, 'int', 'keyed by the exchange partition');
  t.deepEqual(plan.chains.map((c) => [c.source, c.sinks, c.operators.map((o) => o.id)]), [
    ['source:orders', ['exchange:totals-repartition'], []],
    ['source:totals-repartition', ['sink:totals:0'], ['totals/1:aggregate']],
  ]);
  const edges = plan.graph.edges.map((e) => `${e.from} -> ${e.to}${e.key ? ` (${e.key})` : ''}`);
  t.true(edges.includes('source:orders -> exchange:totals-repartition'));
  t.true(edges.includes('exchange:totals-repartition -> totals/1:aggregate (country)'));
  t.is(plan.graph.nodes.find((n) => n.id === 'exchange:totals-repartition')?.type, 'repartition');
});
