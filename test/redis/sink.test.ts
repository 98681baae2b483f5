// The Redis sink against the real server: SET/HSET with TTL and tombstones, XADD, PUBLISH,
// a rejected command as a dead letter, and a server restart mid-run.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { client, openSink, ownRedis } from './helpers.ts';

const ORDER = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'note', type: ['null', 'string'] },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};

const AT = Date.UTC(2024, 4, 1, 12);
const orders = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: `o${from + i}`, customer: `c${(from + i) % 3}`, amount: (from + i) / 4, note: i % 2 ? null : 'hi', at: AT }));

const prefix = () => `t${randomUUID().slice(0, 8)}`;

test('set: the record as JSON under a key built from fields, with a TTL', async (t) => {
  const p = prefix();
  const sink = await openSink(ORDER, { command: 'set', key: `${p}:order:{customer}:{id}`, ttl: '1h' });
  await sink.write(orders(500));
  await sink.writer.close();
  const redis = client();
  try {
    t.deepEqual(JSON.parse((await redis.get(`${p}:order:c1:o4`))!), { id: 'o4', customer: 'c1', amount: 1, note: 'hi', at: '2024-05-01T12:00:00.000Z' });
    t.is((await redis.keys(`${p}:*`)).length, 500);
    const ttl = await redis.pttl(`${p}:order:c0:o0`);
    t.true(ttl > 3_500_000 && ttl <= 3_600_000, `pttl ${ttl}`);
  } finally {
    redis.disconnect();
  }
});

test('set with value_field stores one field; a tombstone deletes the key', async (t) => {
  const p = prefix();
  const schema = { ...ORDER, fields: [...ORDER.fields, { name: 'deleted', type: 'boolean' }] };
  const sink = await openSink(schema, { command: 'set', key: `${p}:{id}`, value_field: 'customer', delete_field: 'deleted' });
  await sink.write([...orders(3).map((o) => ({ ...o, deleted: false })), { ...orders(1)[0]!, deleted: true }]);
  await sink.writer.close();
  const redis = client();
  try {
    t.deepEqual(await redis.mget(`${p}:o0`, `${p}:o1`, `${p}:o2`), [null, 'c1', 'c2']);
  } finally {
    redis.disconnect();
  }
});

test('hset: a hash field per record field, null fields removed, with a TTL', async (t) => {
  const p = prefix();
  const sink = await openSink(ORDER, { command: 'hset', key: `${p}:customer:{customer}`, ttl: '10m' });
  await sink.write(orders(4));
  await sink.writer.close();
  const redis = client();
  try {
    // o3 (c0) is the last of customer c0 and has no note: its note field is gone.
    t.deepEqual(await redis.hgetall(`${p}:customer:c0`), { id: 'o3', customer: 'c0', amount: '0.75', at: '2024-05-01T12:00:00.000Z' });
    t.deepEqual(await redis.hgetall(`${p}:customer:c2`), { id: 'o2', customer: 'c2', amount: '0.5', note: 'hi', at: '2024-05-01T12:00:00.000Z' });
    t.true((await redis.pttl(`${p}:customer:c1`)) > 0);
  } finally {
    redis.disconnect();
  }
});

test('xadd: an entry per record, in order, trimmed with maxlen', async (t) => {
  const p = prefix();
  const sink = await openSink(ORDER, { command: 'xadd', key: `${p}:orders`, maxlen: 100_000 });
  await sink.write(orders(300));
  await sink.write(orders(200, 300), { from: 300 });
  await sink.writer.close();
  const redis = client();
  try {
    const entries = await redis.xrange(`${p}:orders`, '-', '+');
    t.is(entries.length, 500);
    t.deepEqual(entries.map(([, f]) => f[1]), orders(500).map((o) => o.id));
    t.deepEqual(entries[1]![1], ['id', 'o1', 'customer', 'c1', 'amount', '0.25', 'at', '2024-05-01T12:00:00.000Z']);
  } finally {
    redis.disconnect();
  }
});

test('publish: each record as a JSON message on a channel built from fields', async (t) => {
  const p = prefix();
  const sub = client();
  const got: [string, unknown][] = [];
  sub.on('message', (channel: string, message: string) => got.push([channel, JSON.parse(message)]));
  await sub.subscribe(`${p}:c0`, `${p}:c1`, `${p}:c2`);
  const sink = await openSink(ORDER, { command: 'publish', key: `${p}:{customer}` });
  await sink.write(orders(6));
  await sink.writer.close();
  while (got.length < 6) await new Promise((r) => setTimeout(r, 10));
  sub.disconnect();
  t.deepEqual(got.map(([c, m]) => [c, (m as { id: string }).id]), orders(6).map((o) => [`${p}:${o.customer}`, o.id]));
});

test('a command Redis rejects makes its record a dead letter with the error; the others are written', async (t) => {
  const p = prefix();
  const redis = client();
  try {
    await redis.rpush(`${p}:c1`, 'a list, not a hash');
    const sink = await openSink(ORDER, { command: 'hset', key: `${p}:{customer}` });
    await sink.write(orders(3), { partition: 4, from: 70 });
    await sink.writer.close();
    t.deepEqual(sink.letters.map((l) => [l.partition, l.offset, (l.value as { id: string }).id]), [[4, 71, 'o1']]);
    t.regex(sink.letters[0]!.reason, /^Redis rejected HSET\+HDEL: WRONGTYPE/);
    t.is(await redis.hget(`${p}:c2`, 'id'), 'o2');
  } finally {
    redis.disconnect();
  }
});

test('a key template naming a field the stream does not have is an error at start', async (t) => {
  const e = await t.throwsAsync(openSink(ORDER, { command: 'set', key: 'order:{order_id}' }));
  t.regex(e!.message, /uses \{order_id\}, which is not a field of the stream \(id, customer, amount, note, at\)/);
});

test('a Redis restart mid-run: writes wait and complete once it is back, nothing lost', async (t) => {
  const server = await ownRedis();
  try {
    const sink = await openSink(ORDER, { url: server.url, command: 'set', key: 'order:{id}', retry_backoff: '50ms', retry_max_backoff: '300ms' });
    let down = false;
    let resolvedWhileDown = 0;
    let written = 0;
    const loop = (async () => {
      for (let b = 0; b < 40; b++) {
        await sink.write(orders(250, b * 250), { from: b * 250 });
        if (down) resolvedWhileDown++;
        written = b + 1;
      }
    })();
    while (written < 5) await new Promise((r) => setTimeout(r, 10));
    await server.stop();
    down = true;
    await new Promise((r) => setTimeout(r, 1000));
    down = false;
    await server.start();
    await loop;
    await sink.writer.close();
    t.is(resolvedWhileDown, 0);
    const redis = client(server.url);
    t.is(await redis.dbsize(), 40 * 250);
    redis.disconnect();
  } finally {
    await server.destroy();
  }
});
