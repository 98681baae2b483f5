/**
 * The Kafka section of `npm run bench` (needs `scripts/services start
 * kafka`): Kafka → Kafka throughput of the benchmark pipeline (decode Avro
 * from the registry's wire format → where → select → encode → produce) on
 * the local broker, against a hand-written kafkajs consume → decode → map →
 * encode → produce loop over the same input topic in the same run; and the
 * pause a process joining the consumer group causes on the partitions that
 * stay with the others.
 *
 *   npx tsx bench/kafka.ts [--quick]     this section alone
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import kafkajs from 'kafkajs';
import type { Consumer, EachBatchHandler, Kafka, Message, Producer } from 'kafkajs';
import { RegistryClient } from '../connectors/kafka/registry-client.ts';
import { fastProduceRequestInUse } from '../connectors/kafka/produce-request.ts';
import type { AssignmentChange } from '../src/spi/connector.ts';
import { frameHeader } from '../connectors/kafka/wire-format.ts';
import { builtinConnectorSpecs, builtinEnvironment } from '../connectors/registry.ts';
import { avroType } from '../src/formats/avro-codec.ts';
import { startPipeline, type PipelineEvent } from '../runtime/index.ts';
import { compile } from '../src/compile.ts';
import type { Plan } from '../src/plan/plan.ts';
import { startSchemaRegistry } from '../test/support/schema-registry.ts';
import { createTopics as createLedTopics } from '../test/kafka/helpers.ts';
import { kafkaBrokers } from '../test/support/services.ts';
import { generateRows, handMap, PIPELINE, SCHEMAS } from './workload.ts';

export const PARTITIONS = 12;

export interface KafkaRate {
  /** Records in per second, from joined/started to the last output record acknowledged. */
  recordsPerSec: number;
  /** CPU seconds (all threads of the process) per million input records. */
  cpuSecondsPerMillion: number;
  /** Connect, join the group, start workers: not counted in the rate. */
  startupMs: number;
}

export interface KafkaBenchResult {
  records: number;
  outputRecords: number;
  avgBytes: number;
  loadAverage: number;
  baseline: KafkaRate;
  engine: Record<1 | 2, KafkaRate>;
  /** A second member joining (and leaving): how long the first member's partitions that stayed handed out nothing. */
  join: { joins: number[]; leaves: number[] };
}

export function client(): Kafka {
  return new kafkajs.Kafka({ clientId: 'sensei-bench', brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });
}

export const unique = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;

