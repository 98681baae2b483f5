/**
 * The Kafka sink and dead-letter target.
 *
 * Sink: workers hand over Avro binary of the sink schema (and of the key
 * schema after `key by`); messages.ts frames it with the registered schema
 * id and places it by key. At-least-once sinks write from the workers, a
 * producer per worker (worker-sink.ts): kafkajs's record encoding costs
 * microseconds per record, and one thread doing it for every worker would
 * cap the pipeline. Exactly-once sinks write here, through the run's
 * transactional producer (producer.ts, run.ts), whose transactions also
 * commit the sources' offsets.
 *
 * Dead-letter target: one message per rejected record. The value is the
 * original record as it was read when the source is Kafka (replayable),
 * else the dead letter as JSON; headers name the error, the operator, and
 * the source topic, partition and offset.
 */
import type { IHeaders, Message } from 'kafkajs';
import { isNullSchema } from '../../src/formats/avro-codec.ts';
import type { AvroSchemaJson } from '../../src/plan/plan.ts';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter } from '../../src/spi/connector.ts';
import type { Options } from '../../src/spi/connector.ts';
import { kafkaPartition } from '../../src/formats/partitioner.ts';
import { kafkaClient, kafkaOptions, retryRetriable } from './client.ts';
import { COMPRESSIONS, type Compression } from './compression.ts';
import { MessageBuilder, setupConstant, type SinkSetup } from './messages.ts';
import { messageBytes, type ProducerChannel } from './producer.ts';
import { RegistryClient } from './registry-client.ts';
import { KafkaRun, type InputRecord } from './run.ts';
import { subjectName } from './subject.ts';
import { parseJsonValue } from '../../src/formats/json-text.ts';

export async function openKafkaSink(ctx: SinkContext): Promise<SinkWriter> {
  const o = kafkaOptions(ctx.options);
  const topic = o.string('topic');
  const run = KafkaRun.of(ctx.signal, ctx.pipeline);
  const exactlyOnce = o.oneOf('guarantee', ['at_least_once', 'exactly_once'] as const) === 'exactly_once';
  if (exactlyOnce) run.requireExactlyOnce(ctx.options);
  const partitions = await topicPartitions(ctx.options, topic, typeof ctx.options.partitions === 'number' ? ctx.options.partitions : undefined);
  const compression = o.oneOf('compression', COMPRESSIONS);
  run.sinkOpened();
  if (ctx.role === 'dead-letter') return new DeadLetterSink(run, ctx.options, topic, partitions, compression, ctx.pipeline);

  const format = o.oneOf('format', ['avro', 'json', 'exchange'] as const);
  const schema = ctx.schema!;
  const keySchema = ctx.keySchema ?? 'null';
  const strategy = o.oneOf('subject_strategy', ['topic', 'record', 'topic_record'] as const);
  const setup: SinkSetup = { options: ctx.options, topic, partitions, compression, format, headers: format !== 'exchange' && o.oneOf('headers', ['pass', 'none'] as const) === 'pass' };
  const wanted = typeof ctx.options.partitions === 'number' ? ctx.options.partitions : undefined;
  if (format === 'exchange' && partitions !== wanted) throw new Error(`kafka: the repartition topic ${topic} has ${partitions} partitions and its source ${wanted}: they must have as many (add partitions to the smaller one)`);
  const keyFormat = o.oneOf('key_format', ['plain', 'avro'] as const);
  if (format === 'avro' || keyFormat === 'avro') {
    const registry = RegistryClient.fromEnvironment(o.optionalString('registry'));
    if (!registry) throw new Error(`kafka sink ${ctx.id}: Avro needs a schema registry (option \`registry\` or SENSEI_SCHEMA_REGISTRY_URL)`);
    const register = o.boolean('register');
    if (format === 'avro') setup.valueId = await schemaId(registry, subjectName(strategy, topic, schema), schema, register);
    if (keyFormat === 'avro' && !isNullSchema(keySchema)) setup.keyId = await schemaId(registry, subjectName(strategy, topic, keySchema, 'key'), keySchema, register);
  }
  if (!exactlyOnce) return new WorkerWrittenSink(run, setup);
  return new KafkaSink(run, ctx.options, new MessageBuilder(setup, schema, keySchema));
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
      // kafkajs's own leader wait gives up when the new topic is still unknown to the broker's metadata,
      // so it is off; the wait below also outlasts that moment.
      await admin.createTopics({ topics: [{ topic, numPartitions: create }], timeout: 30_000, waitForLeaders: false });
    }
    // A topic just created is unknown to the broker's metadata, then leaderless, for a moment:
    // ask until every partition has a leader.
    return await retryRetriable(async () => {
      const { partitions } = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!;
      if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) throw Object.assign(new Error(`kafka: topic ${topic} has partitions without a leader`), { retriable: true });
      return partitions.length;
    });
  } finally {
    await admin.disconnect();
  }
}

