import test from 'ava';
import { groupAssignor } from '../../runtime/cluster/assignment.ts';
import { readFileSync } from 'node:fs';
import type { SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { datagenConnector } from '../../connectors/datagen/datagen.ts';
import { partitionOf } from '../../src/formats/partitioner.ts';
import { avroType } from '../../src/formats/avro-codec.ts';

const ORDER = JSON.parse(readFileSync(new URL('../../pipelines/schemas/order.avsc', import.meta.url), 'utf8'));

const KITCHEN_SINK = {
  type: 'record',
  name: 'Everything',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'flag', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 'raw', type: 'bytes' },
    { name: 'hash', type: { type: 'fixed', name: 'Md5', size: 16 } },
    { name: 'tier', type: { type: 'enum', name: 'Tier', symbols: ['GOLD', 'SILVER', 'BRONZE'] } },
    { name: 'email', type: ['null', 'string'] },
    { name: 'price', type: { type: 'fixed', name: 'Price', size: 8, logicalType: 'decimal', precision: 10, scale: 3 } },
    { name: 'day', type: { type: 'int', logicalType: 'date' } },
    { name: 'at', type: { type: 'int', logicalType: 'time-millis' } },
    { name: 'seen_us', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'uid', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'scores', type: { type: 'map', values: ['null', 'double'] } },
    { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }, { name: 'zip', type: ['null', 'string'] }] } },
    { name: 'either', type: ['null', 'int', 'long'] },
  ],
};

async function open(options: Record<string, number | string>, schema: unknown = ORDER, keySchema: unknown = 'string'): Promise<SourceReader> {
  const ctx: SourceContext = {
    pipeline: 't', name: 'orders', options, schema, keySchema,
    signal: new AbortController().signal,
    reject: async () => {},
    assignor: groupAssignor,
  };
  return datagenConnector.runtime.openSource!(ctx);
}

async function drain(reader: SourceReader, partition: number, max = 37): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for (let b: SourceBatch | undefined; (b = await reader.read(partition, max)); ) out.push(b);
  return out;
}

const flatten = (batches: SourceBatch[]) => ({
  offsets: batches.flatMap((b) => b.offsets),
  keys: batches.flatMap((b) => b.keys),
  values: batches.flatMap((b) => b.values!),
});

test('the same seed gives the same records per partition, whatever the read order and batch size', async (t) => {
  const options = { partitions: 4, count: 500, seed: 42, key: 'customer_id' };
  const a = await open(options);
  const b = await open(options);
  const first = await Promise.all([0, 1, 2, 3].map((p) => drain(a, p, 37)));
  const second = [];
  for (const p of [3, 1, 0, 2]) second[p] = await drain(b, p, 200);
  for (let p = 0; p < 4; p++) t.deepEqual(flatten(first[p]!), flatten(second[p]!));
  t.is(first.reduce((n, batches) => n + flatten(batches).offsets.length, 0), 500);
});

test('a different seed gives different records', async (t) => {
  const a = flatten(await drain(await open({ partitions: 1, count: 20, seed: 1 }), 0));
  const b = flatten(await drain(await open({ partitions: 1, count: 20, seed: 2 }), 0));
  t.notDeepEqual(a.values, b.values);
});

test('keyed records land in the partition of murmur2(key), with offsets 0, 1, 2… per partition', async (t) => {
  const reader = await open({ partitions: 5, count: 300, seed: 3, key: 'customer_id' });
  for (let p = 0; p < 5; p++) {
    const { offsets, keys, values } = flatten(await drain(reader, p));
    t.deepEqual(offsets, offsets.map((_, i) => i));
    for (let i = 0; i < keys.length; i++) {
      t.is(keys[i], (values[i] as { customer_id: string }).customer_id);
      t.is(partitionOf(keys[i], { kind: 'string' }, 5), p);
    }
  }
});

test('without a key, records go round robin and keys are null', async (t) => {
  const reader = await open({ partitions: 3, count: 10, seed: 0 }, ORDER, 'null');
  const sizes = [];
  for (let p = 0; p < 3; p++) {
    const { keys } = flatten(await drain(reader, p));
    t.true(keys.every((k) => k === null));
    sizes.push(keys.length);
  }
  t.deepEqual(sizes, [4, 3, 3]);
});

test('generated values are valid for every Avro type (they encode with the schema)', async (t) => {
  const reader = await open({ partitions: 1, count: 300, seed: 9 }, KITCHEN_SINK, 'null');
  const { values } = flatten(await drain(reader, 0));
  const type = avroType(KITCHEN_SINK);
  for (const v of values) t.notThrows(() => type.toBuffer(v));
  const rows = values as Record<string, any>[];
  t.true(rows.some((r) => r.email === null) && rows.some((r) => typeof r.email === 'string' && r.email.includes('@')));
  t.deepEqual([...new Set(rows.map((r) => r.tier))].sort(), ['BRONZE', 'GOLD', 'SILVER']);
  t.true(rows.every((r) => r.hash.length === 16 && /^[0-9a-f-]{36}$/.test(r.uid)));
  t.true(rows.every((r) => Number.isInteger(Math.round(r.price * 1000)) && r.price < 10_000_000));
});

test('order records look like orders: ids, decimal amounts, items and attributes', async (t) => {
  const { values } = flatten(await drain(await open({ partitions: 1, count: 100, seed: 5 }), 0));
  const rows = values as Record<string, any>[];
  t.regex(rows[0]!.id, /^ord-\d{6}$/);
  t.true(rows.every((r) => r.items.length >= 1 && r.items.every((it: any) => it.quantity >= 1 && it.quantity <= 10)));
  t.true(rows.every((r) => Math.round(r.amount * 100) / 100 === r.amount && r.amount >= 0 && r.amount <= 1000));
  t.true(rows.some((r) => 'channel' in r.attributes));
  t.true(rows.every((r, i) => r.created_at >= Date.UTC(2024, 4, 1) + i * 1000));
});

test('a rate limits how many records are available; backlog reports the rest', async (t) => {
  const reader = await open({ partitions: 2, rate: 200, count: 40, seed: 1 }, ORDER, 'null');
  const started = performance.now();
  const batches = await Promise.all([drain(reader, 0), drain(reader, 1)]);
  const elapsed = performance.now() - started;
  t.is(batches.flat().reduce((n, b) => n + b.offsets.length, 0), 40);
  // 40 records at 200/s cannot all be there before ~200 ms.
  t.true(elapsed >= 150, `took ${elapsed} ms`);
  t.is(reader.backlog!(0), 0);
  const unbounded = await open({ partitions: 2, seed: 1 }, ORDER, 'null');
  t.is(unbounded.backlog!(0), Infinity);
});

test('a key field the schema lacks is reported', async (t) => {
  await t.throwsAsync(open({ partitions: 1, count: 1, seed: 0, key: 'nope' }), { message: /key field nope/ });
});