/** The topics, with every partition led (the tests' helper: kafkajs's own wait gives up on a busy broker). */
export function createTopics(topics: string[]): Promise<void> {
  return createLedTopics(...topics.map((topic): [string, number] => [topic, PARTITIONS]));
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const size = (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
  await admin.disconnect();
  return size;
}

/** Fills the input topic: the benchmark rows, framed, round robin over the partitions. */
async function fill(kafka: Kafka, topic: string, values: Buffer[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let i = 0; i < values.length; i += 20_000) {
    const messages: Message[] = values.slice(i, i + 20_000).map((value, j) => ({ value, partition: (i + j) % PARTITIONS }));
    await producer.send({ topic, messages, acks: 1 });
  }
  await producer.disconnect();
}

function kafkaPlan(input: string, output: string, registry: string, group: string, bounded: boolean): Plan {
  const brokers = kafkaBrokers().join(',');
  const text = PIPELINE
    .replace('from bench {}', `from kafka { topic: "${input}", brokers: "${brokers}", registry: "${registry}", group: "${group}", bounded: ${bounded} }`)
    .replace('to discard {}', `to kafka { topic: "${output}", brokers: "${brokers}", registry: "${registry}" }`);
  const result = compile({ entry: 'bench.sensei', files: new Map([['bench.sensei', text], ['row.avsc', JSON.stringify(SCHEMAS.small)]]), connectors: builtinConnectorSpecs() });
  if (!result.plan) throw new Error(`the Kafka benchmark pipeline does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.plan;
}

export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/**
 * What a user would write instead: one consumer, per fetched batch decode
 * (avsc, writer schema from the registry), map, encode, frame, send with an
 * idempotent producer and await it, offsets committed by kafkajs.
 */
async function handWritten(kafka: Kafka, registry: RegistryClient, input: string, output: string, records: number): Promise<KafkaRate> {
  // Plain kafkajs: the first Sensei Kafka client in this process swaps in Sensei's Produce encoder, so the baseline runs before any.
  if (fastProduceRequestInUse()) throw new Error('the hand-written baseline must run before any Sensei Kafka client exists in this process');
  const t0 = performance.now();
  const outSchema = kafkaPlan(input, output, registry.url, 'unused', true).sinks[0]!.schema;
  const outType = avroType(outSchema);
  const header = frameHeader(await registry.register(`${output}-value`, outSchema));
  const types = new Map<number, ReturnType<typeof avroType>>();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: unique('hand') });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  let seen = 0;
  return measureLoop(t0, records, consumer, producer, (resolve) => async ({ batch }) => {
    const messages: Message[] = [];
    for (const m of batch.messages) {
      const value = m.value!;
      const id = value.readInt32BE(1);
      let type = types.get(id);
      if (!type) types.set(id, (type = avroType(await registry.schemaById(id))));
      const out = handMap(type.decode(value, 5).value);
      if (out !== undefined) messages.push({ value: Buffer.concat([header, outType.toBuffer(out)]) });
    }
    await producer.send({ topic: output, messages, acks: -1 });
    seen += batch.messages.length;
    if (seen >= records) resolve();
  });
}

/**
 * Runs a hand-written consumer loop until `eachBatch` (made with the
 * promise's resolve) says it is done; its rate from when the consumer ran
 * (joined, assigned), and its CPU. Disconnects both clients after.
 */
export async function measureLoop(t0: number, records: number, consumer: Consumer, producer: Producer, eachBatch: (done: () => void) => EachBatchHandler): Promise<KafkaRate> {
  let started = 0;
  let cpu = process.cpuUsage();
  await new Promise<void>((resolve, reject) => {
    consumer.run({ eachBatch: eachBatch(resolve) }).then(() => {
      started = performance.now();
      cpu = process.cpuUsage();
    }, reject);
  });
  const end = performance.now();
  const spent = cpuSeconds(cpu);
  await consumer.disconnect();
  await producer.disconnect();
  return { recordsPerSec: records / ((end - started) / 1000), cpuSecondsPerMillion: (spent / records) * 1e6, startupMs: started - t0 };
}

export async function engine(plan: Plan, workers: number, records: number): Promise<KafkaRate> {
  const t0 = performance.now();
  let started = 0;
  let cpu = process.cpuUsage();
  const run = startPipeline(plan, {
    env: builtinEnvironment(),
    workers,
    onEvent: (e) => {
      if (e.type === 'rebalance' && e.reason === 'start') {
        started = performance.now();
        cpu = process.cpuUsage();
      }
    },
  });
  const summary = await run.done;
  const end = performance.now();
  if (summary.recordsIn !== records) throw new Error(`the pipeline read ${summary.recordsIn} records, not ${records}`);
  return { recordsPerSec: records / ((end - started) / 1000), cpuSecondsPerMillion: (cpuSeconds(cpu) / records) * 1e6, startupMs: started - t0 };
}

/** Member one runs over a backlog; member two joins and leaves a few times. Pauses as member one's source reports them. */
async function joinPauses(kafka: Kafka, registryUrl: string, input: string, rounds: number): Promise<{ joins: number[]; leaves: number[] }> {
  const group = unique('join');
  const reports: AssignmentChange[] = [];
  const listen = (e: PipelineEvent) => void (e.type === 'assignment' && reports.push(e));
  const outputs = [unique('join-out-a'), unique('join-out-b')];
  await createTopics(outputs);
  try {
    const first = startPipeline(kafkaPlan(input, outputs[0]!, registryUrl, group, false), { env: builtinEnvironment(), workers: 1, onEvent: listen });
    await sleep(1500);
    // Waits for a report of member one (it kept partitions) made after `since` reports.
    const reportedSince = (since: number, what: (r: AssignmentChange) => boolean) => waitUntil(() => reports.slice(since).some((r) => r.kept.length > 0 && what(r)));
    for (let i = 0; i < rounds; i++) {
      const beforeJoin = reports.length;
      const second = startPipeline(kafkaPlan(input, outputs[1]!, registryUrl, group, false), { env: builtinEnvironment(), workers: 1 });
      await reportedSince(beforeJoin, (r) => r.lost.length > 0);
      await sleep(700);
      const beforeLeave = reports.length;
      second.stop();
      await second.done;
      await reportedSince(beforeLeave, (r) => r.gained.length > 0);
      await sleep(500);
    }
    first.stop();
    await first.done;
  } finally {
    await deleteTopics(kafka, outputs);
  }
  // Member one's reports: it lost half its partitions (a join) or gained them back (a leave) and kept the rest.
  const kept = reports.filter((r) => r.kept.length > 0);
  return { joins: kept.filter((r) => r.lost.length > 0).map((r) => r.pauseMs), leaves: kept.filter((r) => r.gained.length > 0).map((r) => r.pauseMs) };
}

async function waitUntil(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a rebalance');
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function benchKafka(options: { quick?: boolean } = {}): Promise<KafkaBenchResult> {
  const records = options.quick ? 100_000 : 400_000;
  const kafka = client();
  const registry = await startSchemaRegistry();
  const registryClient = new RegistryClient(registry.url);
  const input = unique('bench-in');
  const topics = [input];
  try {
    await createTopics([input]);
    const rows = generateRows('small', records, PARTITIONS);
    const header = frameHeader(await registryClient.register(`${input}-value`, SCHEMAS.small));
    await fill(kafka, input, rows.all.map((v) => Buffer.concat([header, v])));

    const outBase = unique('bench-out-hand');
    topics.push(outBase);
    await createTopics([outBase]);
    const baseline = await handWritten(kafka, registryClient, input, outBase, records);
    const outputRecords = await topicSize(kafka, outBase);

    const result: KafkaBenchResult = {
      records, outputRecords, avgBytes: Math.round(rows.bytes / records), loadAverage: loadavg()[0]!,
      baseline, engine: {} as KafkaBenchResult['engine'], join: { joins: [], leaves: [] },
    };
    for (const workers of [1, 2] as const) {
      const out = unique(`bench-out-${workers}w`);
      topics.push(out);
      await createTopics([out]);
      result.engine[workers] = await engine(kafkaPlan(input, out, registry.url, unique('bench'), true), workers, records);
      const written = await topicSize(kafka, out);
      if (written !== outputRecords) throw new Error(`the pipeline wrote ${written} records, the hand-written loop ${outputRecords}`);
    }
    result.join = await joinPauses(kafka, registry.url, input, options.quick ? 2 : 4);
    return result;
  } finally {
    await deleteTopics(kafka, topics);
    await registry.close();
  }
}

const fmt = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));
const ms = (xs: number[]) => (xs.length === 0 ? 'n/a' : `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms`);

/** The section as Markdown, for the bench output and BENCHMARKS.md. */
export function kafkaTable(r: KafkaBenchResult): string {
  const row = (name: string, x: KafkaRate) =>
    `| ${name} | ${fmt(x.recordsPerSec)} | ${(x.recordsPerSec / r.baseline.recordsPerSec).toFixed(2)}× | ${x.cpuSecondsPerMillion.toFixed(1)} | ${Math.round(x.startupMs)} ms |`;
  return [
    `Kafka → Kafka: ${fmt(r.records)} records (~${r.avgBytes} B Avro, ${PARTITIONS} partitions) → where → select → ${fmt(r.outputRecords)} out, local broker, ${availableParallelism()} CPUs, load ${r.loadAverage.toFixed(1)}`,
    '| | records/s | ratio | CPU s per million records | start-up |',
    '|---|---:|---:|---:|---:|',
    row('hand-written kafkajs loop', r.baseline),
    row('Sensei, 1 worker', r.engine[1]),
    row('Sensei, 2 workers', r.engine[2]),
    '',
    `A second process joining the group: its partitions that stay with the first handed out nothing for ${ms(r.join.joins)} (${r.join.joins.length} joins); when it leaves again, ${ms(r.join.leaves)} (${r.join.leaves.length} leaves).`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchKafka({ quick: process.argv.includes('--quick') });
  console.log(kafkaTable(result));
}
