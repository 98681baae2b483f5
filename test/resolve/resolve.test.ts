import test from 'ava';
import { MISSING_FILE, resolvePath } from '../../src/resolve/resolve.ts';
import { applyFix, check, expectClean, expectDiagnostic, summary } from '../check/harness.ts';
import { typeToString } from '../../src/types/type-utils.ts';

const ORDER_AVSC = JSON.stringify({
  type: 'record', name: 'Order', namespace: 'com.acme', fields: [
    { name: 'id', type: 'string' },
    { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] } },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
  ],
});

test('paths resolve relative to the importing file', (t) => {
  t.is(resolvePath('pipelines/main.sensei', '../schemas/a.avsc'), 'schemas/a.avsc');
  t.is(resolvePath('main.sensei', './lib/x.sensei'), 'lib/x.sensei');
  t.is(resolvePath('a/b.sensei', '/abs/c.sensei'), '/abs/c.sensei');
});

test('files the caller has not supplied are needs, all at once', (t) => {
  const c = check('pipeline p\nimport "lib/shared.sensei"\nschema O = avro "schemas/o.avsc"\nschema P = avro "schemas/p.avsc"', {}, 'app/main.sensei');
  t.deepEqual(c.needs.sort(), ['app/lib/shared.sensei', 'app/schemas/o.avsc', 'app/schemas/p.avsc']);
  t.is(c.resolved, undefined);
  t.deepEqual(c.diagnostics, []);
});

test('imports of imports are needed once their importer is supplied', (t) => {
  const c = check('pipeline p\nimport "a.sensei"', { 'a.sensei': 'import "b.sensei"' });
  t.deepEqual(c.needs, ['b.sensei']);
});

test('a missing import and a missing .avsc are reported when the caller says they do not exist', (t) => {
  const c = check('pipeline p\nimport ⟦"nope.sensei"⟧\nschema O = avro ⟦"o.avsc"⟧', { 'nope.sensei': MISSING_FILE, 'o.avsc': MISSING_FILE });
  expectDiagnostic(t, c, 'import-not-found', 0);
  expectDiagnostic(t, c, 'avsc-not-found', 1);
  t.deepEqual(c.needs, []);
  t.false(c.resolved!.complete);
});

test('an import cycle', (t) => {
  const c = check('pipeline p\nimport "a.sensei"', { 'a.sensei': 'import "b.sensei"', 'b.sensei': 'import "a.sensei"\nimport "main.sensei"' });
  const cycles = c.diagnostics.filter((d) => d.code === 'import-cycle').map((d) => d.message);
  t.deepEqual(cycles, ['import cycle: a.sensei → b.sensei → a.sensei', 'import cycle: main.sensei → a.sensei → b.sensei → main.sensei']);
});

test('a diamond of imports is not a cycle, and each file loads once', (t) => {
  const c = check('pipeline p\nimport "a.sensei"\nimport "b.sensei"\nsource s: S from datagen\nsink s to stdout', {
    'a.sensei': 'import "c.sensei"', 'b.sensei': 'import "c.sensei"', 'c.sensei': 'schema S { x: int }',
  });
  expectClean(t, c);
  t.deepEqual(c.resolved!.files, ['main.sensei', 'a.sensei', 'c.sensei', 'b.sensei']);
});

test('imports bring schemas, sources and streams; imported ones join only when read', (t) => {
  const c = check('pipeline p\nimport "shared.sensei"\nstream mine = big | select { id }\nsink mine to stdout', {
    'shared.sensei': 'schema S { id: string, n: int }\nsource all: S from datagen\nsource other: S from datagen\nstream big = all | where n > 10',
  });
  expectClean(t, c);
  t.deepEqual(c.typed!.sources.map((s) => s.name), ['all']);
  t.deepEqual(c.typed!.streams.map((s) => s.name), ['big', 'mine']);
});

test('sinks in an imported file have no effect, and say so', (t) => {
  const c = check('pipeline p\nimport "shared.sensei"\nsink s to stdout', {
    'shared.sensei': 'schema S { id: string }\nsource s: S from datagen\nsink s to stdout',
  });
  const d = c.diagnostics.find((x) => x.code === 'ignored-declaration');
  t.is(d?.span.file, 'shared.sensei');
  t.is(c.typed!.sinks.length, 1);
});

