// Rebalances during a Kafka → Kafka run: the worker pool grows and shrinks, and a second
// `sensei run` process joins the consumer group and leaves it again. Partitions that
// move are drained and committed before they go (rebalance-hook.ts), so nothing is lost,
// nothing is duplicated and every key keeps its order. A drain that outlasts the session
// timeout (a sink held by a lock) keeps the member in the group.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { startPipeline } from '../../runtime/index.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, groupAssignment, produce, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { audit, decodeEvents, events, pipelineFile, produceEvents, startSensei, topicSize, waitFor } from './processes.ts';
import { readFileSync } from 'node:fs';
import type { AssignmentChange } from '../../src/spi/connector.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';
import pg from 'pg';
import { kafkaBrokers, pgUrl } from '../support/services.ts';
import { sql } from '../postgres/helpers.ts';

const KEYS = 48;

test.serial('the worker pool grows and shrinks mid-run: nothing lost or duplicated, per-key order kept', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, group] = [unique('pool-in'), unique('pool-out'), unique('pool')];
  try {
    await createTopics([input, 12], [output, 12]);
    // Enough records that the resizes land mid-run (a resize after the last batch is a no-op).
    const all = events(0, 120_000, KEYS);
    await produceEvents(client, input, all);
    const plan = compilePlan(readFileSync(pipelineFile({ input, output, registry: registry.url, group, bounded: true }), 'utf8'));
    const run = startPipeline(plan, { env: builtinEnvironment(), workers: 1, batchSize: 200 });
    const resized: number[] = [];
    for (const size of [2, 1, 2]) {
      await waitFor('progress', async () => run.status().recordsOut > (resized.length + 1) * 4000 || run.status().state === 'done');
      if (run.status().state === 'done') break;
      await run.resize(size);
      resized.push(size);
    }
    const summary = await run.done;
    t.true(resized.length >= 2, `resized ${resized.length} times before the end`);
    t.true(summary.rebalances >= resized.length, `${summary.rebalances} rebalances for ${resized.length} resizes`);
    const result = audit(all, await decodeEvents(client, await readTopic(output)));
    t.deepEqual(result.missing, []);
    t.is(result.duplicates, 0);
    t.deepEqual(result.outOfOrder, []);
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});

test.serial('a worker killed mid-run: its batches, answered or still being produced, go to the next owner; nothing lost, per-key order kept', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, group] = [unique('kill-in'), unique('kill-out'), unique('kill')];
  try {
    await createTopics([input, 12], [output, 12]);
    const all = events(0, 120_000, KEYS);
    await produceEvents(client, input, all);
    const plan = compilePlan(readFileSync(pipelineFile({ input, output, registry: registry.url, group, bounded: true }), 'utf8'));
    const run = startPipeline(plan, { env: builtinEnvironment(), workers: 2, batchSize: 200 });
    await waitFor('progress', async () => run.status().recordsOut > 10_000);
    t.true(run.status().recordsOut < all.length, 'the kill lands mid-run');
    await run.killWorker(run.workerIds()[0]!);
    const summary = await run.done;
    t.is(summary.crashes, 1);
    const result = audit(all, await decodeEvents(client, await readTopic(output)));
    t.deepEqual(result.missing, []);
    t.deepEqual(result.outOfOrder, []);
    t.log(`${result.duplicates} records written twice (at-least-once: the dead worker's last batches are sent again)`);
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});

