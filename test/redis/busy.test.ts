// The Redis sink and lookup while the server runs a long script (it answers BUSY to every other
// command): they wait with backoff and go on once it is free; no record becomes a dead letter,
// and a stopped run ends the wait.
import anyTest, { type TestFn } from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { recordGenerator } from '../../connectors/datagen/generate.ts';
import { openRedisLookup } from '../../connectors/redis/lookup.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { runPipeline } from '../../runtime/index.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { compilePlan } from '../support/compile.ts';
import { BUSY_LOOP, busyFor, client, openSink, ownRedis, type OwnRedis } from './helpers.ts';

// A server of the file's own, made busy for seconds at a time: the tests run one at a time.
const test = anyTest as TestFn<{ server: OwnRedis; admin: Redis }>;
test.before(async (t) => {
  t.context.server = await ownRedis();
  t.context.admin = client(t.context.server.url);
  // After 100 ms of a script the server answers other commands BUSY instead of holding them.
  await t.context.admin.config('SET', 'busy-reply-threshold', '100');
});
test.after.always(async (t) => {
  t.context.admin?.disconnect();
  await t.context.server?.destroy();
});

/** BUSY replies the server has sent since it started (INFO errorstats). */
async function busyReplies(admin: Redis): Promise<number> {
  return Number(/errorstat_BUSY:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0);
}

test.serial('a pipeline writing while Redis runs a 3 s script: every record is written, none is a dead letter', async (t) => {
  const { server, admin } = t.context;
  const dir = await mkdtemp(join(tmpdir(), 'sensei-redis-busy-'));
  const letters = join(dir, 'letters.jsonl');
  const count = 12_000;
  try {
    const refusedBefore = await busyReplies(admin);
    const run = runPipeline(compilePlan(`
pipeline redis_busy
schema Order { id: string, amount: decimal(12, 2), created_at: timestamp_millis }
source orders: Order from datagen { partitions: 4, count: ${count}, rate: 4000, seed: 3 }
sink orders to redis { url: "${server.url}", key: "order:{created_at}", retry_backoff: 50ms, retry_max_backoff: 300ms }
dead letter to file { path: ${JSON.stringify(letters)} }
`), { env: builtinEnvironment(), workers: 1 });
    while ((await admin.dbsize()) < count / 4) await sleep(50);
    await admin.eval(BUSY_LOOP, 0, 3000);
    const writtenWhenFree = await admin.dbsize();
    const summary = await run;

    t.true(writtenWhenFree < count, 'the run was still writing when the script ended');
    t.true((await busyReplies(admin)) > refusedBefore, 'the sink was answered BUSY');
    t.is(summary.deadLetters, 0);
    t.is(await readFile(letters, 'utf8').catch(() => ''), '');
    // datagen's record i has the timestamp BASE + i s (+ < 1 s): a key per record.
    const gen = recordGenerator(recordNode({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } }, { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' } }] }), 3);
    const records = Array.from({ length: count }, (_, i) => gen.record(i) as { id: string; created_at: number });
    const values = await admin.mget(records.map((r) => `order:${new Date(r.created_at).toISOString()}`));
    t.deepEqual(values.map((v) => (v === null ? null : (JSON.parse(v) as { id: string }).id)), records.map((r) => r.id));
    t.is(await admin.dbsize(), count);
  } finally {
    await admin.flushall();
    await rm(dir, { recursive: true, force: true });
  }
});

test.serial('a stopped run ends the wait: the write fails with the BUSY reply, nothing is a dead letter', async (t) => {
  const { server, admin } = t.context;
  const stop = new AbortController();
  const schema = { type: 'record', name: 'Row', fields: [{ name: 'id', type: 'string' }] };
  const sink = await openSink(schema, { url: server.url, key: 'row:{id}', retry_backoff: '50ms', retry_max_backoff: '200ms' }, stop.signal);
  const busy = await busyFor(server.url, 60_000);
  try {
    const write = sink.write([{ id: 'a' }, { id: 'b' }]);
    stop.abort();
    const e = await t.throwsAsync(write);
    t.regex(e!.message, /^redis sink:out:0: the run stopped while the server was failing: BUSY/);
    t.deepEqual(sink.letters, []);
  } finally {
    await admin.script('KILL').catch(() => undefined);
    await busy.ended;
    await sink.writer.close();
  }
  t.is(await admin.exists('row:a', 'row:b'), 0);
});

test.serial('a lookup while Redis runs a script: it waits and finds every key', async (t) => {
  const { server, admin } = t.context;
  const schema = { type: 'record', name: 'Customer', fields: [{ name: 'tier', type: 'string' }, { name: 'rank', type: 'long' }] };
  const keys = Array.from({ length: 50 }, (_, i) => `customer:${i}`);
  await admin.mset(Object.fromEntries(keys.map((k, i) => [k, JSON.stringify({ tier: `T${i % 3}`, rank: i })])));
  const lookup = await openRedisLookup({
    pipeline: 'p', id: 'l', keySchema: 'string', schema,
    options: { url: server.url, key: '', read: 'get', cache_size: 0, retry_backoff: 50, retry_max_backoff: 300 },
  });
  try {
    const refusedBefore = await busyReplies(admin);
    const busy = await busyFor(server.url, 2000);
    const found = await lookup.lookup([...keys, 'customer:none']).finally(() => busy.ended);
    t.deepEqual(found, [...keys.map((_, i) => ({ tier: `T${i % 3}`, rank: i })), null]);
    // One BUSY went to the probe in busyFor; the others to the lookup.
    t.true((await busyReplies(admin)) > refusedBefore + 1, 'the lookup was answered BUSY');
  } finally {
    await lookup.close();
    await admin.flushall();
  }
});
