import test from 'ava';
import { typeToString } from '../../src/types/type-utils.ts';
import type { TypedStream } from '../../src/check/typed.ts';
import { check, expectClean, expectDiagnostic, SCHEMA, stream } from './harness.ts';

const TIMED = 'source timed: Order from datagen { count: 10 } event time created_at lateness 10s';
const program = (body: string) => check(`pipeline p\n${SCHEMA}\n${TIMED}\n${body}`);
const fields = (s: TypedStream) => s.output.fields.map((f) => `${f.name}: ${typeToString(f.type)}`);

test('revenue per country per minute: keys, the window and the aggregates make the output, typed by Avro rules', (t) => {
  const c = program(`stream revenue = timed
  | where status == "PAID"
  | window tumbling 1m
  | group by country: customer?.country, status {
      orders: count(), revenue: sum(amount), mean: avg(amount), mean_qty: avg(qty), total: sum(qty),
      smallest: min(price), latest: max(created_at), customers: count_distinct(customer_id),
      first_note: first(note), last_id: last(id), skus: collect(note),
    }
sink revenue to stdout`);
  expectClean(t, c);
  const s = stream(c, 'revenue');
  t.deepEqual(fields(s), [
    'country: string?', 'status: enum Status', 'window_start: timestamp_millis', 'window_end: timestamp_millis',
    'orders: long', 'revenue: decimal(38,2)', 'mean: decimal(38,6)', 'mean_qty: double', 'total: long',
    'smallest: double', 'latest: timestamp_millis', 'customers: long', 'first_note: string?', 'last_id: string', 'skus: array<string>',
  ]);
  t.is(typeToString(s.keyType), 'record RevenueKey');
  const op = s.operators[1]!;
  t.is(op.kind, 'aggregate');
  if (op.kind === 'aggregate') {
    t.deepEqual(op.window, { shape: 'tumbling', sizeMs: 60_000 });
    t.is(op.emit, 'final');
  }
  t.deepEqual(c.typed!.sources.find((x) => x.name === 'timed')!.eventTime && { lateness: c.typed!.sources.find((x) => x.name === 'timed')!.eventTime!.latenessMs }, { lateness: 10_000 });
});

test('nullable arguments give nullable sums, means, minima and maxima; counts stay non-null', (t) => {
  const c = program('stream s = timed | group by id { n: count(note), paid: count(paid), ms: max(updated_at), sq: sum(if customer?.address?.zip == null then 1 else 2) }\nsink s to stdout');
  expectClean(t, c);
  t.deepEqual(fields(stream(c, 's')), ['id: string', 'n: long', 'paid: long', 'ms: timestamp_micros?', 'sq: long']);
});

test('without a window a group is a running aggregate: updates, keyed by its one key', (t) => {
  const c = program('stream s = timed | group by customer_id { n: count() }\nsink s to stdout');
  expectClean(t, c);
  const s = stream(c, 's');
  t.is(typeToString(s.keyType), 'string');
  const op = s.operators[0]!;
  t.true(op.kind === 'aggregate' && op.emit === 'updates' && op.window === undefined);
});

test('every window shape and emit mode, and a group without keys', (t) => {
  for (const w of ['window hopping 10m every 1m emit updates', 'window session gap 30s', 'window cumulate 1h every 10m', 'window tumbling 1m emit final']) {
    const c = program(`stream s = timed | ${w} | group { n: count() }\nsink s to stdout`);
    expectClean(t, c);
    t.is(typeToString(stream(c, 's').keyType), 'timestamp_millis', w);
  }
});

test('a window over a source without event time warns that record timestamps are the time', (t) => {
  const c = program('stream s = orders | ⟦window tumbling 1m⟧ | group by id { n: count() }\nsink s to stdout');
  const d = expectDiagnostic(t, c, 'record-time-window');
  t.is(d.severity, 'warning');
  t.regex(d.hints[0]!, /event time FIELD lateness 10s/);
});

test('an event time that is not a timestamp', (t) => {
  const c = check(`pipeline p\n${SCHEMA}\nsource timed: Order from datagen event time ⟦note⟧\nstream s = timed | group { n: count() }\nsink s to stdout`);
  expectDiagnostic(t, c, 'invalid-event-time');
});

test('an event time field that does not exist names the fields', (t) => {
  const c = check(`pipeline p\n${SCHEMA}\nsource timed: Order from datagen event time ⟦created⟧\nstream s = timed | group { n: count() }\nsink s to stdout`);
  const d = expectDiagnostic(t, c, 'unknown-field');
  t.regex(d.hints[0]!, /created_at/);
});

