// Changelog topics (connectors/kafka/changelog.ts) against the broker. Under
// exactly-once a read gives back only committed entries, and a read that starts at
// a transaction marker (where a log ends after a commit) ends at once, with nothing,
// instead of waiting for a record that never comes. A read waits for a
// transaction another process left open (a process killed mid-transaction)
// and gives back what others committed after it. A task restored from the
// changelogs alone (runtime/coordinator/state-log.ts) covers what the last batch's
// meta entry says: it skips the records up to there, with that batch's event time.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaChangelog } from '../../connectors/kafka/changelog.ts';
import { kafkaClient } from '../../connectors/kafka/client.ts';
import { KafkaRun } from '../../connectors/kafka/run.ts';
import { StateLog } from '../../runtime/coordinator/state-log.ts';
import { newTask, type Source } from '../../runtime/coordinator/tasks.ts';
import type { SourceReader } from '../../src/spi/connector.ts';
import { compilePlan } from '../support/compile.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, unique } from './helpers.ts';

const LOG = 'counts/1:aggregate/groups';

const entry = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) });
const text = (entries: { key: Uint8Array; value: Uint8Array | null }[]) => entries.map((e) => `${Buffer.from(e.key)}=${Buffer.from(e.value!)}`);

/** An exactly-once run of a Kafka-to-Kafka pipeline, with the changelog of its source's group; it commits when the test says so (transaction_interval: 1h). */
async function exactlyOnceChangelog(name: string, partitions: number) {
  const [input, output, group] = [unique(`${name}-in`), unique(`${name}-out`), unique(name)];
  const brokers = kafkaBrokers().join(',');
  const plan = compilePlan(`
pipeline changelog_read
schema Row { id: long }
source rows: Row from kafka { topic: "${input}", brokers: "${brokers}", group: "${group}", format: json }
sink rows to kafka { topic: "${output}", brokers: "${brokers}", format: json, guarantee: exactly_once, transaction_interval: 1h }
`);
  const [source, sink] = [plan.sources[0]!.options, plan.sinks[0]!.options];
  const run = KafkaRun.of(new AbortController().signal, plan.pipeline);
  run.requireExactlyOnce(sink);
  const kafka = kafkaClient(source);
  const admin = kafka.admin();
  await admin.connect();
  const changelog = new KafkaChangelog(kafka, admin, run, source, group, partitions);
  await createTopics([input, partitions], [output, partitions]);
  await changelog.prepare([LOG]);
  const close = async () => {
    await run.sinkClosed();
    await admin.disconnect();
    await deleteTopics(input, output, changelog.topic(LOG));
  };
  return { run, sink, kafka, admin, changelog, close };
}

test.serial('exactly-once changelog: reads hold committed entries only, and a read from the marker after a commit ends at once', async (t) => {
  const { run, sink, admin, changelog, close } = await exactlyOnceChangelog('cl', 2);
  try {
    t.true((await admin.listTopics()).includes(changelog.topic(LOG)), 'the changelog topic is created');

    const next = await changelog.append(LOG, 1, [entry('a', '1'), entry('b', '2')]);
    await run.commit();
    // The transaction coordinator writes the commit marker after the commit returns: wait until it is in the log.
    const end = async () => Number((await admin.fetchTopicOffsets(changelog.topic(LOG))).find((p) => p.partition === 1)!.high);
    while ((await end()) <= next) await sleep(50);
    const fromMarker = await Promise.race([changelog.read(LOG, 1, next), sleep(20_000).then(() => 'still waiting')]);
    t.deepEqual(fromMarker, { entries: [], next: next + 1 }, 'past the commit marker, nothing: the read ends where the log ends');

    await changelog.append(LOG, 1, [entry('c', '3')]);
    await (await run.channel(sink)).abort();
    await changelog.append(LOG, 1, [entry('d', '4')]);
    await run.commit();
    const all = await changelog.read(LOG, 1, 0);
    t.deepEqual(text(all.entries), ['a=1', 'b=2', 'd=4'], 'the aborted entry is not read back');
    t.deepEqual(await changelog.read(LOG, 0, 0), { entries: [], next: 0 }, 'an empty partition reads as empty');
  } finally {
    await close();
  }
});

