// `lookup … from redis` run by the runtime: datagen → lookup → file, 2 workers, against the real server.
import test from 'ava';
import { generatedOrders, runLookup, sorted } from '../support/lookup-run.ts';
import { redisUrl } from '../support/services.ts';
import { unique } from '../postgres/helpers.ts';
import { client } from './helpers.ts';

/** Every other customer id of the generated orders under `<prefix>:<id>`, as a JSON string (`get`) or a hash (`hgetall`). */
async function customers(read: 'get' | 'hgetall'): Promise<{ prefix: string; rows: Map<string, { tier: string; rank: number }> }> {
  const prefix = unique('cust');
  const ids = [...new Set(generatedOrders().map((o) => o.customer_id))].sort();
  const rows = new Map(ids.filter((_, i) => i % 2 === 0).map((id, i) => [id, { tier: `T-${id}`, rank: i }]));
  const redis = client();
  try {
    for (const [id, row] of rows) {
      if (read === 'get') await redis.set(`${prefix}:${id}`, JSON.stringify(row));
      else await redis.hset(`${prefix}:${id}`, { tier: row.tier, rank: String(row.rank) });
    }
  } finally {
    redis.disconnect();
  }
  return { prefix, rows };
}

const lookup = (prefix: string, read: string, missing: string) =>
  `lookup customer: Customer from redis { url: ${JSON.stringify(redisUrl())}, key: "${prefix}:" + customer_id, read: ${read}, on_missing: ${missing} }`;

for (const read of ['get', 'hgetall'] as const) {
  test(`read: ${read}: every record gets its customer; a missing key gives null`, async (t) => {
    const { prefix, rows } = await customers(read);
    const { records, summary } = await runLookup(lookup(prefix, read, 'null'));
    const expected = sorted(generatedOrders().map((o) => ({ ...o, tier: rows.get(o.customer_id)?.tier ?? null, rank: rows.get(o.customer_id)?.rank ?? null })));
    t.true(expected.some((r) => r.tier === null) && expected.some((r) => r.tier !== null));
    t.deepEqual(records, expected);
    t.is(summary.workers.initial, 2);
  });
}

test('on_missing: drop drops the records without a customer', async (t) => {
  const { prefix, rows } = await customers('get');
  const { records } = await runLookup(lookup(prefix, 'get', 'drop'), '{ id, customer_id, tier: customer.tier, rank: customer.rank }');
  const expected = sorted(generatedOrders().filter((o) => rows.has(o.customer_id)).map((o) => ({ ...o, ...rows.get(o.customer_id)! })));
  t.true(expected.length > 0 && expected.length < generatedOrders().length);
  t.deepEqual(records, expected);
});