test('window shapes need their durations', (t) => {
  const cases: [string, RegExp][] = [
    ['window hopping ⟦10m⟧', /needs `every`/],
    ['window session ⟦30s⟧', /needs `gap`/],
    ['window tumbling 1m every ⟦10s⟧', /belongs to hopping/],
    ['window cumulate 1h every ⟦7m⟧', /whole number of steps/],
    ['window hopping 1m every ⟦2m⟧', /at most the window's size/],
    ['window ⟦tumble⟧ 1m', /unknown window/],
    ['window tumbling 1m emit ⟦later⟧', /unknown emit mode/],
    ['window session gap 30s emit ⟦updates⟧', /final results only/],
  ];
  for (const [w, message] of cases) {
    const c = program(`stream s = timed | ${w} | group { n: count() }\nsink s to stdout`);
    const d = expectDiagnostic(t, c, 'invalid-window');
    t.regex(d.message, message, w);
  }
});

test('a window needs its group by right after it', (t) => {
  expectDiagnostic(t, program('stream s = timed | ⟦window tumbling 1m⟧ | where qty > 1 | group { n: count() }\nsink s to stdout'), 'window-without-group');
  expectDiagnostic(t, program('stream s = timed | ⟦window tumbling 1m⟧\nsink s to stdout'), 'window-without-group');
});

test('an aggregate outside a group, and inside another aggregate', (t) => {
  const c = program('stream s = timed | where ⟦count()⟧ > 1\nsink s to stdout');
  const d = expectDiagnostic(t, c, 'aggregate-outside-group');
  t.regex(d.hints[0]!, /group by KEY \{ n: count\(\) \}/);
  expectDiagnostic(t, program('stream s = timed | group { n: sum(⟦count()⟧) }\nsink s to stdout'), 'aggregate-outside-group');
});

test('a field neither grouped nor aggregated, and computed values, are not aggregates', (t) => {
  const c = program('stream s = timed | group by country: customer?.country { n: count(), ⟦status⟧ }\nsink s to stdout');
  const d = expectDiagnostic(t, c, 'not-an-aggregate');
  t.regex(d.hints[0]!, /status: last\(status\)/);
  expectDiagnostic(t, program('stream s = timed | group { ⟦n: count() + 1⟧ }\nsink s to stdout'), 'not-an-aggregate');
  expectDiagnostic(t, program('stream s = timed | ⟦group by id {}⟧\nsink s to stdout'), 'not-an-aggregate');
});

test('aggregates check their argument types', (t) => {
  const cases: [string, RegExp][] = [
    ['sum(⟦note⟧)', /needs a number/],
    ['min(⟦items⟧)', /numbers, decimals, strings/],
    ['count_distinct(⟦raw⟧)', /a scalar/],
  ];
  for (const [agg, message] of cases) {
    const d = expectDiagnostic(t, program(`stream s = timed | group { x: ${agg} }\nsink s to stdout`), 'type-mismatch');
    t.regex(d.message, message, agg);
  }
  expectDiagnostic(t, program('stream s = timed | group { x: ⟦avg()⟧ }\nsink s to stdout'), 'wrong-arity');
});

test('group keys are named scalars', (t) => {
  expectDiagnostic(t, program('stream s = timed | group by ⟦*⟧ { n: count() }\nsink s to stdout'), 'invalid-group-key');
  expectDiagnostic(t, program('stream s = timed | group by ⟦items⟧ { n: count() }\nsink s to stdout'), 'invalid-group-key');
  expectDiagnostic(t, program('stream s = timed | group by id, n: qty { ⟦n⟧: count() }\nsink s to stdout'), 'duplicate-field');
});

test('a windowed group after another group would find every result late', (t) => {
  const c = program('stream a = timed | window tumbling 1m | group by id { n: count() }\nstream b = a | ⟦window tumbling 1h⟧ | group { n: sum(n) }\nsink b to stdout');
  expectDiagnostic(t, c, 'window-after-aggregate');
  // A running aggregate over windowed results is fine.
  expectClean(t, program('stream a = timed | window tumbling 1m | group by id { n: count() }\nstream b = a | group by id { windows: count(), n: sum(n) }\nsink b to stdout'));
});

/** A source of several partitions (datagen's `partitions`), partitioned as `clause` says. */
const partitioned = (clause: string, body: string) =>
  check(`pipeline p\n${SCHEMA}\nsource many: Order from datagen { count: 10, partitions: 4 } event time created_at ${clause}\n${body}\nsink s to stdout`);

/** The groups the checker repartitions by their keys. */
const repartitioned = (c: ReturnType<typeof check>) => c.typed?.streams.flatMap((s) => s.operators.flatMap((op) => (op.kind === 'aggregate' && op.repartition ? [op.id] : []))) ?? [];

test('a group over several partitions is repartitioned unless its keys carry the fields the source is partitioned by', (t) => {
  const undeclared = partitioned('', 'stream s = many | window tumbling 1m | group by customer_id { n: count() }');
  t.deepEqual(repartitioned(undeclared), ['s/1:aggregate'], 'the source does not say how it is partitioned');
  t.deepEqual(undeclared.diagnostics.filter((d) => d.severity !== 'warning' || d.code === 'group-across-partitions'), []);
  const d = undeclared.typed!.streams[0]!.operators[0]!;
  t.is(d.kind === 'aggregate' && d.repartition?.source, 'many');

  for (const [clause, body, why] of [
    ['partitioned by customer_id', 'stream s = many | window tumbling 1m | group by customer_id { n: count() }', 'grouped by the partitioning field'],
    ['partitioned by customer_id', 'stream s = many | group by customer_id, status { n: count() }', 'a finer group stays in one partition'],
    ['partitioned by customer_id', 'stream s = many | select { buyer: customer_id, amount } | where amount > 0 | group by who: buyer { n: count() }', 'renamed on the way'],
    ['partitioned by customer.address.city', 'stream s = many | select { c: customer } | group by city: c.address.city { n: count() }', 'a nested field, through a renamed record'],
    ['partitioned by customer_id', 'stream a = many | group by customer_id { n: count() }\nstream s = a | group by customer_id { m: count() }', 'a group of groups, in another stream'],
  ]) t.deepEqual(repartitioned(partitioned(clause!, body!)), [], why);

  t.deepEqual(repartitioned(partitioned('partitioned by customer_id', 'stream s = many | group by status { n: count() }')), ['s/0:aggregate'], 'keys that do not carry customer_id');
  t.deepEqual(repartitioned(partitioned('partitioned by customer_id', 'stream s = many | select { customer_id: status, amount } | group by customer_id { n: count() }')), ['s/1:aggregate'], 'a field computed in its place');
  t.deepEqual(repartitioned(partitioned('partitioned by customer_id', 'stream s = many | group { n: count() }')), ['s/0:aggregate'], 'no keys: one partition takes every record');
  // Once repartitioned, the records are partitioned by the group's keys.
  t.deepEqual(repartitioned(partitioned('', 'stream a = many | group by status { n: count() }\nstream s = a | group by status { m: sum(n) }')), ['a/0:aggregate'], 'a group of groups by the same keys');
  t.deepEqual(repartitioned(partitioned('', 'stream a = many | group by status, customer_id { n: count() }\nstream s = a | group by customer_id { m: sum(n) }')), ['a/0:aggregate', 's/0:aggregate'], 'a coarser group of groups');
  t.deepEqual(repartitioned(program('stream s = timed | group by status { n: count() }\nsink s to stdout')), [], 'one partition: nothing to move');
  const kafka = check(`pipeline p\n${SCHEMA}\nsource k: Order from kafka { topic: "orders" } event time created_at\nstream s = k | window tumbling 1m | group by customer_id { n: count() }\nsink s to stdout`);
  t.deepEqual(repartitioned(kafka), ['s/1:aggregate'], 'a Kafka source: the server decides its partitions');
});

test('a group over records a union brought together is not repartitioned, and says so', (t) => {
  const c = check(`pipeline p\n${SCHEMA}\nsource many: Order from datagen { count: 10, partitions: 4 } event time created_at\nsource more: Order from datagen { count: 10, partitions: 4 } event time created_at\nstream s = many | union more | window tumbling 1m | ⟦group by customer_id { n: count() }⟧\nsink s to stdout`);
  const d = expectDiagnostic(t, c, 'group-across-partitions');
  t.is(d.severity, 'warning');
  t.regex(d.message, /union/);
  t.deepEqual(repartitioned(c), []);
});

test('a partitioned by field that does not exist, or cannot be a key', (t) => {
  const unknown = check(`pipeline p\n${SCHEMA}\nsource s: Order from datagen partitioned by ⟦customer_ids⟧\nstream x = s | group by id { n: count() }\nsink x to stdout`);
  t.regex(expectDiagnostic(t, unknown, 'unknown-field').hints[0]!, /customer_id/);
  const record = check(`pipeline p\n${SCHEMA}\nsource s: Order from datagen partitioned by id, ⟦customer⟧\nstream x = s | group by id { n: count() }\nsink x to stdout`);
  expectDiagnostic(t, record, 'invalid-partitioning');
});
