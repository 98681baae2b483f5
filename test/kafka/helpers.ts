/**
 * Test support for the Kafka connector, against the real broker of
 * `scripts/services start kafka`: unique topics, producing Avro in the
 * Confluent wire format, reading a whole topic back (read_committed or
 * not), and compiling pipeline text.
 */
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { IHeaders, Kafka, KafkaConfig, Message, Producer } from 'kafkajs';
import { avroType } from '../../src/formats/avro-codec.ts';
import { retryRetriable } from '../../connectors/kafka/client.ts';
import { frameHeader } from '../../connectors/kafka/wire-format.ts';
import type { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { kafkaBrokers } from '../support/services.ts';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

/** A client of the broker `SENSEI_KAFKA_BROKERS` names; `config` overrides the defaults (e.g. `retry`). */
export function kafka(config: Partial<KafkaConfig> = {}): Kafka {
  return new KafkaClient({ clientId: 'sensei-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING, ...config });
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Creates topics as [name, partitions, topic configs?] and waits until every partition has a leader. */
export async function createTopics(...topics: [string, number, Record<string, string>?][]): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const configEntries = (configs: Record<string, string> = {}) => Object.entries(configs).map(([name, value]) => ({ name, value }));
    await admin.createTopics({ topics: topics.map(([topic, numPartitions, configs]) => ({ topic, numPartitions, configEntries: configEntries(configs) })), waitForLeaders: false });
    // Wait until every partition has a leader (kafkajs's own wait gives up too early on a busy broker).
    for (let attempt = 0; ; attempt++) {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: topics.map(([t]) => t) });
        if (meta.every((m) => m.partitions.length > 0 && m.partitions.every((p) => p.leader >= 0))) return;
      } catch (e) {
        if (attempt > 100) throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** How many partitions a topic has. */
export async function topicPartitionCount(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(...topics: string[]): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/** An idempotent producer that places keys with Kafka's default (murmur2) partitioner, as Java clients do. */
export function keyedProducer(config: Partial<KafkaConfig> = {}): Producer {
  return kafka(config).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
}

/** Produces with Kafka's default (murmur2) partitioner, in batches, idempotently. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = keyedProducer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 2000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 2000) });
  } finally {
    await producer.disconnect();
  }
}

/** Avro values framed with the id `schema` has under `subject`. */
export async function avroValues(registry: RegistryClient, subject: string, schema: unknown, values: unknown[]): Promise<Buffer[]> {
  const header = frameHeader(await registry.register(subject, schema));
  const type = avroType(schema);
  return values.map((v) => Buffer.concat([header, type.toBuffer(v)]));
}

export interface ReadMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

/**
 * Every record of the topic, partition by partition in offset order: reads
 * until each partition reaches the end offset it has when the call starts.
 */
export async function readTopic(topic: string, options: { readCommitted?: boolean; timeoutMs?: number } = {}): Promise<ReadMessage[]> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const ends = new Map((await retryRetriable(() => admin.fetchTopicOffsets(topic))).map((p) => [p.partition, { low: Number(p.low), high: Number(p.high) }]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, e]) => e.high > e.low).map(([p]) => p));
  const out: ReadMessage[] = [];
  if (pending.size === 0) return out;
  const consumer = client.consumer({ groupId: unique('reader'), readUncommitted: options.readCommitted === false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`readTopic ${topic}: partitions ${[...pending].join(',')} did not reach their end in time`)), options.timeoutMs ?? 60_000);
      const seen = (partition: number, lastOffset: number) => {
        if (lastOffset >= ends.get(partition)!.high - 1) pending.delete(partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => seen(e.payload.partition, Number(e.payload.lastOffset)));
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              if (Number(m.offset) >= ends.get(batch.partition)!.high) continue;
              out.push({ partition: batch.partition, offset: Number(m.offset), key: m.key, value: m.value, headers: m.headers ?? {}, timestamp: m.timestamp });
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The partitions each member of the group has, from the broker. */
export async function groupAssignment(group: string, topic: string): Promise<number[][]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    return (groups[0]?.members ?? []).map((m) => kafkajs.AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []);
  } finally {
    await admin.disconnect();
  }
}

/** Per partition of the topic: the group's committed offset (-1 when none) and the partition's low and end offsets. */
export async function groupOffsets(group: string, topic: string): Promise<{ partition: number; committed: number; low: number; end: number }[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const ends = await retryRetriable(() => admin.fetchTopicOffsets(topic));
    const [committed] = await retryRetriable(() => admin.fetchOffsets({ groupId: group, topics: [topic] }));
    const at = new Map(committed!.partitions.map((p) => [p.partition, Number(p.offset)]));
    return ends.map((p) => ({ partition: p.partition, committed: at.get(p.partition) ?? -1, low: Number(p.low), end: Number(p.high) }));
  } finally {
    await admin.disconnect();
  }
}

/** Records of the topic the group has not committed yet (a partition without a committed offset counts whole). */
export async function groupLag(group: string, topic: string): Promise<number> {
  return (await groupOffsets(group, topic)).reduce((lag, p) => lag + p.end - Math.max(p.committed, p.low), 0);
}