test.serial('a second process joins the group and leaves it: nothing lost or duplicated, per-key order kept, few partitions move', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, group] = [unique('join-in'), unique('join-out'), unique('join')];
  const reports: AssignmentChange[] = [];
  try {
    await createTopics([input, 12], [output, 12]);
    const file = pipelineFile({ input, output, registry: registry.url, group, name: 'join_leave' });
    const all = events(0, 24_000, KEYS);
    let produced = 0;
    const feed = async (until: number) => {
      for (; produced < until; produced += 500) {
        await produceEvents(client, input, all.slice(produced, produced + 500));
        await sleep(30);
      }
    };
    await feed(3000);
    // The first member runs in this process (its rebalances are observable); the second is a real `sensei run`.
    const first = startPipeline(compilePlan(readFileSync(file, 'utf8')), { env: builtinEnvironment(), workers: 2, onEvent: (e) => void (e.type === 'assignment' && reports.push(e)) });
    await waitFor('output of the first member', async () => (await topicSize(output)) >= 2000);

    const second = startSensei(file, ['--workers', '1'], { SENSEI_INSTANCE_ID: 'second' });
    const feeding = feed(12_000);
    await waitFor('the second member to own partitions', async () => {
      const a = await groupAssignment(group, input);
      return a.length === 2 && a.every((p) => p.length === 6);
    }, 60_000, second);
    await feeding;
    second.child.kill('SIGTERM');
    t.is(await second.exited, 0, second.stderr());
    await waitFor('the first member to own every partition again', async () => {
      const a = await groupAssignment(group, input);
      return a.length === 1 && a[0]!.length === 12;
    });
    await feed(all.length);
    await waitFor('every record out', async () => (await topicSize(output)) >= all.length, 90_000);
    first.stop();
    await first.done;

    const result = audit(all, await decodeEvents(client, await readTopic(output)));
    t.deepEqual(result.missing, [], 'nothing lost');
    t.is(result.duplicates, 0, 'moved partitions were drained and committed before they went');
    t.deepEqual(result.outOfOrder, [], 'per-key order kept');
    // The first member kept 6 of its 12 partitions when the second joined, and kept all 6 when it left.
    const mine = reports;
    t.true(mine.some((r) => r.kept.length === 6 && r.lost.length === 6), JSON.stringify(mine));
    t.true(mine.some((r) => r.kept.length === 6 && r.gained.length === 6), JSON.stringify(mine));
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});

test.serial('a drain longer than the session timeout keeps the member in the group: the joining member gets only its share', async (t) => {
  const [input, group] = [unique('slowdrain-in'), unique('slowdrain')];
  const tables = [unique('slow_drain_a').replaceAll('-', '_'), unique('slow_drain_b').replaceAll('-', '_')];
  // Each member writes its own table, so the lock that holds the first one's sink does not hold the second one's start.
  // The pipeline's name is new too: the sink keeps the offsets it wrote per pipeline, and skips what they cover.
  const pipeline = unique('slow_drain').replaceAll('-', '_');
  const plan = (table: string) => compilePlan(`
pipeline ${pipeline}
schema Row { id: long }
source rows: Row from kafka { topic: "${input}", brokers: "${kafkaBrokers().join(',')}", group: "${group}", format: json, session_timeout: 6s, commit_interval: 200ms }
sink rows to postgres { url: "${pgUrl()}", table: "${table}", create: true }
`);
  const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ partition: (from + i) % 4, value: JSON.stringify({ id: from + i }) }));
  const reports: AssignmentChange[][] = [[], []];
  const start = (i: number) => startPipeline(plan(tables[i]!), { env: builtinEnvironment(), workers: 1, onEvent: (e) => void (e.type === 'assignment' && reports[i]!.push(e)) });
  const count = async (table: string) => Number((await sql<{ n: string }>(`SELECT count(DISTINCT id) AS n FROM ${table}`))[0]!.n);
  const lock = new pg.Client({ connectionString: pgUrl() });
  try {
    await createTopics([input, 4]);
    await produce(input, rows(0, 100));
    const first = start(0);
    await waitFor('the first member to write the first rows', async () => (await count(tables[0]!).catch(() => 0)) === 100);
    await lock.connect();
    await lock.query(`BEGIN; LOCK TABLE ${tables[0]} IN ACCESS EXCLUSIVE MODE`);
    await produce(input, rows(100, 200));
    await sleep(1000);
    // The second member's join starts a rebalance; the first one's drain waits on the lock for two and a half session timeouts.
    const second = start(1);
    await sleep(15_000);
    await lock.query('COMMIT');
    await waitFor('every row written', async () => (await count(tables[0]!)) + (await count(tables[1]!).catch(() => 0)) >= 200);
    await waitFor('the second member to own its share', async () => (await groupAssignment(group, input)).every((a) => a.length === 2));
    t.deepEqual(reports[1]!.map((r) => r.gained.length), [2], `the joining member got two partitions, never the first one's four: ${JSON.stringify(reports)}`);
    t.true(reports[0]!.some((r) => r.kept.length === 2 && r.lost.length === 2), `the first member kept two: ${JSON.stringify(reports[0])}`);
    first.stop();
    second.stop();
    await Promise.all([first.done, second.done]);
  } finally {
    await lock.end().catch(() => {});
    await deleteTopics(input);
    for (const table of tables) await sql(`DROP TABLE IF EXISTS ${table}`);
  }
});
