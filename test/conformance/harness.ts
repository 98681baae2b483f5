/**
 * The connector conformance harness: a table of the connectors under test
 * and what the property tests beside it need of each. A source entry makes
 * fresh input (a unique topic, file, stream or seed) and opens readers over
 * it exactly as the runtime does (`ConnectorRuntime.openSource`); a sink
 * entry opens its writer on a fresh target (unique topic, table, key,
 * file), encodes records in the sink's `format` as the workers would, and
 * reads the target back WITHOUT the connector (kafkajs, pg, ioredis, the
 * file), so a test sees what the server really holds. Everything runs
 * against the real services; the Schema Registry is the test double of
 * test/support/schema-registry.ts.
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type {
  Connector, DeadLetter, EncodedBatch, Options, SinkContext, SinkWriter, SourceBatch, SourceContext, SourceReader, WorkerSinkWriter,
} from '../../src/spi/connector.ts';
import { avroType, RecordEncoder } from '../../src/formats/avro-codec.ts';
import { jsonLineEncoder } from '../../src/formats/json-codec.ts';
import { recordNode, schemaNode } from '../../src/formats/schema.ts';
import { durationMillis } from '../../src/check/options.ts';
import type { ConnectorRole } from '../../src/spi/spec.ts';
import { datagenConnector } from '../../connectors/datagen/datagen.ts';
import { recordGenerator } from '../../connectors/datagen/generate.ts';
import { fileConnector } from '../../connectors/file/file.ts';
import { kafkaConnector } from '../../connectors/kafka/kafka.ts';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { frameHeader, frameId, HEADER_BYTES } from '../../connectors/kafka/wire-format.ts';
import { CopyEncoder } from '../../connectors/postgres/copy-binary.ts';
import { postgresConnector } from '../../connectors/postgres/postgres.ts';
import type { ColumnCodec } from '../../connectors/postgres/types.ts';
import { redisConnector } from '../../connectors/redis/redis.ts';
import { stdinConnector } from '../../connectors/stdin/stdin.ts';
import { stdoutConnector } from '../../connectors/stdout/stdout.ts';
import { createTopics, deleteTopics, produce, readTopic, unique } from '../kafka/helpers.ts';
import { sql } from '../postgres/helpers.ts';
import { startSchemaRegistry, type SchemaRegistryDouble } from '../support/schema-registry.ts';
import { kafkaBrokers, pgUrl, redisUrl } from '../support/services.ts';
import { groupAssignor } from '../../runtime/cluster/assignment.ts';

// ---- records ------------------------------------------------------------------

/** Every connector carries this record: its source partition and its place there, so a read-back can check order. */
export const SCHEMA = {
  type: 'record',
  name: 'Conformance',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'seq', type: 'long' },
    { name: 'note', type: ['null', 'string'] },
  ],
};

export interface Row {
  id: string;
  partition: number;
  seq: number;
  note: string | null;
}

/** Records `from … from + count - 1` of a partition; a random tag keeps one test's records apart from another's. */
export function rows(partition: number, count: number, from = 0, tag = `t${randomInt(1e9)}`): Row[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    return { id: `${tag}-${partition}-${seq}`, partition, seq, note: seq % 3 === 0 ? null : `note ${seq}` };
  });
}

/** A runtime value or decoded record as a plain object (avsc records are class instances). */
export const plain = (value: unknown): Record<string, unknown> => ({ ...(value as Record<string, unknown>) });

