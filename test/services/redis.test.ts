// Talks to the real Redis from `scripts/services start redis` (or SENSEI_REDIS_URL).
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from '../support/services.ts';

test('round-trips strings, hashes and streams', async (t) => {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const key = `sensei-test:${randomUUID()}`;
  try {
    t.is(await redis.set(`${key}:s`, 'value', 'EX', 60), 'OK');
    t.is(await redis.get(`${key}:s`), 'value');

    await redis.hset(`${key}:h`, { country: 'DE', total: '12' });
    t.deepEqual(await redis.hgetall(`${key}:h`), { country: 'DE', total: '12' });

    await redis.xadd(`${key}:x`, '*', 'id', 'o1');
    await redis.xadd(`${key}:x`, '*', 'id', 'o2');
    const entries = await redis.xrange(`${key}:x`, '-', '+');
    t.deepEqual(entries.map(([, fields]) => fields), [['id', 'o1'], ['id', 'o2']]);
  } finally {
    await redis.del(`${key}:s`, `${key}:h`, `${key}:x`);
    redis.disconnect();
  }
});
