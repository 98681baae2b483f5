// Sink and source options on the real broker: subject strategies, Avro keys, gzip, JSON,
// topic creation, and where a source starts.
import test from 'ava';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { toPositive } from '../../src/formats/partitioner.ts';
import { murmur2 } from '../../src/formats/murmur2.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { kafkaBrokers } from '../support/services.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, kafka, produce, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

const brokers = () => kafkaBrokers().join(',');

test('sink: record and topic-record subjects, Avro keys placed by the hash of their bytes, gzip, a created topic', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [byRecord, byTopicRecord] = [unique('subjects-a'), unique('subjects-b')];
  try {
    const plan = compilePlan(`
pipeline subjects
schema Order { id: string, customer: string, amount: long }
source orders: Order from datagen { count: 300, seed: 5, partitions: 3 }
stream out = orders | select { id, customer, amount } | key by customer
sink out to kafka { topic: "${byRecord}", brokers: "${brokers()}", registry: "${registry.url}", subject_strategy: record, key_format: avro, compression: gzip, partitions: 4 }
sink out to kafka { topic: "${byTopicRecord}", brokers: "${brokers()}", registry: "${registry.url}", subject_strategy: topic_record, partitions: 2 }
`);
    await runPipeline(plan, { env: builtinEnvironment(), workers: 1 });
    const subjects = await (await fetch(`${registry.url}/subjects`)).json() as string[];
    t.true(subjects.includes('Out'), subjects.join());
    t.true(subjects.includes('string'), 'the key schema under its own (record strategy) subject: ' + subjects.join());
    t.true(subjects.includes(`${byTopicRecord}-Out`), subjects.join());

    const a = await readTopic(byRecord);
    t.is(a.length, 300);
    const keyId = (await client.latest('string'))?.id;
    for (const m of a) {
      t.is(m.key![0], 0, 'framed key');
      t.is(m.key!.readInt32BE(1), keyId!);
      t.is(m.partition, toPositive(murmur2(m.key!)) % 4);
      const v = avroType(await client.schemaById(m.value!.readInt32BE(1))).fromBuffer(m.value!.subarray(5)) as { customer: string };
      t.is(avroType('string').fromBuffer(m.key!.subarray(5)), v.customer);
    }
    const b = await readTopic(byTopicRecord);
    t.is(b.length, 300);
    for (const m of b) t.is(m.partition, toPositive(murmur2(m.key!)) % 2, 'plain string keys hash like StringSerializer bytes');
  } finally {
    await deleteTopics(byRecord, byTopicRecord);
    await registry.close();
  }
});

test('source: committed (with reset), earliest, latest and timestamp starts', async (t) => {
  const [input, group] = [unique('starts'), unique('starts-g')];
  const outputs: string[] = [];
  try {
    await createTopics([input, 2]);
    const at = Date.UTC(2024, 0, 1);
    await produce(input, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }), timestamp: String(at + i * 1000) })));
    const run = async (start: string, extra = '') => {
      const output = unique('starts-out');
      outputs.push(output);
      await createTopics([output, 1]);
      await runPipeline(compilePlan(`
pipeline starts
schema E { n: long }
source e: E from kafka { topic: "${input}", brokers: "${brokers()}", format: json, group: "${group}", bounded: true, start: "${start}"${extra} }
stream out = e | select { n }
sink out to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`), { env: builtinEnvironment(), workers: 1 });
      return (await readTopic(output)).map((m) => JSON.parse(m.value!.toString()).n as number).sort((x, y) => x - y);
    };
    const all = Array.from({ length: 20 }, (_, i) => i);
    t.deepEqual(await run('committed', ', reset: latest'), [], 'no committed offsets, reset to the end');
    t.deepEqual(await run('earliest'), all, 'earliest ignores the group\'s offsets');
    t.deepEqual(await run('committed'), [], 'the group committed everything');
    t.deepEqual(await run('latest'), []);
    t.deepEqual(await run(new Date(at + 15_000).toISOString()), [15, 16, 17, 18, 19]);
    // A group with nothing committed starts from the beginning by default.
    const fresh = unique('starts-fresh');
    const output = unique('starts-out');
    outputs.push(output);
    await createTopics([output, 1]);
    await runPipeline(compilePlan(`
pipeline starts
schema E { n: long }
source e: E from kafka { topic: "${input}", brokers: "${brokers()}", format: json, group: "${fresh}", bounded: true }
stream out = e | select { n }
sink out to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`), { env: builtinEnvironment(), workers: 1 });
    t.is((await readTopic(output)).length, 20);
    const admin = kafka().admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: fresh, topics: [input] });
    await admin.disconnect();
    t.is(offsets!.partitions.reduce((a, p) => a + Number(p.offset), 0), 20, 'offsets committed to the end');
  } finally {
    await deleteTopics(input, ...outputs);
  }
});