test('duplicate names across files point at the first declaration', (t) => {
  const c = check('pipeline p\nimport "shared.sensei"\nschema S { id: string }\nsource a: S from datagen\nsink a to stdout', {
    'shared.sensei': 'schema S { id: string }',
  });
  const d = c.diagnostics.find((x) => x.code === 'duplicate-name')!;
  t.is(d.span.file, 'shared.sensei');
  t.deepEqual(d.hints, ['the first declaration is at main.sensei:3:8']);
});

test('duplicate streams, and a route target clashing with a stream', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource a: S from datagen\nstream b = a\nstream ⟦b⟧ = a\nstream r = a | route { when id == "x" => ⟦b⟧ }');
  expectDiagnostic(t, c, 'duplicate-name', 0);
  expectDiagnostic(t, c, 'duplicate-name', 1);
});

test('an unknown stream gets a suggestion and a fix', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource orders: S from datagen\nstream b = ⟦ordres⟧\nsink b to stdout');
  const d = expectDiagnostic(t, c, 'unknown-name');
  t.deepEqual(d.hints, ['did you mean `orders`?']);
  t.true(applyFix(c, d).includes('stream b = orders'));
  t.is(c.typed, undefined);
});

test('an unknown name in a sink and in a union', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource a: S from datagen\nstream u = a | union ⟦bb⟧\nsink ⟦uu⟧ to stdout');
  expectDiagnostic(t, c, 'unknown-name', 0);
  expectDiagnostic(t, c, 'unknown-name', 1);
});

test('an unknown schema gets a suggestion', (t) => {
  const c = check('pipeline p\nschema Order { id: string }\nsource a: ⟦Ordr⟧ from datagen');
  t.deepEqual(expectDiagnostic(t, c, 'unknown-schema').hints, ['did you mean `Order`?']);
});

test('streams that depend on each other in a cycle', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource s: S from datagen\nstream ⟦a⟧ = b\nstream b = a | union s');
  const d = expectDiagnostic(t, c, 'cyclic-stream');
  t.is(d.message, 'stream `a` depends on itself: a → b → a');
});

test('streams are ordered by dependency, whatever the declaration order', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nstream c = b\nstream b = a\nstream a = s\nsource s: S from datagen\nsink c to stdout');
  expectClean(t, c);
  t.deepEqual(c.resolved!.streams.map((s) => s.name), ['a', 'b', 'c']);
});

test('schemas may refer to schemas and nested types declared later', (t) => {
  const c = check('pipeline p\nschema A { b: B, t: Tier }\nschema B { tier: enum Tier { X, Y } }\nsource a: A from datagen\nsink a to stdout');
  expectClean(t, c);
  const a = c.resolved!.schemas.find((s) => s.name === 'A')!.type;
  t.true(a.kind === 'record' && typeToString(a.fields[1]!.type) === 'enum Tier');
});

test('a schema that contains itself', (t) => {
  const c = check('pipeline p\nschema Node { next: ⟦Node⟧? }');
  t.regex(expectDiagnostic(t, c, 'invalid-schema').message, /recursive/);
});

test('.avsc schemas load through the caller, with their named types', (t) => {
  const c = check('pipeline p\nschema Order = avro "schemas/order.avsc"\nschema Shipment { to: Address }\nsource o: Order from datagen\nsink o to stdout', {
    'schemas/order.avsc': ORDER_AVSC,
  });
  expectClean(t, c);
  const order = c.typed!.schemas.Order!;
  t.true(order.kind === 'record' && order.namespace === 'com.acme' && typeToString(order.fields[2]!.type) === 'decimal(10,2)');
  const shipment = c.typed!.schemas.Shipment!;
  t.true(shipment.kind === 'record' && shipment.fields[0]!.type === (order as { fields: { type: unknown }[] }).fields[1]!.type);
});

test('an invalid .avsc file', (t) => {
  const c = check('pipeline p\nschema O = avro ⟦"o.avsc"⟧\nschema Q = avro ⟦"q.avsc"⟧', {
    'o.avsc': '{"type": "record", "name": "O", "fields": [{"name": "x", "type": "strin"}]}',
    'q.avsc': '{ not json',
  });
  t.regex(expectDiagnostic(t, c, 'invalid-avsc', 0).message, /^o\.avsc: O\.x: unknown type "strin"/);
  t.regex(expectDiagnostic(t, c, 'invalid-avsc', 1).message, /^q\.avsc: /);
});

