import test from 'ava';
import { avscToType, defaultError, namedTypesOf } from '../../src/types/from-avsc.ts';
import { typeToString } from '../../src/types/type-utils.ts';
import type { AvroType } from '../../src/types/avro-type.ts';

const str = (json: unknown) => typeToString(avscToType(json));

test('primitives and their object form', (t) => {
  t.is(str('long'), 'long');
  t.is(str({ type: 'string' }), 'string');
  t.is(str(['null', 'int']), 'int?');
  t.is(str(['int', 'string']), 'union<int, string>');
});

test('logical types', (t) => {
  t.is(str({ type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 }), 'decimal(12,2)');
  t.is(str({ type: 'bytes', logicalType: 'decimal', precision: 5 }), 'decimal(5,0)');
  t.is(str({ type: 'fixed', name: 'D', size: 8, logicalType: 'decimal', precision: 18, scale: 4 }), 'decimal(18,4)');
  t.is(str({ type: 'string', logicalType: 'uuid' }), 'uuid');
  t.is(str({ type: 'int', logicalType: 'date' }), 'date');
  t.is(str({ type: 'int', logicalType: 'time-millis' }), 'time_millis');
  t.is(str({ type: 'long', logicalType: 'time-micros' }), 'time_micros');
  t.is(str({ type: 'long', logicalType: 'timestamp-millis' }), 'timestamp_millis');
  t.is(str({ type: 'long', logicalType: 'timestamp-micros' }), 'timestamp_micros');
});

test('logical types on the wrong type, and unknown ones, are ignored as the spec says', (t) => {
  t.is(str({ type: 'string', logicalType: 'date' }), 'string');
  t.is(str({ type: 'long', logicalType: 'local-timestamp-millis' }), 'long');
  t.is(str({ type: 'int', logicalType: 'decimal', precision: 3 }), 'int');
});

test('invalid decimals are errors', (t) => {
  t.throws(() => avscToType({ type: 'bytes', logicalType: 'decimal', precision: 0 }), { message: /precision" must be a positive integer/ });
  t.throws(() => avscToType({ type: 'bytes', logicalType: 'decimal', precision: 4, scale: 5 }), { message: /"scale" must be an integer from 0 to the precision \(4\)/ });
  t.throws(() => avscToType({ type: 'fixed', name: 'D', size: 2, logicalType: 'decimal', precision: 5 }), { message: /holds at most 4 decimal digits/ });
});

test('records with namespaces, docs and references to named types', (t) => {
  const t1 = avscToType({
    type: 'record', name: 'Order', namespace: 'com.acme', doc: 'An order', fields: [
      { name: 'a', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string', doc: 'the city' }] } },
      { name: 'b', type: 'Address' },
      { name: 'c', type: 'com.acme.Address' },
      { name: 'kind', type: { type: 'enum', name: 'x.Kind', symbols: ['A', 'B'], default: 'A' } },
      { name: 'k2', type: 'x.Kind' },
    ],
  });
  if (t1.kind !== 'record') return t.fail();
  t.is(t1.doc, 'An order');
  t.is(t1.namespace, 'com.acme');
  const [a, b, c, kind, k2] = t1.fields.map((f) => f.type);
  t.is(a, b);
  t.is(a, c);
  t.is(kind, k2);
  t.like(a as object, { name: 'Address', namespace: 'com.acme' });
  t.like(kind as object, { name: 'Kind', namespace: 'x', default: 'A' });
  t.is((a as { fields: { doc?: string }[] }).fields[0]!.doc, 'the city');
  t.deepEqual([...namedTypesOf(t1).keys()], ['com.acme.Order', 'com.acme.Address', 'x.Kind']);
});

test('known named types from elsewhere can be referenced', (t) => {
  const addr = avscToType({ type: 'record', name: 'Address', fields: [] }) as AvroType & { kind: 'record' };
  const t1 = avscToType({ type: 'array', items: 'Address' }, new Map([['Address', addr]]));
  t.is(typeToString(t1), 'array<record Address>');
});

test('precise errors', (t) => {
  t.throws(() => avscToType({ type: 'record', name: 'R', fields: [{ name: 'x', type: 'strng' }] }), { message: 'R.x: unknown type "strng" (not a primitive type either)' });
  t.throws(() => avscToType({ type: 'record', name: 'R' }), { message: /\$ \(record R\): a record needs a "fields" array/ });
  t.throws(() => avscToType({ type: 'record', name: 'R', fields: [{ name: 'x', type: 'int' }, { name: 'x', type: 'int' }] }), { message: /field "x" is declared twice/ });
  t.throws(() => avscToType({ type: 'record', name: '1R', fields: [] }), { message: /"1R" is not a valid Avro name/ });
  t.throws(() => avscToType({ type: 'enum', name: 'E', symbols: ['A', 'A'] }), { message: /symbol A appears twice/ });
  t.throws(() => avscToType({ type: 'enum', name: 'E', symbols: ['A'], default: 'B' }), { message: /default "B" is not one of its symbols/ });
  t.throws(() => avscToType(['int', 'long', 'int']), { message: /\$\[2\]: the union has two branches of type int/ });
  t.throws(() => avscToType(['null', ['int']]), { message: /may not directly contain another union/ });
  t.throws(() => avscToType({ type: 'array' }), { message: /needs "items"/ });
  t.throws(() => avscToType(42), { message: /expected a type name/ });
  t.throws(() => avscToType([{ type: 'fixed', name: 'F', size: 1 }, { type: 'fixed', name: 'F', size: 2 }]), { message: /type F is defined twice/ });
});

test('a union may hold several named types of one kind', (t) => {
  t.is(str([{ type: 'record', name: 'A', fields: [] }, { type: 'record', name: 'B', fields: [] }]), 'union<record A, record B>');
  t.throws(() => avscToType(['string', { type: 'string', logicalType: 'uuid' }]), { message: /two branches of type string/ });
});

test('recursive types are rejected', (t) => {
  t.throws(() => avscToType({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] }), { message: /recursive type Node is not supported/ });
});

test('field defaults are validated and kept as written', (t) => {
  const r = avscToType({
    type: 'record', name: 'R', fields: [
      { name: 'a', type: ['null', 'string'], default: null },
      { name: 'b', type: { type: 'fixed', name: 'F', size: 2 }, default: '\u00ff\u0000' },
      { name: 'c', type: { type: 'map', values: 'int' }, default: { x: 1 } },
    ],
  });
  t.deepEqual((r as { fields: { default?: unknown }[] }).fields.map((f) => f.default), [null, '\u00ff\u0000', { x: 1 }]);
  t.throws(() => avscToType({ type: 'record', name: 'R', fields: [{ name: 'a', type: ['null', 'string'], default: 'x' }] }), {
    message: 'R.a: invalid default "x": a union\'s default must match its first branch (null)',
  });
  t.throws(() => avscToType({ type: 'record', name: 'R', fields: [{ name: 'n', type: 'int', default: 2 ** 31 }] }), { message: /a 32-bit integer/ });
});

test('defaultError checks nested values', (t) => {
  const rec = avscToType({ type: 'record', name: 'P', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: 'int', default: 0 }] });
  t.is(defaultError({ x: 1 }, rec), undefined);
  t.is(defaultError({}, rec), 'field "x" is missing');
  t.is(defaultError([1, 'a'], { kind: 'array', items: { kind: 'int' } }), 'item 1: expected int (a 32-bit integer)');
  t.is(defaultError('\u0100', { kind: 'bytes' }), 'expected bytes (a string of code points 0-255)');
});