/** Rows grouped by their `partition` field, each group in read-back order, as `[partition, rows]` sorted by partition. */
export function byPartition(read: readonly Row[]): [number, Row[]][] {
  const groups = new Map<number, Row[]>();
  for (const r of read) {
    const list = groups.get(r.partition) ?? [];
    list.push(r);
    groups.set(r.partition, list);
  }
  return [...groups].sort(([a], [b]) => a - b);
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms` (a hang fails the test, it does not stall it). */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Options as a compiled plan carries them: the given ones completed with the
 * spec's defaults for the role, durations in milliseconds (what
 * src/check/options.ts does), so connectors are opened as the runtime opens them.
 */
export function planOptions(connector: Connector, role: ConnectorRole, given: Options): Options {
  const options: Options = { ...given };
  for (const o of connector.spec.options) {
    if (o.name in options || o.default === undefined || (o.roles && !o.roles.includes(role))) continue;
    const d = o.default;
    options[o.name] = o.type === 'duration' && typeof d === 'string' ? durationMillis(d) ?? d : o.type === 'string-list' && typeof d === 'string' ? [d] : d;
  }
  return options;
}

// ---- shared services ----------------------------------------------------------

let registryDouble: Promise<SchemaRegistryDouble> | undefined;

/** One Schema Registry double per test process, started on first use. */
export function schemaRegistry(): Promise<SchemaRegistryDouble> {
  return (registryDouble ??= startSchemaRegistry());
}

/** Stops what the harness started for the whole process (call from `test.after.always`). */
export async function shutdown(): Promise<void> {
  const started = registryDouble;
  registryDouble = undefined;
  if (started) await (await started).close();
}

// ---- sources ------------------------------------------------------------------

/**
 * How a reopened reader continues:
 * - `committed`: `commit` is durable (a consumer group); a new reader resumes after the committed offset.
 * - `replay`: no durable positions; every reader starts again at the first record (`why`).
 * - `none`: the input can be read once; there is nothing to resume or redeliver (`why`).
 */
export type Positions = { kind: 'committed' } | { kind: 'replay'; why: string } | { kind: 'none'; why: string };

export interface SourceInput {
  readonly partitions: number;
  /** What each partition must deliver, in order (runtime values of SCHEMA). */
  readonly expected: unknown[][];
  /** Records the source sent to its dead-letter target, over every reader of this input. */
  readonly letters: Omit<DeadLetter, 'pipeline' | 'source' | 'time'>[];
  /** A new reader over this input (the same consumer group for Kafka); `signal` is its run's. */
  open(signal: AbortSignal): Promise<SourceReader>;
  cleanup(): Promise<void>;
}

export interface SourceUnderTest {
  name: string;
  positions: Positions;
  /** Whether a partition ends (`read` resolves undefined) once its input is read. */
  bounded: boolean;
  /** Fresh input of `perPartition` records in each partition (the entry picks how many partitions). */
  input(perPartition: number): Promise<SourceInput>;
  /** Input on which a read waits (nothing available yet), or why a read of this source never waits. */
  idle: (() => Promise<SourceInput>) | string;
}

function sourceContext(connector: Connector, options: Options, signal: AbortSignal, letters: SourceInput['letters']): SourceContext {
  return {
    pipeline: 'conformance', name: 'in', options: planOptions(connector, 'source', options), schema: SCHEMA, keySchema: 'null', signal,
    reject: async (letter) => void letters.push(letter),
    // What a run hands every source: the runtime's group assignor (the Kafka group leader uses it).
    assignor: groupAssignor,
  };
}

/** The values of a batch, decoded when the source handed them over Avro-encoded. */
export function valuesOf(batch: SourceBatch): Record<string, unknown>[] {
  if (batch.values) return batch.values.map(plain);
  const type = avroType(SCHEMA);
  return (batch.encoded ?? []).map((bytes) => plain(type.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))));
}

/** Reads a partition until `count` records came (or it ended), `max` at a time. */
export async function drain(reader: SourceReader, partition: number, count: number, max: number): Promise<SourceBatch[]> {
  const batches: SourceBatch[] = [];
  let got = 0;
  while (got < count) {
    const batch = await reader.read(partition, Math.min(max, count - got));
    if (!batch) break;
    batches.push(batch);
    got += batch.offsets.length;
  }
  return batches;
}

const kafkaSource: SourceUnderTest = {
  name: 'kafka',
  positions: { kind: 'committed' },
  bounded: false,
  async input(perPartition) {
    const partitions = 3;
    const topic = unique('conformance-in');
    const group = unique('conformance-g');
    const registry = await schemaRegistry();
    await createTopics([topic, partitions]);
    const expected = Array.from({ length: partitions }, (_, p) => rows(p, perPartition));
    // Avro in the Confluent wire format, as a Java producer with the registry's serializer writes it.
    const header = frameHeader(await new RegistryClient(registry.url).register(`${topic}-value`, SCHEMA));
    const type = avroType(SCHEMA);
    if (perPartition > 0) await produce(topic, expected.flatMap((list, p) => list.map((r) => ({ partition: p, key: null, value: Buffer.concat([header, type.toBuffer(r)]) }))));
    const letters: SourceInput['letters'] = [];
    const options = { topic, brokers: kafkaBrokers(), registry: registry.url, group, format: 'avro' };
    return {
      partitions, expected, letters,
      open: (signal) => kafkaConnector.runtime.openSource!(sourceContext(kafkaConnector, options, signal, letters)),
      cleanup: () => deleteTopics(topic),
    };
  },
  idle: () => kafkaSource.input(0),
};

/** A JSON-lines file of these lines, read over `partitions` with the given source options. */
async function fileInput(lines: readonly unknown[], partitions: number, expected: unknown[][], options: Options = {}): Promise<SourceInput> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-conformance-'));
  const path = join(dir, 'in.jsonl');
  await writeFile(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  const letters: SourceInput['letters'] = [];
  return {
    partitions, expected, letters,
    open: (signal) => fileConnector.runtime.openSource!(sourceContext(fileConnector, { path, partitions, ...options }, signal, letters)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const fileSource: SourceUnderTest = {
  name: 'file',
  positions: { kind: 'replay', why: 'commit is not implemented: every reader reads the file from its first line; exactly-once sinks store the offsets, line numbers, and skip what they hold' },
  bounded: true,
  async input(perPartition) {
    const partitions = 3;
    const expected = Array.from({ length: partitions }, (_, p) => rows(p, perPartition));
    // Without a key the file source deals lines round robin: line i goes to partition i mod partitions.
    const lines = Array.from({ length: partitions * perPartition }, (_, i) => expected[i % partitions]![Math.floor(i / partitions)]);
    return fileInput(lines, partitions, expected);
  },
  // Keyed by `partition`, whose value 2 hashes to partition 1 of 2: more lines than the source queues in
  // all (16k) go there, so the reading waits for partition 1 and a read of partition 0 finds nothing.
  idle: async () => {
    const lines = rows(2, 20_000);
    return fileInput(lines, 2, [[], lines], { key: 'partition' });
  },
};

/** Datagen over SCHEMA: record i of the seed's sequence goes to partition i mod partitions (no key). */
function datagenInput(options: { partitions: number; count: number; rate: number }): SourceInput {
  const seed = randomInt(1e6);
  const generator = recordGenerator(recordNode(SCHEMA), seed);
  // The expectation comes from the generator (the pure function of seed and index), not from a reader.
  const expected = Array.from({ length: options.partitions }, (_, p) => {
    const out: unknown[] = [];
    for (let i = p; i < options.count; i += options.partitions) out.push(plain(generator.record(i)));
    return out;
  });
  const letters: SourceInput['letters'] = [];
  return {
    partitions: options.partitions, expected, letters,
    open: (signal) => datagenConnector.runtime.openSource!(sourceContext(datagenConnector, { ...options, seed }, signal, letters)),
    cleanup: async () => {},
  };
}

const datagenSource: SourceUnderTest = {
  name: 'datagen',
  positions: { kind: 'replay', why: 'records are a pure function of seed and index and commit is not implemented: every reader regenerates from the first record' },
  bounded: true,
  input: async (perPartition) => datagenInput({ partitions: 3, count: 3 * perPartition, rate: 0 }),
  // One record a second, unbounded: the first read waits about a second.
  idle: async () => datagenInput({ partitions: 1, count: 0, rate: 1 }),
};

/** Stdin over an injected stream, as test/connectors/file.test.ts drives it. */
function stdinInput(stream: () => PassThrough, expected: Row[]): SourceInput {
  const letters: SourceInput['letters'] = [];
  return {
    partitions: 1, expected: [expected], letters,
    open(signal) {
      const connector = stdinConnector(stream);
      return connector.runtime.openSource!(sourceContext(connector, {}, signal, letters));
    },
    cleanup: async () => {},
  };
}

const stdinSource: SourceUnderTest = {
  name: 'stdin',
  positions: { kind: 'none', why: 'a stream is read once; a reader after a crash has a new stream and nothing to resume' },
  bounded: true,
  async input(perPartition) {
    const expected = rows(0, perPartition);
    return stdinInput(() => {
      const stream = new PassThrough();
      stream.end(expected.map((r) => `${JSON.stringify(r)}\n`).join(''));
      return stream;
    }, expected);
  },
  // A stream that stays open and never sends a line.
  idle: async () => stdinInput(() => new PassThrough(), []),
};

export const sources: readonly SourceUnderTest[] = [kafkaSource, fileSource, datagenSource, stdinSource];

// ---- sinks --------------------------------------------------------------------

/** A fresh target of a sink: the connector to open, its options, and an independent read-back. */
export interface SinkTarget {
  connector: Connector;
  options: Options;
  /** What the target holds, read without the connector, in the order the target applied it. */
  readBack(): Promise<Row[]>;
  cleanup(): Promise<void>;
}

export interface SinkUnderTest {
  name: string;
  /** The format the sink asks its records in (`SinkWriter.format`); the harness encodes in it as the workers would. */
  format: 'json' | 'avro' | 'pg-binary';
  target(pipeline: string): Promise<SinkTarget>;
}

export interface OpenedSink {
  writer: SinkWriter;
  /** The workers' writer, for a sink written from the workers (`SinkWriter.inWorkers`). */
  workerWriter: WorkerSinkWriter | undefined;
  /** Records the sink sent to the dead-letter target. */
  letters: DeadLetter[];
  /** Writes records of one source partition as one runtime batch; offsets are consecutive from `from`. */
  write(records: Row[], at: { partition: number; from: number }): Promise<void>;
  readBack(): Promise<Row[]>;
  /** Closes the workers' writer (if any), then the sink. */
  close(): Promise<void>;
  /** Closes, then removes the target. */
  cleanup(): Promise<void>;
}

type BatchEncoder = (records: Row[]) => { data: Uint8Array; ends: Uint32Array };

/** Encodes as the workers do for each format (runtime/worker/batch.ts); bytes are copied out of the encoders' scratch buffers. */
function encoderFor(format: SinkUnderTest['format'], writer: SinkWriter): BatchEncoder {
  if (format === 'json') {
    const line = jsonLineEncoder(schemaNode(SCHEMA));
    const encoder = new RecordEncoder();
    return (records) => {
      const r = encoder.encodeLines(records.map(line));
      return { data: new Uint8Array(encoder.bytes()), ends: r.ends.slice() };
    };
  }
  if (format === 'avro') {
    const type = avroType(SCHEMA);
    const encoder = new RecordEncoder();
    return (records) => {
      const r = encoder.encode(type, records);
      return { data: new Uint8Array(encoder.bytes()), ends: r.ends.slice() };
    };
  }
  // pg-binary: COPY tuples with the column codecs the sink matched against the table.
  const encoder = new CopyEncoder(recordNode(SCHEMA), writer.formatOptions as unknown as ColumnCodec[]);
  return (records) => {
    const r = encoder.encode(records);
    return { data: new Uint8Array(encoder.bytes()), ends: r.ends.slice() };
  };
}

export async function openSink(entry: SinkUnderTest): Promise<OpenedSink> {
  const pipeline = unique('conformance').replace('-', '_');
  const target = await entry.target(pipeline);
  const letters: DeadLetter[] = [];
  const ctx: SinkContext = {
    pipeline, id: 'sink:out:0', role: 'sink', options: planOptions(target.connector, 'sink', target.options), schema: SCHEMA, keySchema: 'null',
    signal: new AbortController().signal,
    reject: async (l) => void letters.push(...l),
  };
  const writer = await target.connector.runtime.openSink!(ctx);
  if (writer.format !== entry.format) {
    await writer.close();
    await target.cleanup();
    throw new Error(`${entry.name} sink: asks for format ${writer.format}, the table says ${entry.format}`);
  }
  const workerWriter = writer.inWorkers === undefined
    ? undefined
    : await target.connector.runtime.openWorkerSink!({ pipeline, id: ctx.id, setup: writer.inWorkers, schema: SCHEMA, keySchema: 'null' });
  const encode = encoderFor(entry.format, writer);
  let closed: Promise<void> | undefined;
  const close = async () => {
    await workerWriter?.close();
    await writer.close();
  };
  return {
    writer, workerWriter, letters,
    write(records, at) {
      const { data, ends } = encode(records);
      const offsets = Float64Array.from(records, (_, i) => at.from + i);
      const batch: EncodedBatch = { source: 'in', partition: at.partition, count: ends.length, data, ends, offsets };
      return workerWriter ? workerWriter.write(batch, { offsets, timestamps: offsets.map(() => Date.now()) }) : writer.write(batch);
    },
    readBack: () => target.readBack(),
    close,
    async cleanup() {
      closed ??= close().catch(() => {});
      await closed;
      await target.cleanup();
    },
  };
}

/** A stream collecting what is written to it (the stdout sink's injected output). */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(Buffer.from(chunk)); done(); } });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const jsonLines = (text: string): Row[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);

const fileSink: SinkUnderTest = {
  name: 'file',
  format: 'json',
  async target() {
    const dir = await mkdtemp(join(tmpdir(), 'sensei-conformance-'));
    const path = join(dir, 'out.jsonl');
    return {
      connector: fileConnector,
      options: { path },
      readBack: async () => jsonLines(await readFile(path, 'utf8')),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

const stdoutSink: SinkUnderTest = {
  name: 'stdout',
  format: 'json',
  async target() {
    const out = collector();
    // The default order (arrival): `order: partition` holds everything until close by design.
    return { connector: stdoutConnector(() => out.stream), options: {}, readBack: async () => jsonLines(out.text()), cleanup: async () => {} };
  },
};

const kafkaSink: SinkUnderTest = {
  name: 'kafka',
  format: 'avro',
  async target() {
    const topic = unique('conformance-out');
    const registry = await schemaRegistry();
    // Source partition p lands in Kafka partition p (records without a key keep their partition).
    await createTopics([topic, 3]);
    const type = avroType(SCHEMA);
    return {
      connector: kafkaConnector,
      // at_least_once (the default): the workers write; exactly_once records only show once the transaction commits.
      options: { topic, brokers: kafkaBrokers(), registry: registry.url, format: 'avro' },
      async readBack() {
        return (await readTopic(topic, { timeoutMs: 20_000 })).map((m) => {
          const id = frameId(m.value!);
          if (typeof id !== 'number') throw new Error(`${topic}/${m.partition}@${m.offset}: ${id.error}`);
          return plain(type.decode(m.value!, HEADER_BYTES).value) as unknown as Row;
        });
      },
      cleanup: () => deleteTopics(topic),
    };
  },
};

const postgresSink: SinkUnderTest = {
  name: 'postgres',
  format: 'pg-binary',
  async target(pipeline) {
    const table = unique('conformance').replace('-', '_');
    // `applied` numbers rows as the server inserts them: ORDER BY it is the order the sink applied its writes.
    await sql(`CREATE TABLE ${table} (id text NOT NULL, "partition" integer NOT NULL, seq bigint NOT NULL, note text, applied bigint GENERATED ALWAYS AS IDENTITY)`);
    return {
      connector: postgresConnector,
      options: { url: pgUrl(), table },
      async readBack() {
        const found = await sql<{ id: string; partition: number; seq: string; note: string | null }>(`SELECT id, "partition", seq, note FROM ${table} ORDER BY applied`);
        return found.map((r) => ({ id: r.id, partition: r.partition, seq: Number(r.seq), note: r.note }));
      },
      async cleanup() {
        await sql(`DROP TABLE IF EXISTS ${table}`);
        await sql('DELETE FROM sensei_offsets WHERE pipeline = $1', [pipeline]).catch(() => {});
      },
    };
  },
};

const redisSink: SinkUnderTest = {
  name: 'redis',
  format: 'json',
  async target() {
    const stream = `${unique('conformance')}:rows`;
    const redis = new Redis(redisUrl());
    return {
      connector: redisConnector,
      // XADD: a stream keeps every record in the order Redis applied them.
      options: { url: redisUrl(), command: 'xadd', key: stream },
      async readBack() {
        return (await redis.xrange(stream, '-', '+')).map(([, flat]) => {
          const fields = new Map<string, string>();
          for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
          // XADD leaves null fields out.
          return { id: fields.get('id')!, partition: Number(fields.get('partition')), seq: Number(fields.get('seq')), note: fields.get('note') ?? null };
        });
      },
      async cleanup() {
        await redis.del(stream);
        redis.disconnect();
      },
    };
  },
};

export const sinks: readonly SinkUnderTest[] = [fileSink, stdoutSink, kafkaSink, postgresSink, redisSink];
