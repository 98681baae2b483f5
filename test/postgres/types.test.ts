// Avro → PostgreSQL types (docs/postgres.md): the columns `create: true` makes, and values
// written through binary COPY read back as PostgreSQL sees them.
import test from 'ava';
import { decodeRow, CopyEncoder, numeric } from '../../connectors/postgres/copy-binary.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { openSink, sql, unique } from './helpers.ts';

const ALL = {
  type: 'record',
  name: 'All',
  fields: [
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 's', type: 'string' },
    { name: 'by', type: 'bytes' },
    { name: 'fx', type: { type: 'fixed', name: 'Md5', size: 4 } },
    { name: 'e', type: { type: 'enum', name: 'Tier', symbols: ['GOLD', 'SILVER'] } },
    { name: 'u', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'dec', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 3 } },
    { name: 'dt', type: { type: 'int', logicalType: 'date' } },
    { name: 'tm', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'tu', type: { type: 'long', logicalType: 'time-micros' } },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tsu', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'arr', type: { type: 'array', items: 'long' } },
    { name: 'narr', type: { type: 'array', items: ['null', 'string'] } },
    { name: 'rec', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }] } },
    { name: 'm', type: { type: 'map', values: 'double' } },
    { name: 'recs', type: { type: 'array', items: 'Address' } },
    { name: 'opt', type: ['null', 'string'] },
    { name: 'optl', type: ['null', 'long'] },
  ],
};

const VALUE = {
  b: true,
  i: -42,
  l: 9_000_000_000_000_001,
  f: 1.5,
  d: -2.25e-10,
  s: 'grüße\ttab "quoted" \\ back',
  by: Buffer.from('cafe00', 'hex'),
  fx: Buffer.from('01020304', 'hex'),
  e: 'SILVER',
  u: '0f8fad5b-d9cb-469f-a165-70867728950e',
  dec: -12345.678,
  dt: 19_844, // 2024-05-01
  tm: 37_230_250, // 10:20:30.250
  tu: 37_230_250_123,
  ts: Date.UTC(2024, 4, 1, 10, 20, 30, 250),
  tsu: Date.UTC(1969, 11, 31, 23, 59, 59, 999) * 1000 + 1,
  arr: [1, -2, 3_000_000_000],
  narr: ['a', null, 'c'],
  rec: { city: 'Berlin', at: Date.UTC(2024, 0, 2) },
  m: { x: 1.25 },
  recs: [],
  opt: null,
  optl: 7,
};

