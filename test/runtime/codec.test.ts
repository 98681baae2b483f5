import test from 'ava';
import { avroType, decodeRecords, RecordEncoder } from '../../src/formats/avro-codec.ts';
import { unscaledAt } from '../../src/plan/decimal.ts';
import { fromJson, jsonLineEncoder, textLineEncoder, toJson } from '../../src/formats/json-codec.ts';
import { schemaNode } from '../../src/formats/schema.ts';

const SCHEMA = {
  type: 'record',
  name: 'R',
  namespace: 'shop',
  fields: [
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'big', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 30, scale: 4 }] },
    { name: 'fixed_price', type: { type: 'fixed', name: 'F8', size: 8, logicalType: 'decimal', precision: 12, scale: 3 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'at_us', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'tod', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'raw', type: 'bytes' },
    { name: 'tags', type: { type: 'map', values: { type: 'long', logicalType: 'timestamp-millis' } } },
    { name: 'next', type: ['null', 'R'], default: null },
  ],
};

const value = {
  price: 12.34, big: -12345678901.2345, fixed_price: -1.5, at: Date.UTC(2024, 4, 1, 10), at_us: Date.UTC(2024, 4, 1, 10) * 1000 + 123,
  day: 19844, tod: 36_000_123, raw: Buffer.from('cafe', 'hex'), tags: { a: 0 }, next: null,
};

test('decimals, timestamps and dates keep their runtime representation through Avro binary', (t) => {
  const type = avroType(SCHEMA);
  const enc = new RecordEncoder();
  const values = [value, { ...value, price: 0, big: null, next: { ...value, price: -0.01 } }];
  const r = enc.encode(type, values);
  t.deepEqual(JSON.parse(JSON.stringify(decodeRecords(type, enc.bytes(r.bytes), r.ends))), JSON.parse(JSON.stringify(values)));
});

test('a decimal that does not fit its precision is an encoding error, reported per record', (t) => {
  const type = avroType(SCHEMA);
  const failed: number[] = [];
  const r = new RecordEncoder().encode(type, [value, { ...value, price: 1e11 }, value], (i) => failed.push(i));
  t.deepEqual(failed, [1]);
  t.is(r.count, 2);
});

test('unscaled decimals come from the shortest decimal form of the double', (t) => {
  t.is(unscaledAt(0.1 + 0.2, 2), 30n);
  t.is(unscaledAt(1.005, 2), 101n);
  t.is(unscaledAt(-2.5, 0), -3n);
  t.is(unscaledAt(1e21, 2), 100000000000000000000000n);
});

test('JSON form: ISO timestamps and dates, hex bytes, plain nullable values; and back', (t) => {
  const node = schemaNode(SCHEMA);
  const json = toJson(node, value) as Record<string, unknown>;
  t.like(json, { price: 12.34, at: '2024-05-01T10:00:00.000Z', at_us: '2024-05-01T10:00:00.000123Z', day: '2024-05-01', tod: '10:00:00.123', raw: 'cafe', tags: { a: '1970-01-01T00:00:00.000Z' }, next: null });
  t.deepEqual(fromJson(node, json), value);
  t.is(jsonLineEncoder(node)(value), JSON.stringify(json));
});

test('fromJson fills defaults and nulls, and says where a value is wrong', (t) => {
  const node = schemaNode({ type: 'record', name: 'X', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: ['null', 'string'] }, { name: 'c', type: 'string', default: 'EUR' }, { name: 'items', type: { type: 'array', items: { type: 'record', name: 'I', fields: [{ name: 'q', type: 'int' }] } } }] });
  t.deepEqual(fromJson(node, { a: 1, items: [] }), { a: 1, b: null, c: 'EUR', items: [] });
  t.throws(() => fromJson(node, { a: 1, items: [{ q: 'x' }] }), { message: 'items[0].q: expected an int (−2^31 … 2^31−1), got "x"' });
  t.throws(() => fromJson(node, { a: 1, items: [], zzz: 1 }), { message: /unknown field zzz/ });
  t.notThrows(() => fromJson(node, { a: 1, items: [], zzz: 1 }, { strict: false }));
  t.throws(() => fromJson(node, { items: [] }), { message: 'a: missing field' });
});

test('ambiguous unions are wrapped, as avsc represents them', (t) => {
  const schema = { type: 'record', name: 'U', fields: [{ name: 'n', type: ['null', 'int', 'long'] }] };
  const node = schemaNode(schema);
  const v = fromJson(node, { n: 5 });
  t.deepEqual(v, { n: { int: 5 } });
  t.notThrows(() => avroType(schema).toBuffer(v));
  t.deepEqual(toJson(node, v), { n: { int: 5 } });
});

test('text lines: name=value pairs, strings quoted only when needed', (t) => {
  const node = schemaNode({ type: 'record', name: 'T', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }, { name: 'c', type: ['null', 'double'] }] });
  t.is(textLineEncoder(node)({ a: 'DE', b: 'two words', c: null }), 'a=DE b="two words" c=null');
});

test('a batch larger than the scratch buffer keeps every record intact when the buffer grows', (t) => {
  const type = avroType({ type: 'record', name: 'Row', fields: [{ name: 'id', type: 'long' }, { name: 'text', type: 'string' }] });
  const values = Array.from({ length: 5000 }, (_, i) => ({ id: i, text: `row ${i} `.repeat(8) }));
  const enc = new RecordEncoder();
  const r = enc.encode(type, values);
  t.true(r.bytes > 64 * 1024, 'the batch outgrows the initial scratch buffer');
  t.deepEqual(decodeRecords(type, enc.bytes(r.bytes), r.ends).map((row) => ({ ...(row as object) })), values);
});
