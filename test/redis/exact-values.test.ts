// Longs past 2^53 and decimal(38, 10) values through the real Redis server: the sink writes them (SET as
// JSON, HSET as fields) with every digit, and the lookup reads both forms back exactly.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { openRedisLookup } from '../../connectors/redis/lookup.ts';
import { redisUrl } from '../support/services.ts';
import { client, openSink } from './helpers.ts';

const decimal = { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 };
const ACCOUNT = { type: 'record', name: 'Account', fields: [{ name: 'id', type: 'string' }, { name: 'number', type: 'long' }, { name: 'balance', type: decimal }] };

// As the runtime holds them: a long past 2^53 a bigint, a decimal past 15 digits its text (src/plan/decimal.ts).
const accounts = [
  { id: 'a', number: 2n ** 63n - 1n, balance: '-9999999999999999999999999999.9999999999' },
  { id: 'b', number: -(2n ** 53n) - 1n, balance: '12345678901234567.0123456789' },
  { id: 'c', number: 42, balance: 0.25 },
];

for (const command of ['set', 'hset'] as const) {
  test(`${command}: longs and wide decimals keep every digit, written and looked up`, async (t) => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const sink = await openSink(ACCOUNT, { command, key: `${prefix}:{id}` });
    await sink.write(accounts);
    await sink.writer.close();
    t.deepEqual(sink.letters, []);
    const redis = client();
    try {
      if (command === 'set') t.is(await redis.get(`${prefix}:a`), '{"id":"a","number":9223372036854775807,"balance":-9999999999999999999999999999.9999999999}');
      else t.deepEqual(await redis.hgetall(`${prefix}:b`), { id: 'b', number: '-9007199254740993', balance: '12345678901234567.0123456789' });
    } finally {
      redis.disconnect();
    }
    const lookup = await openRedisLookup({
      pipeline: 'p', id: 'l', keySchema: 'string', schema: ACCOUNT,
      options: { url: redisUrl(), key: '', read: command === 'set' ? 'get' : 'hgetall', cache_size: 0 },
    });
    try {
      t.deepEqual(await lookup.lookup(accounts.map((a) => `${prefix}:${a.id}`)), accounts);
    } finally {
      await lookup.close();
    }
  });
}