test('create: true makes the documented column types', async (t) => {
  const table = unique('types');
  const sink = await openSink(ALL, { table, create: true });
  await sink.writer.close();
  const rows = await sql<{ name: string; type: string; notnull: boolean }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS notnull FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`,
    [table],
  );
  t.deepEqual(rows.map((r) => `${r.name} ${r.type}${r.notnull ? ' not null' : ''}`), [
    'b boolean not null', 'i integer not null', 'l bigint not null', 'f real not null', 'd double precision not null', 's text not null',
    'by bytea not null', 'fx bytea not null', 'e text not null', 'u uuid not null', 'dec numeric(12,3) not null', 'dt date not null',
    'tm time(3) without time zone not null', 'tu time(6) without time zone not null', 'ts timestamp(3) with time zone not null',
    'tsu timestamp(6) with time zone not null', 'arr bigint[] not null', 'narr text[] not null', 'rec jsonb not null', 'm jsonb not null',
    'recs jsonb not null', 'opt text', 'optl bigint',
  ]);
});

test('every type round-trips through binary COPY', async (t) => {
  const table = unique('roundtrip');
  const sink = await openSink(ALL, { table, create: true });
  await sink.write([VALUE]);
  await sink.writer.close();
  const [row] = await sql<Record<string, string | null>>(`SELECT ${ALL.fields.map((f) => `${f.name}::text`).join(', ')} FROM ${table}`);
  t.deepEqual(row, {
    b: 'true', i: '-42', l: '9000000000000001', f: '1.5', d: '-2.25e-10', s: 'grüße\ttab "quoted" \\ back',
    by: '\\xcafe00', fx: '\\x01020304', e: 'SILVER', u: '0f8fad5b-d9cb-469f-a165-70867728950e', dec: '-12345.678',
    dt: '2024-05-01', tm: '10:20:30.25', tu: '10:20:30.250123', ts: '2024-05-01 10:20:30.25+00', tsu: '1969-12-31 23:59:59.999001+00',
    arr: '{1,-2,3000000000}', narr: '{a,NULL,c}', rec: '{"at": "2024-01-02T00:00:00.000Z", "city": "Berlin"}', m: '{"x": 1.25}',
    recs: '[]', opt: null, optl: '7',
  });
});

test('existing columns of compatible types: int into bigint, timestamp without time zone, varchar, a PostgreSQL enum, json', async (t) => {
  const table = unique('compat');
  const tier = unique('tier');
  await sql(`CREATE TYPE ${tier} AS ENUM ('GOLD', 'SILVER')`);
  await sql(`CREATE TABLE ${table} (i bigint, ts timestamp, s varchar(40), e ${tier}, rec json, extra text DEFAULT 'x')`);
  const schema = { type: 'record', name: 'R', fields: ALL.fields.filter((f) => ['i', 'ts', 's', 'e', 'rec'].includes(f.name)) };
  const sink = await openSink(schema, { table });
  await sink.write([{ i: VALUE.i, ts: VALUE.ts, s: 'short', e: 'GOLD', rec: VALUE.rec }]);
  await sink.writer.close();
  const rows = await sql(`SELECT i::text, ts::text, s, e::text, rec::text, extra FROM ${table}`);
  t.deepEqual(rows, [{ i: '-42', ts: '2024-05-01 10:20:30.25', s: 'short', e: 'GOLD', rec: '{"city":"Berlin","at":"2024-01-02T00:00:00.000Z"}', extra: 'x' }]);
});

test('numeric encodes scale, sign, zero, small and large values exactly (past 2^53 once scaled too)', async (t) => {
  const table = unique('numeric');
  const schema = { type: 'record', name: 'N', fields: [{ name: 'n', type: { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 4 } }, { name: 'k', type: 'int' }] };
  const values = [0, 0.0001, -0.05, 1, 10000, 123456789.1234, -99999999.9999, 1.005, 2.5, 1234567890123456, -0.0001];
  const sink = await openSink(schema, { table, create: true });
  await sink.write(values.map((n, k) => ({ n, k })));
  await sink.writer.close();
  const rows = await sql<{ n: string }>(`SELECT n::text FROM ${table} ORDER BY k`);
  t.deepEqual(rows.map((r) => r.n), ['0.0000', '0.0001', '-0.0500', '1.0000', '10000.0000', '123456789.1234', '-99999999.9999', '1.0050', '2.5000', '1234567890123456.0000', '-0.0001']);
  t.deepEqual(numeric(NaN, 2), Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]));
});

test('a dead letter shows the row as it was sent, decoded from the COPY tuple', (t) => {
  const schema = recordNode(ALL);
  const codecs = [
    'bool', 'int4', 'int8', 'float4', 'float8', 'text', 'bytea', 'bytea', 'text', 'uuid', 'numeric', 'date', 'time', 'time', 'timestamp', 'timestamp',
  ].map((wire) => ({ wire }) as const) as { wire: never }[];
  const all = [...codecs, { wire: 'array', element: 'int8', elementOid: 20 }, { wire: 'array', element: 'text', elementOid: 25 }, { wire: 'jsonb' }, { wire: 'jsonb' }, { wire: 'json' }, { wire: 'text' }, { wire: 'int8' }] as never[];
  const encoder = new CopyEncoder(schema, all);
  encoder.encode([VALUE]);
  const row = decodeRow(schema.fields.map((f) => f.name), all, encoder.bytes());
  t.like(row, {
    b: true, i: -42, l: 9_000_000_000_000_001, s: VALUE.s, by: 'cafe00', e: 'SILVER', u: VALUE.u, dec: -12345.678, dt: '2024-05-01',
    tm: '10:20:30.250000', tu: '10:20:30.250123', ts: '2024-05-01T10:20:30.250Z', arr: [1, -2, 3_000_000_000], narr: ['a', null, 'c'],
    rec: { city: 'Berlin', at: '2024-01-02T00:00:00.000Z' }, opt: null, optl: 7,
  });
});
