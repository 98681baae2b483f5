import test from 'ava';
import { typeToString } from '../../src/types/type-utils.ts';
import type { TypedStream } from '../../src/check/typed.ts';
import { applyFix, check, expectClean, expectDiagnostic, SCHEMA, stream } from './harness.ts';

const program = (body: string) => check(`pipeline p\n${SCHEMA}\n${body}`);
const fields = (s: TypedStream) => s.output.fields.map((f) => `${f.name}: ${typeToString(f.type)}`);

test('select expands *, drops, keeps nested paths and computes fields in order', (t) => {
  const c = program('stream s = orders | select { id, *, -items, -attrs, city: customer?.address?.city }\nsink s to stdout');
  expectClean(t, c);
  const f = fields(stream(c, 's'));
  t.is(f[0], 'id: string');
  t.false(f.some((x) => x.startsWith('items:') || x.startsWith('attrs:')));
  t.true(f.includes('city: string?'));
});

test('an explicit select item replaces the field * brought, in place', (t) => {
  const c = program('stream s = orders | select { *, qty: qty * 2L, extra: 1 }\nsink s to stdout');
  expectClean(t, c);
  const f = fields(stream(c, 's'));
  t.is(f[4], 'qty: long');
  t.is(f[f.length - 1], 'extra: int');
});

test('a keep path is null-safe and named after its last part', (t) => {
  const c = program('stream s = orders | select { customer.address.city, customer.home }\nsink s to stdout');
  expectClean(t, c);
  t.deepEqual(fields(stream(c, 's')), ['city: string?', 'home: record Address?']);
});

test('two select items with one name', (t) => {
  const c = program('stream s = orders | select { id, ⟦id⟧: customer_id }');
  expectDiagnostic(t, c, 'duplicate-field');
});

test('two keep paths ending in the same name suggest naming one', (t) => {
  const c = program('stream s = orders | select { customer.address.city, customer.home.⟦city⟧ }');
  const d = expectDiagnostic(t, c, 'duplicate-field');
  t.regex(d.hints[0]!, /customer_home_city: customer\.home\.city/);
});

test('dropping a field the input does not have', (t) => {
  const c = program('stream s = orders | select { *, -⟦itmes⟧ }');
  const d = expectDiagnostic(t, c, 'unknown-field');
  t.true(applyFix(c, d).includes('-items'));
});

test('select keeps field docs of copied fields', (t) => {
  const c = check('pipeline p\nschema A { x: string doc "the x" }\nsource a: A from datagen\nstream s = a | select { * }\nsink s to stdout');
  expectClean(t, c);
  t.is(stream(c, 's').output.fields[0]!.doc, 'the x');
});

test('where needs a boolean condition', (t) => {
  expectDiagnostic(t, program('stream s = orders | where ⟦qty⟧'), 'type-mismatch');
});

test('where accepts a nullable boolean', (t) => {
  expectClean(t, program('stream s = orders | where paid\nsink s to stdout'));
});

test('where x != null makes x non-null after it', (t) => {
  const c = program('stream s = orders | where note != null and customer != null | select { n: upper(note), c: customer.id }\nsink s to stdout');
  expectClean(t, c);
  const s = stream(c, 's');
  t.is(typeToString(s.operators[0]!.output.fields.find((f) => f.name === 'note')!.type), 'string');
  t.deepEqual(fields(s), ['n: string', 'c: string']);
});

test('key by sets the key type, which sinks carry', (t) => {
  const c = program('stream s = orders | key by customer?.id\nsink s to stdout');
  expectClean(t, c);
  t.is(typeToString(stream(c, 's').keyType), 'string?');
  t.is(typeToString(c.typed!.sinks[0]!.keyType), 'string?');
  t.is(typeToString(c.typed!.sources[0]!.keyType), 'null');
});

test('flat map adds the element and keeps the array', (t) => {
  const c = program('stream s = orders | flat map items as item | select { item.sku, n: size(items) }\nsink s to stdout');
  expectClean(t, c);
  const s = stream(c, 's');
  const op = s.operators[0]!;
  t.is(op.kind, 'flat-map');
  t.is(typeToString(op.output.fields.at(-1)!.type), 'record Item');
  t.deepEqual(fields(s), ['sku: string', 'n: int']);
});

test('flat map as the array name replaces the array in place', (t) => {
  const c = program('stream s = orders | flat map tags as tags\nsink s to stdout');
  expectClean(t, c);
  const f = fields(stream(c, 's'));
  t.true(f.includes('tags: string'));
  t.is(f.length, 20);
});

test('flat map over something that is not an array', (t) => {
  const d = expectDiagnostic(t, program('stream s = orders | flat map ⟦attrs⟧ as a'), 'not-an-array');
  t.regex(d.message, /map<long>/);
});

