/**
 * The Kafka sink and dead-letter target.
 *
 * Sink: workers hand over Avro binary of the sink schema (and of the key
 * schema after `key by`); the sink frames it with the registered schema id
 * (Confluent wire format) and sends it through the run's producer
 * (producer.ts: batched, idempotent, transactional for exactly_once). Keys
 * are serialized as Kafka's plain serializers would (or framed Avro) and
 * placed with Kafka's murmur2 partitioner, so they land where a Java
 * producer puts them. Without `key by`, an output record keeps the key of
 * the input record it derives from; its headers and timestamp pass through.
 *
 * Dead-letter target: one message per rejected record. The value is the
 * original record as it was read when the source is Kafka (replayable),
 * else the dead letter as JSON; headers name the error, the operator, and
 * the source topic, partition and offset.
 */
import type avro from 'avsc';
import type { IHeaders, Message } from 'kafkajs';
import { avroType, isNullSchema } from '../../runtime/avro-codec.ts';
import { jsonLineEncoder } from '../../runtime/json-codec.ts';
import { schemaNode, type SchemaNode } from '../../runtime/schema.ts';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter } from '../connector.ts';
import type { Options } from '../connector.ts';
import { keyBytes, murmur2, toPositive } from '../partitioner.ts';
import { kafkaClient, kafkaOptions } from './client.ts';
import type { Compression, ProducerChannel } from './producer.ts';
import { RegistryClient } from './registry-client.ts';
import { KafkaRun, type InputRecord } from './run.ts';
import { subjectName } from './subject.ts';
import { frameHeader, frameRecords } from './wire-format.ts';

export async function openKafkaSink(ctx: SinkContext): Promise<SinkWriter> {
  const o = kafkaOptions(ctx.options);
  const topic = o.string('topic');
  const run = KafkaRun.of(ctx.signal, ctx.pipeline);
  if (o.oneOf('guarantee', ['at_least_once', 'exactly_once'] as const) === 'exactly_once') run.requireExactlyOnce(ctx.options);
  const partitions = await topicPartitions(ctx.options, topic, typeof ctx.options.partitions === 'number' ? ctx.options.partitions : undefined);
  const compression = o.oneOf('compression', ['none', 'gzip'] as const);
  run.sinkOpened();
  if (ctx.role === 'dead-letter') return new DeadLetterSink(run, ctx.options, topic, partitions, compression, ctx.pipeline);

  const format = o.oneOf('format', ['avro', 'json'] as const);
  const schema = ctx.schema!;
  const keySchema = ctx.keySchema ?? 'null';
  const strategy = o.oneOf('subject_strategy', ['topic', 'record', 'topic_record'] as const);
  let valueHeader: Buffer | undefined;
  let keyHeader: Buffer | undefined;
  const keyFormat = o.oneOf('key_format', ['plain', 'avro'] as const);
  if (format === 'avro' || keyFormat === 'avro') {
    const registry = RegistryClient.fromEnvironment(o.optionalString('registry'));
    if (!registry) throw new Error(`kafka sink ${ctx.id}: Avro needs a schema registry (option \`registry\` or SENSEI_SCHEMA_REGISTRY_URL)`);
    const register = o.boolean('register');
    if (format === 'avro') valueHeader = frameHeader(await schemaId(registry, subjectName(strategy, topic, schema), schema, register));
    if (keyFormat === 'avro' && !isNullSchema(keySchema)) keyHeader = frameHeader(await schemaId(registry, subjectName(strategy, topic, keySchema, 'key'), keySchema, register));
  }
  return new KafkaSink(run, ctx.options, {
    topic,
    partitions,
    compression,
    valueHeader,
    json: format === 'json' ? { type: avroType(schema), line: jsonLineEncoder(schemaNode(schema)) } : undefined,
    keyHeader,
    key: isNullSchema(keySchema) ? undefined : { type: avroType(keySchema), node: schemaNode(keySchema) },
    headers: o.oneOf('headers', ['pass', 'none'] as const) === 'pass',
  });
}

async function schemaId(registry: RegistryClient, subject: string, schema: AvroSchemaJson, register: boolean): Promise<number> {
  if (register) return registry.register(subject, schema);
  const id = await registry.lookup(subject, schema);
  if (id === undefined) throw new Error(`kafka: the output schema is not registered under subject ${subject} (and \`register\` is false)`);
  return id;
}

/** The topic's partition count; creates the topic when it is missing and a partition count to create it with is given. */
async function topicPartitions(options: Options, topic: string, create: number | undefined): Promise<number> {
  const admin = kafkaClient(options).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      if (create === undefined) throw new Error(`kafka: topic ${topic} does not exist; create it, or give the sink \`partitions\` to create it`);
      await admin.createTopics({ topics: [{ topic, numPartitions: create }], waitForLeaders: true, timeout: 30_000 });
    }
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