test.serial('exactly-once changelog: a read waits for a transaction another producer left open, and holds what was committed after it', async (t) => {
  const { run, kafka, changelog, close } = await exactlyOnceChangelog('cl-open', 1);
  // A process that died mid-transaction: its transaction stays open (until the broker's timeout; here, until the test aborts it).
  const dead = kafka.producer({ transactionalId: unique('dead'), idempotent: true, maxInFlightRequests: 1 });
  try {
    await dead.connect();
    const open = await dead.transaction();
    await open.send({ topic: changelog.topic(LOG), messages: [{ partition: 0, key: 'x', value: '9' }] });
    // Another process commits after it (in the group, its offsets now count these entries).
    await changelog.append(LOG, 0, [entry('a', '1')]);
    await run.commit();
    let aborted = false;
    const reading = changelog.read(LOG, 0, 0);
    await sleep(2000);
    aborted = true;
    await open.abort();
    const read = await reading;
    t.true(aborted, 'the read ended only once the open transaction did');
    t.deepEqual(text(read.entries), ['a=1'], 'the entries committed after the open transaction are read, the aborted one is not');
  } finally {
    await dead.disconnect();
    await close();
  }
});

test.serial('a task restored from its changelogs alone covers what the last batch kept: its offset and its event time', async (t) => {
  const [input, output, group] = [unique('cl-restore-in'), unique('cl-restore-out'), unique('cl-restore')];
  const brokers = kafkaBrokers().join(',');
  const plan = compilePlan(`
pipeline changelog_restore
schema Order { country: string, amount: long, at: timestamp_millis }
source orders: Order from kafka { topic: "${input}", brokers: "${brokers}", group: "${group}", format: json } event time at partitioned by country
stream revenue = orders | window tumbling 10s | group by country { orders: count(), revenue: sum(amount) }
sink revenue to kafka { topic: "${output}", brokers: "${brokers}", format: json }
`);
  const options = plan.sources[0]!.options;
  const run = KafkaRun.of(new AbortController().signal, plan.pipeline);
  const kafka = kafkaClient(options);
  const admin = kafka.admin();
  await admin.connect();
  const changelog = new KafkaChangelog(kafka, admin, run, options, group, 1);
  // What the state log asks of a source: its changelogs, and that it resumes where it committed.
  const reader = { partitions: 1, changelog, commit: () => {} } as unknown as SourceReader;
  const source: Source = { plan: plan.sources[0]!, reader, valueType: undefined as never, keyType: undefined, tasks: [], owned: undefined };
  const writer = await StateLog.open(plan, undefined);
  const reader2 = await StateLog.open(plan, undefined);
  const operator = plan.chains[0]!.operators[0]!;
  try {
    await createTopics([input, 1], [output, 1]);
    const writing = newTask(0, source, 0, 0);
    await writer.prepare(writing);
    // Three batches, each keeping its changes (none here) and a meta entry: the offset its state covers and the event time.
    for (const [covered, watermark] of [[9, 1000], [19, 2000], [29, 3000]] as const) {
      const changes = { stores: [{ operator: operator.id, store: operator.stores[0]!.name, keys: [], values: [] }], time: { highest: [watermark], watermark } };
      t.true(await writer.persist(writing, changes, () => Promise.resolve(true), covered));
    }
    // Another process, without a local store, takes the partition.
    const restoring = newTask(0, source, 0, 0);
    const state = await reader2.restore(restoring);
    t.is(restoring.skipThrough, 29, 'the records of all three batches are skipped when read again');
    t.deepEqual(state?.time, { highest: [3000], watermark: 3000 }, 'the event time is the last batch\'s');
  } finally {
    await writer.close();
    await reader2.close();
    await run.sinkClosed();
    await admin.disconnect();
    await deleteTopics(input, output, changelog.topic(`${operator.id}/${operator.stores[0]!.name}`));
  }
});