test('flat map as a name the record already has', (t) => {
  expectDiagnostic(t, program('stream s = orders | flat map items as ⟦qty⟧'), 'duplicate-field');
});

test('union of compatible streams: nullable on one side is nullable after', (t) => {
  const c = program(`
stream a = orders | select { id, note }
stream b = orders | where note != null | select { id, note }
stream u = a | union b
sink u to stdout`);
  expectClean(t, c);
  const u = stream(c, 'u');
  t.deepEqual(fields(u), ['id: string', 'note: string?']);
  t.deepEqual(u.inputs, ['a', 'b']);
  t.is(u.output.name, 'U');
});

test('union of streams whose records differ names the first differing field', (t) => {
  const c = program(`
stream a = orders | select { id, n: qty }
stream b = orders | select { id, n: total }
stream u = a | union ⟦b⟧`);
  const d = expectDiagnostic(t, c, 'incompatible-union');
  t.is(d.message, 'cannot union `b` into `u`: `n` is int in stream `a` but long in stream `b`');
  t.is(d.data?.field, 'n');
});

test('union of streams with a missing field', (t) => {
  const c = program(`
stream a = orders | select { id, qty }
stream b = orders | select { id }
stream u = a | union ⟦b⟧`);
  t.regex(expectDiagnostic(t, c, 'incompatible-union').message, /`qty` is missing/);
});

test('union of streams with different keys', (t) => {
  const c = program(`
stream a = orders | select { id } | key by id
stream b = orders | select { id }
stream u = a | union ⟦b⟧`);
  t.regex(expectDiagnostic(t, c, 'incompatible-union').message, /its key is null, here it is string/);
});

test('route targets become streams of their own', (t) => {
  const c = program(`
stream r = orders | on error skip | route {
  when status == "PAID" => paid
  when qty > 10 => big
  else => rest
}
sink paid to stdout
sink big to stdout
sink rest to stdout`);
  expectClean(t, c);
  const rest = stream(c, 'rest');
  t.deepEqual(rest.routedFrom, { stream: 'r', branch: 2 });
  t.deepEqual(stream(c, 'big').routedFrom, { stream: 'r', branch: 1 });
  t.deepEqual(rest.inputs, ['r']);
  t.is(rest.output.name, 'Rest');
  t.is(rest.errorPolicy, 'skip');
  const route = stream(c, 'r').operators[0]!;
  t.true(route.kind === 'route' && route.otherwise === 'rest' && route.branches.length === 2);
  const names = c.typed!.streams.map((s) => s.name);
  t.true(names.indexOf('r') < names.indexOf('paid'));
});

test('route conditions must be boolean', (t) => {
  expectDiagnostic(t, program('stream r = orders | route { when ⟦qty⟧ => a }\nsink a to stdout'), 'type-mismatch');
});

test('an operator after route', (t) => {
  const c = program('stream r = orders | route { when qty > 1 => a } | ⟦where qty > 2⟧\nsink a to stdout');
  expectDiagnostic(t, c, 'operator-after-route');
});

test('a stream that ends in route has no records of its own: reading it is an error, wherever', (t) => {
  const route = 'stream r = orders | route { when qty > 1 => big else => small }\nsink big to stdout\nsink small to stdout\n';
  const readers = [
    'sink ⟦r⟧ to stdout',
    'stream s = ⟦r⟧ | where qty > 2\nsink s to stdout',
    'stream s = ⟦r⟧\nsink s to stdout',
    'stream s = big | union ⟦r⟧\nsink s to stdout',
  ];
  for (const reader of readers) {
    const c = program(`${route}${reader}`);
    t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['read-route-stream'], reader);
    const d = expectDiagnostic(t, c, 'read-route-stream');
    t.is(d.message, 'stream `r` ends in `route`, which sends its records to `big`, `small`; it has none of its own');
    t.is(d.hints[0], 'read a target instead: big');
  }
  expectClean(t, program(route));
});

test('on error sets the policy; dead_letter is the default', (t) => {
  const c = program('stream a = orders | on error fail | where qty > 1\nstream b = orders\nsink a to stdout\nsink b to stdout');
  expectClean(t, c);
  t.is(stream(c, 'a').errorPolicy, 'fail');
  t.is(stream(c, 'b').errorPolicy, 'dead_letter');
  t.is(stream(c, 'a').operators.length, 1, 'on error is not an operator of its own');
});

test('an unknown error policy gets a suggestion', (t) => {
  const c = program('stream a = orders | on error ⟦skipp⟧');
  const d = expectDiagnostic(t, c, 'invalid-policy');
  t.true(applyFix(c, d).includes('on error skip'));
});

test('two on error policies in one stream', (t) => {
  expectDiagnostic(t, program('stream a = orders | on error skip | ⟦on error fail⟧'), 'invalid-policy');
});

