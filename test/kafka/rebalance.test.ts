// Rebalances during a Kafka → Kafka run: the worker pool grows and shrinks, and a second
// `sensei run` process joins the consumer group and leaves it again. Partitions that
// move are drained and committed before they go (rebalance-hook.ts), so nothing is lost,
// nothing is duplicated and every key keeps its order.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { startPipeline } from '../../runtime/index.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, groupAssignment, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { audit, decodeEvents, events, pipelineFile, produceEvents, startSensei, topicSize, waitFor } from './processes.ts';
import { readFileSync } from 'node:fs';
import type { AssignmentChange } from '../../src/spi/connector.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

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