interface SinkSettings {
  topic: string;
  partitions: number;
  compression: Compression;
  valueHeader: Buffer | undefined;
  json: { type: avro.Type; line: (value: unknown) => string } | undefined;
  keyHeader: Buffer | undefined;
  key: { type: avro.Type; node: SchemaNode } | undefined;
  headers: boolean;
}

class KafkaSink implements SinkWriter {
  readonly format = 'avro';
  private channel: Promise<ProducerChannel> | undefined;

  constructor(
    private readonly run: KafkaRun,
    private readonly options: Options,
    private readonly s: SinkSettings,
  ) {}

  async write(batch: EncodedBatch): Promise<void> {
    if (this.run.failure) throw this.run.failure;
    const n = batch.count;
    const values = this.s.json ? jsonValues(this.s.json, batch) : frameRecords(this.s.valueHeader!, batch.data, batch.ends, n);
    const keys = batch.keys && this.s.key ? this.keys(batch.keys.data, batch.keys.ends, n) : undefined;
    const inputs = this.run.sources.get(batch.source)?.records(batch.partition, batch.offsets);
    const messages = new Array<Message>(n);
    const fallback = batch.partition % this.s.partitions;
    for (let i = 0; i < n; i++) {
      const input = inputs?.[i];
      const key = keys ? keys[i]! : input?.key ?? null;
      const m: Message = { key, value: values[i]!, partition: key === null ? fallback : toPositive(murmur2(key)) % this.s.partitions };
      if (input) {
        m.timestamp = input.timestamp;
        if (this.s.headers && input.headers) m.headers = input.headers;
      }
      messages[i] = m;
    }
    this.channel ??= this.run.channel(this.options);
    await (await this.channel).send(this.s.topic, messages, this.s.compression);
  }

  /** Key bytes per record: as Kafka's plain serializers would write the key value, or framed Avro; null for a null key. */
  private keys(data: Uint8Array, ends: Uint32Array, n: number): (Buffer | null)[] {
    const { type, node } = this.s.key!;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const out = new Array<Buffer | null>(n);
    let from = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i]!;
      const value = type.decode(buf, from).value;
      if (value === null) out[i] = null;
      else if (this.s.keyHeader) out[i] = Buffer.concat([this.s.keyHeader, buf.subarray(from, end)]);
      else out[i] = Buffer.from(keyBytes(value, node));
      from = end;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.run.sinkClosed();
  }
}

function jsonValues(json: NonNullable<SinkSettings['json']>, batch: EncodedBatch): Buffer[] {
  const buf = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
  const out = new Array<Buffer>(batch.count);
  let from = 0;
  for (let i = 0; i < batch.count; i++) {
    out[i] = Buffer.from(json.line(json.type.decode(buf, from).value), 'utf8');
    from = batch.ends[i]!;
  }
  return out;
}

class DeadLetterSink implements SinkWriter {
  readonly format = 'json';
  private channel: Promise<ProducerChannel> | undefined;

  constructor(
    private readonly run: KafkaRun,
    private readonly options: Options,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly compression: Compression,
    private readonly pipeline: string,
  ) {}

  async write(batch: EncodedBatch): Promise<void> {
    if (this.run.failure) throw this.run.failure;
    const source = this.run.sources.get(batch.source);
    const inputs: (InputRecord | undefined)[] = source?.records(batch.partition, batch.offsets) ?? [];
    const text = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    const messages: Message[] = [];
    let from = 0;
    for (let i = 0; i < batch.count; i++) {
      const line = text.subarray(from, batch.ends[i]! - 1);
      from = batch.ends[i]!;
      const letter = JSON.parse(line.toString('utf8')) as DeadLetter;
      const input = inputs[i];
      const headers: IHeaders = {
        'sensei.error': letter.reason,
        'sensei.operator': letter.operator,
        'sensei.pipeline': letter.pipeline ?? this.pipeline,
        'sensei.source': letter.source,
        'sensei.source.partition': String(letter.partition),
        'sensei.source.offset': String(letter.offset),
        'sensei.time': letter.time,
        'sensei.value': input ? 'original' : 'dead-letter-json',
      };
      if (source) headers['sensei.source.topic'] = source.topic;
      const key = input?.key ?? null;
      messages.push({
        key,
        value: input ? input.value : Buffer.from(line),
        headers,
        partition: key === null ? Math.max(0, letter.partition) % this.partitions : toPositive(murmur2(key)) % this.partitions,
        ...(input ? { timestamp: input.timestamp } : {}),
      });
    }
    this.channel ??= this.run.channel(this.options);
    await (await this.channel).send(this.topic, messages, this.compression);
  }

  async close(): Promise<void> {
    await this.run.sinkClosed();
  }
}
