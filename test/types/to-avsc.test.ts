import test from 'ava';
import avro from 'avsc';
import type { AvroType, RecordType } from '../../src/types/avro-type.ts';
import { typeToAvsc } from '../../src/types/to-avsc.ts';

const parse = (t: AvroType) => avro.Type.forSchema(typeToAvsc(t) as avro.Schema);

const nullable = (t: AvroType): AvroType => ({ kind: 'union', branches: [{ kind: 'null' }, t] });

test('primitives map to themselves', (t) => {
  for (const kind of ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'] as const) {
    t.is(typeToAvsc({ kind }), kind);
  }
});

test('logical types are annotated on their base type', (t) => {
  t.deepEqual(typeToAvsc({ kind: 'decimal', precision: 12, scale: 2 }), { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 });
  t.deepEqual(typeToAvsc({ kind: 'timestamp-millis' }), { type: 'long', logicalType: 'timestamp-millis' });
  t.deepEqual(typeToAvsc({ kind: 'timestamp-micros' }), { type: 'long', logicalType: 'timestamp-micros' });
  t.deepEqual(typeToAvsc({ kind: 'time-millis' }), { type: 'int', logicalType: 'time-millis' });
  t.deepEqual(typeToAvsc({ kind: 'time-micros' }), { type: 'long', logicalType: 'time-micros' });
  t.deepEqual(typeToAvsc({ kind: 'date' }), { type: 'int', logicalType: 'date' });
  t.deepEqual(typeToAvsc({ kind: 'uuid' }), { type: 'string', logicalType: 'uuid' });
});

test('nullable is a union with null first', (t) => {
  t.deepEqual(typeToAvsc(nullable({ kind: 'string' })), ['null', 'string']);
});

const address: RecordType = {
  kind: 'record', name: 'Address', fields: [
    { name: 'city', type: { kind: 'string' } },
    { name: 'zip', type: nullable({ kind: 'string' }), default: null },
  ],
};

const customer: RecordType = {
  kind: 'record', name: 'Customer', namespace: 'shop', doc: 'A customer', fields: [
    { name: 'id', type: { kind: 'string' }, doc: 'customer id' },
    { name: 'tier', type: { kind: 'enum', name: 'Tier', symbols: ['GOLD', 'SILVER'] }, default: 'GOLD' },
    { name: 'prev_tier', type: nullable({ kind: 'enum', name: 'Tier', symbols: ['GOLD', 'SILVER'] }) },
    { name: 'home', type: address },
    { name: 'work', type: nullable(address) },
    { name: 'hash', type: { kind: 'fixed', name: 'Md5', size: 16 } },
    { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 }, default: -12.5 },
    { name: 'tags', type: { kind: 'array', items: { kind: 'string' } }, default: [] },
    { name: 'attrs', type: { kind: 'map', values: { kind: 'long' } } },
    { name: 'country', type: nullable({ kind: 'string' }), default: 'DE' },
    { name: 'raw', type: { kind: 'bytes' }, default: Buffer.from([0xca, 0xfe]) },
  ],
};

test('a record with named types round-trips through avsc', (t) => {
  const type = parse(customer);
  t.is(type.name, 'shop.Customer');
  const value = {
    id: 'c1', tier: 'GOLD', prev_tier: null, home: { city: 'Berlin', zip: null }, work: { city: 'Paris', zip: '75001' },
    hash: Buffer.alloc(16), amount: Buffer.from([0x04, 0xe2]), tags: ['a'], attrs: { x: 1 }, country: 'FR', raw: Buffer.from('x'),
  };
  t.true(type.isValid(type.fromBuffer(type.toBuffer(value)) as object));
});

test('named types are defined once and then referenced by full name', (t) => {
  const json = typeToAvsc(customer) as { fields: { name: string; type: unknown }[] };
  const field = (n: string) => json.fields.find((f) => f.name === n)!.type;
  t.like(field('tier') as object, { type: 'enum', name: 'Tier' });
  t.deepEqual(field('prev_tier'), ['null', 'shop.Tier']);
  // Address has no namespace, so it lives in the enclosing one.
  t.like(field('home') as object, { type: 'record', name: 'Address' });
  t.deepEqual(field('work'), ['null', 'shop.Address']);
});

test('defaults are encoded as Avro expects', (t) => {
  const json = typeToAvsc(customer) as { fields: { name: string; type: unknown; default?: unknown }[] };
  const field = (n: string) => json.fields.find((f) => f.name === n)!;
  t.deepEqual(field('country').type, ['string', 'null']);
  t.is(field('country').default, 'DE');
  t.is(field('raw').default, '\u00ca\u00fe');
  // -1250 as two's complement: 0xfb 0x1e
  t.is(field('amount').default, '\u00fb\u001e');
  // avsc rejects a schema whose defaults do not match their types.
  t.notThrows(() => parse(customer));
});

test('invalid names are made valid and clashing names numbered', (t) => {
  const inner = (name: string, kind: 'int' | 'string'): RecordType => ({ kind: 'record', name, fields: [{ name: 'x', type: { kind } }] });
  const outer: RecordType = {
    kind: 'record', name: 'my stream"*/', fields: [
      { name: 'a', type: inner('in-ner', 'int') },
      { name: 'b', type: inner('in ner', 'string') },
      { name: 'c', type: inner('in-ner', 'int') },
      { name: 'd', type: { kind: 'enum', name: '9lives', symbols: ['A'] } },
    ],
  };
  const json = typeToAvsc(outer) as { name: string; fields: { type: unknown }[] };
  t.is(json.name, 'my_stream___');
  t.like(json.fields[0]!.type as object, { name: 'in_ner' });
  t.like(json.fields[1]!.type as object, { name: 'in_ner_2' });
  t.is(json.fields[2]!.type, 'in_ner');
  t.like(json.fields[3]!.type as object, { name: '_9lives' });
  t.notThrows(() => avro.Type.forSchema(json as avro.Schema));
});

test('a type in the null namespace is defined again where its name cannot reach it', (t) => {
  const plain: RecordType = { kind: 'record', name: 'P', namespace: '', fields: [{ name: 'x', type: { kind: 'int' } }] };
  const outer: RecordType = { kind: 'record', name: 'O', namespace: 'ns', fields: [{ name: 'a', type: plain }, { name: 'b', type: plain }] };
  const json = typeToAvsc(outer) as { fields: { type: unknown }[] };
  t.like(json.fields[0]!.type as object, { name: 'P', namespace: '' });
  t.like(json.fields[1]!.type as object, { name: 'P_2', namespace: '' });
  t.notThrows(() => parse(outer));
  const top: RecordType = { kind: 'record', name: 'T', fields: [{ name: 'a', type: plain }, { name: 'b', type: plain }] };
  t.is((typeToAvsc(top) as { fields: { type: unknown }[] }).fields[1]!.type, 'P');
});