test('a source schema must be a record', (t) => {
  expectDiagnostic(t, check('pipeline p\nsource a: ⟦string⟧ from datagen'), 'type-mismatch');
});

test('inline schema checks: duplicate fields, decimal bounds, enum symbols, names', (t) => {
  const c = check('pipeline p\nschema A { x: int, ⟦x⟧: long, d: ⟦decimal(3, 4)⟧, e: enum E { A, ⟦A⟧ } }');
  expectDiagnostic(t, c, 'duplicate-field', 0);
  expectDiagnostic(t, c, 'invalid-schema', 1);
  expectDiagnostic(t, c, 'invalid-schema', 2);
});

test('two different nested types with one name', (t) => {
  const c = check('pipeline p\nschema A { t: enum Tier { X } }\nschema B { t: enum ⟦Tier⟧ { Y } }');
  expectDiagnostic(t, c, 'duplicate-name');
});

test('defaults are checked against their field type and kept in Avro JSON encoding', (t) => {
  const c = check(`pipeline p
schema A {
  tier: enum Tier { GOLD, SILVER } = "SILVER"
  n: long = 5
  price: decimal(6, 2) = -12.5d
  at: timestamp_micros = timestamp "2024-01-01T00:00:00.000001Z"
  country: string? = "DE"
  tags: array<string> = ["a"]
  raw: bytes = bytes "ff00"
  none: string? = null
}`);
  expectClean(t, c);
  const a = c.resolved!.schemas[0]!.type;
  if (a.kind !== 'record') return t.fail();
  const d = Object.fromEntries(a.fields.map((f) => [f.name, f.default]));
  t.deepEqual(d, { tier: 'SILVER', n: 5, price: '\xfb\x1e', at: Date.UTC(2024, 0, 1) * 1000 + 1, country: 'DE', tags: ['a'], raw: '\xff\x00', none: null });
  t.is(typeToString(a.fields[4]!.type), 'string?');
  t.true(a.fields[4]!.type.kind === 'union' && a.fields[4]!.type.branches[0]!.kind === 'string', 'the default branch comes first');
});

test('invalid defaults', (t) => {
  const c = check('pipeline p\nschema A { t: enum T { X } = ⟦"Y"⟧, n: int = ⟦"1"⟧, p: decimal(4, 1) = ⟦1.25d⟧, s: string = ⟦null⟧ }');
  for (let i = 0; i < 4; i++) expectDiagnostic(t, c, 'invalid-default', i);
});

test('symbols and references link names to declarations', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource src: S from datagen\nstream a = src\nsink a to stdout');
  const r = c.resolved!;
  t.deepEqual(r.symbols.map((s) => `${s.kind} ${s.name}`), ['schema S', 'source src', 'stream a']);
  t.deepEqual(r.references.map((x) => `${c.text.slice(x.span.start.offset, x.span.end.offset)} → ${x.symbol.kind}`), ['S → schema', 'src → source', 'a → stream']);
  t.is(r.symbols.find((s) => s.name === 'src')!.type?.kind, 'record');
});

test('a file without a pipeline name is named after the file', (t) => {
  const c = check('schema S { id: string }\nsource s: S from datagen\nsink s to stdout', {}, 'dir/orders.sensei');
  t.is(c.resolved!.pipeline, 'orders');
  t.true(c.diagnostics.some((d) => d.code === 'missing-pipeline' && d.severity === 'warning'));
  t.truthy(c.typed);
});

test('sources and streams nothing reads are warned about; route owners count as read', (t) => {
  const c = check('pipeline p\nschema S { id: string }\nsource ⟦s⟧: S from datagen\nsource t: S from datagen\nstream r = t | route { when id == "a" => ⟦a⟧ else => b }\nsink b to stdout');
  expectDiagnostic(t, c, 'unused-stream', 0);
  expectDiagnostic(t, c, 'unused-stream', 1);
  t.is(summary(c).filter((x) => x.startsWith('unused-stream')).length, 2);
});
