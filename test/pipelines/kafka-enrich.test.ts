// pipelines/kafka-enrich.sensei end to end: a real `sensei run` process reads Avro orders from
// Kafka, enriches them from PostgreSQL and writes PostgreSQL and Redis, on the real services.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { avroValues, createTopics, deleteTopics, kafka, produce } from '../kafka/helpers.ts';
import { startSensei, topicSize, waitFor } from '../kafka/processes.ts';
import { sql } from '../postgres/helpers.ts';
import { client as redisClient } from '../redis/helpers.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { kafkaBrokers, pgUrl, redisUrl } from '../support/services.ts';

const PIPELINES = resolve(import.meta.dirname, '../../pipelines');
const ORDER_SCHEMA = JSON.parse(readFileSync(join(PIPELINES, 'schemas/order.avsc'), 'utf8'));
const PARTITIONS = 6;
const DAY_MS = 86_400_000;

/** Replaces `from` in `text`, which must hold it exactly once (the test breaks loudly if the file changes). */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`kafka-enrich.sensei: expected ${JSON.stringify(from)} exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/**
 * The pipeline file with its fixed names made unique to this run, beside copies of what it
 * imports. The names are generic ("orders" is also the input topic of kafka-orders.sensei
 * and kafka-exactly-once.sensei, "customers" any test's table, and the exactly-once offsets
 * are kept by pipeline name), and test files run concurrently on the same broker and
 * database: unique names keep runs apart and make reruns start clean. Only these quoted
 * names change; the Redis key template stays, the customer ids are unique instead.
 */
function pipelineCopy(run: string): { path: string; dir: string; names: Record<'topic' | 'deadLetters' | 'group' | 'customers' | 'enriched' | 'pipeline', string> } {
  const names = {
    pipeline: `kafka_enrich_${run}`,
    topic: `orders-${run}`,
    group: `kafka-enrich-${run}`,
    deadLetters: `orders-enrich-dead-letters-${run}`,
    customers: `customers_${run}`,
    enriched: `enriched_orders_${run}`,
  };
  let text = readFileSync(join(PIPELINES, 'kafka-enrich.sensei'), 'utf8');
  text = replaceOnce(text, 'pipeline kafka_enrich\n', `pipeline ${names.pipeline}\n`);
  text = replaceOnce(text, 'topic: "orders"', `topic: "${names.topic}"`);
  text = replaceOnce(text, 'group: "kafka-enrich"', `group: "${names.group}"`);
  text = replaceOnce(text, 'topic: "orders-enrich-dead-letters"', `topic: "${names.deadLetters}"`);
  text = replaceOnce(text, 'from customers where', `from ${names.customers} where`);
  text = replaceOnce(text, 'table: "enriched_orders"', `table: "${names.enriched}"`);
  const dir = mkdtempSync(join(tmpdir(), 'sensei-enrich-'));
  mkdirSync(join(dir, 'schemas'));
  cpSync(join(PIPELINES, 'shared.sensei'), join(dir, 'shared.sensei'));
  cpSync(join(PIPELINES, 'schemas/order.avsc'), join(dir, 'schemas/order.avsc'));
  const path = join(dir, 'kafka-enrich.sensei');
  writeFileSync(path, text);
  return { path, dir, names };
}

interface Customer { id: string; name: string; tier: string; city: string | null }
interface Order { id: string; customer_id: string; status: string; amount: number; currency: string; country: string | null; created_at: number; items: unknown[]; attributes: Record<string, string> }

/** 24 customers, of which the table holds 18 (every fourth one is missing); every fifth has no city. */
function customers(run: string): { all: string[]; rows: Customer[] } {
  const all = Array.from({ length: 24 }, (_, i) => `cust-${run}-${i}`);
  const rows = all.filter((_, i) => i % 4 !== 3).map((id, i) => ({ id, name: `Name ${i}`, tier: ['GOLD', 'SILVER', 'BRONZE'][i % 3]!, city: i % 5 === 0 ? null : `City ${i}` }));
  return { all, rows };
}

const STATUSES = ['PAID', 'PAID', 'PENDING', 'PAID', 'FAILED', 'PAID', 'REFUNDED'];

function orders(run: string, ids: string[], n: number): Order[] {
  const t0 = Date.UTC(2024, 4, 1, 10);
  return Array.from({ length: n }, (_, i) => ({
    id: `o-${run}-${i}`, customer_id: ids[(i * 7) % ids.length]!, status: STATUSES[i % STATUSES.length]!, amount: (i % 50) * 3 + 0.25,
    currency: 'EUR', country: i % 3 === 0 ? null : 'DE', created_at: t0 + i * 1000, items: [], attributes: {},
  }));
}

test('kafka-enrich.sensei: one enriched row per paid order in PostgreSQL, the latest per customer in Redis for a day, no dead letters', async (t) => {
  const run = randomUUID().slice(0, 8);
  const { path, dir, names } = pipelineCopy(run);
  const registry = await startSchemaRegistry();
  const redis = redisClient();
  const { all: ids, rows } = customers(run);
  const keys = ids.map((id) => `last-order:${id}`);
  const cleanUp = async () => {
    await deleteTopics(names.topic, names.deadLetters);
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteGroups([names.group]).catch(() => undefined);
    await admin.disconnect();
    await sql(`DROP TABLE IF EXISTS ${names.customers}; DROP TABLE IF EXISTS ${names.enriched}`);
    await sql('DELETE FROM sensei_offsets WHERE pipeline = $1', [names.pipeline]).catch(() => undefined);
    await redis.del(...keys);
  };
  let proc: ReturnType<typeof startSensei> | undefined;
  try {
    await cleanUp();
    await sql(`CREATE TABLE ${names.customers} (id text PRIMARY KEY, name text NOT NULL, tier text NOT NULL, city text)`);
    await sql(`INSERT INTO ${names.customers} SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
      [rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.tier), rows.map((r) => r.city)]);

    // Keyed by customer (Kafka's default partitioner), so each customer's orders keep their order in one partition.
    const input = orders(run, ids, 600);
    await createTopics([names.topic, PARTITIONS]);
    const values = await avroValues(new RegistryClient(registry.url), `${names.topic}-value`, ORDER_SCHEMA, input);
    await produce(names.topic, input.map((o, i) => ({ key: o.customer_id, value: values[i]! })));

    const paid = input.filter((o) => o.status === 'PAID');
    const latest = new Map<string, Order>();
    for (const o of paid) latest.set(o.customer_id, o);
    t.true(paid.some((o) => !rows.some((r) => r.id === o.customer_id)), 'some paid orders have no customer row');
    t.true(new Set(input.map((o) => o.customer_id)).size === ids.length && latest.size > 12);

    proc = startSensei(path, ['--workers', '2', '--format', 'json'], {
      SENSEI_KAFKA_BROKERS: kafkaBrokers().join(','), SENSEI_SCHEMA_REGISTRY_URL: registry.url, SENSEI_PG_URL: pgUrl(), SENSEI_REDIS_URL: redisUrl(),
    });
    const tableRows = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${names.enriched}`).catch(() => [{ n: '0' }]))[0]!.n);
    const redisDone = async () => {
      const got = await redis.mget(...[...latest.keys()].map((id) => `last-order:${id}`));
      return got.every((v, i) => v !== null && JSON.parse(v).order_id === latest.get([...latest.keys()][i]!)!.id);
    };
    await waitFor('every paid order in PostgreSQL and the latest per customer in Redis', async () => (await tableRows()) >= paid.length && (await redisDone()), 120_000, proc);
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    t.is(code, 0, proc.stderr());
    const summary = JSON.parse(proc.stderr().trim().split('\n').at(-1)!) as { recordsIn: number; deadLetters: number };
    t.is(summary.recordsIn, input.length);
    t.is(summary.deadLetters, 0);

    // PostgreSQL: exactly one row per paid order, with its customer's fields or the defaults.
    const byId = new Map(rows.map((r) => [r.id, r]));
    const got = await sql<{ order_id: string; customer_id: string; customer_name: string; tier: string; city: string | null; amount: string; placed_at: Date }>(
      `SELECT order_id, customer_id, customer_name, tier, city, amount::text AS amount, placed_at FROM ${names.enriched} ORDER BY order_id`);
    const expected = paid.map((o) => {
      const c = byId.get(o.customer_id);
      return { order_id: o.id, customer_id: o.customer_id, customer_name: c?.name ?? 'unknown', tier: c?.tier ?? 'BRONZE', city: c?.city ?? null, amount: o.amount.toFixed(2), placed_at: new Date(o.created_at) };
    }).sort((a, b) => (a.order_id < b.order_id ? -1 : a.order_id > b.order_id ? 1 : 0));
    t.is(got.length, paid.length);
    t.deepEqual(got, expected);
    t.true(expected.some((r) => r.customer_name === 'unknown') && expected.some((r) => r.city === null && r.customer_name !== 'unknown'));

    // Redis: the latest paid order of each customer that has one, expiring in about a day; none for the others.
    for (const [id, o] of latest) {
      const value = JSON.parse((await redis.get(`last-order:${id}`))!) as Record<string, unknown>;
      const c = byId.get(id);
      t.like(value, { order_id: o.id, customer_id: id, customer_name: c?.name ?? 'unknown', tier: c?.tier ?? 'BRONZE', city: c?.city ?? null });
      const ttl = await redis.pttl(`last-order:${id}`);
      t.true(ttl > DAY_MS - 10 * 60_000 && ttl <= DAY_MS, `TTL of last-order:${id} is ${ttl} ms`);
    }
    for (const id of ids.filter((id) => !latest.has(id))) t.is(await redis.exists(`last-order:${id}`), 0);

    // Nothing became a dead letter (the sink creates the topic when it opens).
    t.is(await topicSize(names.deadLetters), 0);
  } finally {
    if (proc && proc.child.exitCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    await cleanUp().catch(() => undefined);
    redis.disconnect();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the copy of the pipeline differs from the file only in the names it makes unique', (t) => {
  const { path, dir, names } = pipelineCopy('abc123');
  try {
    const copy = readFileSync(path, 'utf8');
    for (const name of Object.values(names)) t.true(copy.includes(name), name);
    t.is(copy.match(/[-_]abc123/g)?.length, 6);
    // Without the run's suffix, the copy is the file.
    t.is(copy.replaceAll(/[-_]abc123/g, ''), readFileSync(join(PIPELINES, 'kafka-enrich.sensei'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
