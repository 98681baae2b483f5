// Changelog topics (connectors/kafka/changelog.ts) under exactly-once, against the
// broker: a read gives back only committed entries, and a read that starts at a
// transaction marker (where a log ends after a commit) ends at once, with nothing,
// instead of waiting for a record that never comes.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaChangelog } from '../../connectors/kafka/changelog.ts';
import { kafkaClient } from '../../connectors/kafka/client.ts';
import { KafkaRun } from '../../connectors/kafka/run.ts';
import { compilePlan } from '../support/compile.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, unique } from './helpers.ts';

const LOG = 'counts/1:aggregate/groups';

test.serial('exactly-once changelog: reads hold committed entries only, and a read from the marker after a commit ends at once', async (t) => {
  const [input, output, group] = [unique('cl-in'), unique('cl-out'), unique('cl')];
  const brokers = kafkaBrokers().join(',');
  const plan = compilePlan(`
pipeline changelog_read
schema Row { id: long }
source rows: Row from kafka { topic: "${input}", brokers: "${brokers}", group: "${group}", format: json }
sink rows to kafka { topic: "${output}", brokers: "${brokers}", format: json, guarantee: exactly_once }
`);
  const [source, sink] = [plan.sources[0]!.options, plan.sinks[0]!.options];
  const run = KafkaRun.of(new AbortController().signal, plan.pipeline);
  run.requireExactlyOnce(sink);
  const kafka = kafkaClient(source);
  const admin = kafka.admin();
  await admin.connect();
  const changelog = new KafkaChangelog(kafka, admin, run, source, group, 2);
  const entry = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) });
  const text = (entries: { key: Uint8Array; value: Uint8Array | null }[]) => entries.map((e) => `${Buffer.from(e.key)}=${Buffer.from(e.value!)}`);
  try {
    await createTopics([input, 2], [output, 2]);
    await changelog.prepare([LOG]);
    t.true((await admin.listTopics()).includes(changelog.topic(LOG)), 'the changelog topic is created');

    const next = await changelog.append(LOG, 1, [entry('a', '1'), entry('b', '2')]);
    await run.commit();
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
    await run.sinkClosed();
    await admin.disconnect();
    await deleteTopics(input, output, changelog.topic(LOG));
  }
});
