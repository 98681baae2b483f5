// Talks to the real broker from `scripts/services start kafka` (or SENSEI_KAFKA_BROKERS).
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import kafkajs from 'kafkajs';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { kafkaBrokers } from '../support/services.ts';

const { Kafka, Partitioners, logLevel } = kafkajs;

function client(): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'sensei-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

// Runs `consumer` until `count` messages arrived; rejects if the consumer crashes for good.
function consume(consumer: Consumer, count: number, onMessage?: (p: EachMessagePayload) => Promise<void>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const values: string[] = [];
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) reject(event.payload.error);
    });
    consumer
      .run({
        autoCommit: false,
        eachMessage: async (payload) => {
          await onMessage?.(payload);
          values.push(payload.message.value?.toString() ?? '');
          if (values.length === count) resolve(values);
        },
      })
      .catch(reject);
  });
}

test('creates a topic, produces, consumes in a group and commits offsets', async (t) => {
  const kafka = client();
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const topic = unique('orders');
  const groupId = unique('group');
  const consumer = kafka.consumer({ groupId });
  await admin.connect();
  try {
    // No waitForLeaders: kafkajs gives up when the new topic is not in the metadata yet; the producer retries until it is.
    t.true(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: false }));
    // The broker's metadata, which listTopics reads, may take a moment to show a topic just created.
    let listed = false;
    for (let attempt = 0; attempt < 50 && !listed; attempt++) {
      listed = (await admin.listTopics()).includes(topic);
      if (!listed) await new Promise((r) => setTimeout(r, 100));
    }
    t.true(listed, 'the topic is listed');

    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'a', value: 'one', partition: 0 },
        { key: 'b', value: 'two', partition: 0 },
        { key: 'c', value: 'three', partition: 1 },
      ],
    });

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const values = await consume(consumer, 3, async ({ topic: tp, partition, message }) => {
      await consumer.commitOffsets([{ topic: tp, partition, offset: String(Number(message.offset) + 1) }]);
    });
    t.deepEqual([...values].sort(), ['one', 'three', 'two']);
    await consumer.disconnect();

    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = Object.fromEntries(committed!.partitions.map((p) => [p.partition, p.offset]));
    t.deepEqual(byPartition, { 0: '2', 1: '1' });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test('transactions: read_committed consumers see committed records only', async (t) => {
  const kafka = client();
  const admin = kafka.admin();
  const topic = unique('tx');
  const producer = kafka.producer({ transactionalId: unique('txid'), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: unique('rc'), readUncommitted: false });
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'kept' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'dropped' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ value: 'kept too' }] });
    await last.commit();

    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    t.deepEqual(await consume(consumer, 2), ['kept', 'kept too']);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

// Sends ApiVersions v0 (always supported) and returns the broker's [min, max] per API key.
async function brokerApiVersions(broker: string): Promise<Map<number, [number, number]>> {
  const [host, port] = broker.split(':') as [string, string];
  const clientId = Buffer.from('sensei-test');
  const body = Buffer.alloc(10 + clientId.length);
  body.writeInt16BE(18, 0); // api key ApiVersions
  body.writeInt16BE(0, 2); // version
  body.writeInt32BE(1, 4); // correlation id
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  const response = await new Promise<Buffer>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const socket = net.connect(Number(port), host, () => socket.write(Buffer.concat([size, body])));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        resolve(received.subarray(4));
      }
    });
  });
  // correlation id (4), error code (2), array length (4), then (key, min, max) int16 triples
  const versions = new Map<number, [number, number]>();
  const count = response.readInt32BE(6);
  for (let i = 0; i < count; i++) {
    const at = 10 + i * 6;
    versions.set(response.readInt16BE(at), [response.readInt16BE(at + 2), response.readInt16BE(at + 4)]);
  }
  return versions;
}

// kafkajs picks min(its newest version, broker max) without checking the broker's
// minimum, so an API breaks once a broker drops every version kafkajs speaks (KIP-896).
test('every API kafkajs implements has a version this broker still accepts (KIP-896)', async (t) => {
  const require = createRequire(import.meta.url);
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;
  const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
  const broker = await brokerApiVersions(kafkaBrokers()[0]!);
  const unusable: string[] = [];
  for (const [name, key] of Object.entries(apiKeys)) {
    const implemented = requests[name]?.versions.map(Number) ?? [];
    const range = broker.get(key);
    if (implemented.length === 0) continue;
    if (range === undefined) {
      unusable.push(`${name} (key ${key}): not offered by the broker`);
      continue;
    }
    const chosen = Math.min(Math.max(...implemented), range[1]);
    if (chosen < range[0]) unusable.push(`${name} (key ${key}): kafkajs v${chosen}, broker v${range[0]}-${range[1]}`);
  }
  t.true(broker.size > 0);
  t.deepEqual(unusable, []);
});