/** At-least-once: the workers write (worker-sink.ts); here the sink is only prepared. */
class WorkerWrittenSink implements SinkWriter {
  readonly format = 'avro';
  readonly inWorkers;

  constructor(
    private readonly run: KafkaRun,
    setup: SinkSetup,
  ) {
    this.inWorkers = setupConstant(setup);
  }

  async write(): Promise<void> {
    throw new Error('kafka: an at-least-once sink is written by the workers');
  }

  async close(): Promise<void> {
    await this.run.sinkClosed();
  }
}

/** A sink writing through the run's producer (transactional for exactly_once), made on first use. */
abstract class RunProducerSink implements SinkWriter {
  abstract readonly format: 'avro' | 'json';
  private channel: Promise<ProducerChannel> | undefined;

  constructor(
    protected readonly run: KafkaRun,
    private readonly options: Options,
  ) {}

  abstract write(batch: EncodedBatch): Promise<void>;

  protected async send(topic: string, messages: Message[], compression: Compression): Promise<void> {
    this.channel ??= this.run.channel(this.options);
    await (await this.channel).send(topic, messages, compression);
  }

  async close(): Promise<void> {
    await this.run.sinkClosed();
  }
}

/** Exactly-once: writes through the run's transactional producer. */
class KafkaSink extends RunProducerSink {
  readonly format = 'avro';

  constructor(
    run: KafkaRun,
    options: Options,
    private readonly builder: MessageBuilder,
  ) {
    super(run, options);
  }

  async write(batch: EncodedBatch): Promise<void> {
    if (this.run.failure) throw this.run.failure;
    const messages = this.builder.messages(batch, this.run.sources.get(batch.source)?.records(batch.partition, batch.offsets));
    await this.send(this.builder.setup.topic, messages, this.builder.setup.compression);
  }
}

/** Room a record batch's own header takes in a request (Kafka's record batch header is 61 bytes). */
const BATCH_HEADER = 100;

class DeadLetterSink extends RunProducerSink {
  readonly format = 'json';
  /** Largest dead letter the target takes; a larger one is cut to this, with headers saying so. */
  private readonly maxLetterBytes: number;

  constructor(
    run: KafkaRun,
    options: Options,
    private readonly topic: string,
    private readonly partitions: number,
    private readonly compression: Compression,
    private readonly pipeline: string,
  ) {
    super(run, options);
    this.maxLetterBytes = kafkaOptions(options).number('batch_bytes') - BATCH_HEADER;
  }

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
      const letter = parseJsonValue(line.toString('utf8'), true) as DeadLetter;
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
      const message: Message = {
        key,
        value: input ? input.value : Buffer.from(line),
        headers,
        partition: kafkaPartition(key, this.partitions, Math.max(0, letter.partition) % this.partitions),
        ...(input ? { timestamp: input.timestamp } : {}),
      };
      messages.push(this.fitted(message));
    }
    await this.send(this.topic, messages, this.compression);
  }

  /** A dead letter too large for the target keeps its headers and the start of its value; `sensei.value.bytes` gives the original size. */
  private fitted(message: Message): Message {
    const excess = messageBytes(message) - this.maxLetterBytes;
    if (excess <= 0) return message;
    const value = message.value as Buffer | null;
    const headers = { ...(message.headers as IHeaders), 'sensei.value': 'truncated', 'sensei.value.bytes': String(value?.length ?? 0) };
    const room = this.maxLetterBytes - messageBytes({ ...message, value: null, headers });
    return { ...message, headers, value: value && room > 0 ? value.subarray(0, room) : null };
  }
}