test('dedupe keeps the record type and converts the window to milliseconds', (t) => {
  const c = program('stream d = orders | dedupe by id within 10m\nsink d to stdout');
  expectClean(t, c);
  const op = stream(c, 'd').operators[0]!;
  t.true(op.kind === 'dedupe' && op.withinMillis === 600_000);
  t.is(stream(c, 'd').output.fields.length, 20);
});

test('operator ids, record names and sink ids are stable', (t) => {
  const c = program('stream paid_orders = orders | on error skip | where qty > 1 | select { id }\nsink paid_orders to stdout\nsink paid_orders to stdout { format: table }');
  expectClean(t, c);
  const s = stream(c, 'paid_orders');
  t.deepEqual(s.operators.map((o) => o.id), ['paid_orders/1:where', 'paid_orders/2:select']);
  t.true(s.operators.every((o) => o.output.name === 'PaidOrders'));
  t.deepEqual(c.typed!.sinks.map((x) => x.id), ['sink:paid_orders:0', 'sink:paid_orders:1']);
  t.deepEqual(c.typed!.sinks.map((x) => x.options.format), ['json', 'table']);
});

test('a stream reading a stream that failed stays silent', (t) => {
  const c = program('stream a = orders | where ⟦amout⟧ > 0\nstream b = a | select { id }');
  t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), ['unknown-field']);
  t.is(c.typed, undefined);
});

test('the typed program carries declared schemas, the pipeline name and sources', (t) => {
  const c = program('stream s = orders\nsink s to stdout');
  expectClean(t, c);
  t.is(c.typed!.pipeline, 'p');
  t.deepEqual(Object.keys(c.typed!.schemas).sort(), ['Customer', 'Order']);
  t.is(c.typed!.sources[0]!.schema.name, 'Order');
  t.deepEqual(c.typed!.sources[0]!.options, { count: 10, partitions: 1 });
});

test('a select field name that is not an Avro name is rejected', (t) => {
  const c = program('stream s = orders | select { id, ⟦`total-amount`⟧: qty * 2 }');
  expectDiagnostic(t, c, 'invalid-schema');
});

test('a flat map element name that is not an Avro name is rejected', (t) => {
  const c = program('stream s = orders | flat map items as ⟦`an item`⟧');
  expectDiagnostic(t, c, 'invalid-schema');
});

/** The dedupes the checker repartitions by their keys. */
const repartitioned = (c: ReturnType<typeof program>) => c.typed?.streams.flatMap((s) => s.operators.flatMap((op) => (op.kind === 'dedupe' && op.repartition ? [op.id] : []))) ?? [];

test('a dedupe over a source with several partitions repartitions by its key, unless the source is partitioned by it', (t) => {
  const many = 'source many: Order from datagen { count: 10, partitions: 4 }\n';
  t.deepEqual(repartitioned(program(`${many}stream s = many | dedupe by customer_id within 1m\nsink s to stdout`)), ['s/0:dedupe']);
  t.deepEqual(repartitioned(program(`${many}stream s = many | key by customer_id | dedupe by customer_id within 1m\nsink s to stdout`)), ['s/1:dedupe'], '`key by` moves nothing');
  t.deepEqual(repartitioned(program('source topic: Order from kafka { topic: "t" }\nstream s = topic | dedupe by id within 1m\nsink s to stdout')), ['s/0:dedupe'], 'Kafka');
  const inPlace = [
    ['one partition', 'stream s = orders | dedupe by customer_id within 1m\nsink s to stdout'],
    ['declared', 'source keyed: Order from datagen { count: 10, partitions: 4 } partitioned by customer_id\nstream s = keyed | dedupe by customer_id within 1m\nsink s to stdout'],
    ['spread by its `key` option', 'source keyed: Order from datagen { count: 10, partitions: 4, key: "customer_id" }\nstream s = keyed | dedupe by customer_id within 1m\nsink s to stdout'],
    ['after a group by the same key', `${many}stream g = many | group by customer_id { n: count() }\nstream s = g | dedupe by customer_id within 1m\nsink s to stdout`],
  ];
  for (const [why, text] of inPlace) t.deepEqual(repartitioned(program(text!)), [], why);
});

test('a dedupe over records a union brought together warns that repeats across partitions are kept', (t) => {
  const many = 'source many: Order from datagen { count: 10, partitions: 4 }\nsource more: Order from datagen { count: 10, partitions: 4 }\n';
  const d = expectDiagnostic(t, program(`${many}stream s = many | union more | ⟦dedupe by customer_id within 1m⟧\nsink s to stdout`), 'dedupe-across-partitions');
  t.is(d.severity, 'warning');
  t.regex(d.message, /records that a `union` brought together \(from source `many` and others\) are not repartitioned/);
});
