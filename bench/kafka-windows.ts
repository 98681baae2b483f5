/**
 * Windowed aggregation Kafka → Kafka (part of the Kafka section of `npm
 * run bench`): a 1-minute tumbling count and sum per customer over the
 * ~96 B Avro benchmark rows (100 rows per second of event time, 100
 * customers, keyed by customer so that each lives in one of 12
 * partitions), against a hand-written kafkajs loop with a Map of windows
 * per partition over the same input topic, in the same run. Both read to
 * the end of the topic, close every window there, and write one record
 * per customer and minute. The same run without `partitioned by` measures
 * what repartitioning through the topic `<group>-per_minute-repartition` costs.
 *
 *   npx tsx bench/kafka-windows.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import type { Kafka, Message } from 'kafkajs';
import { RegistryClient } from '../connectors/kafka/registry-client.ts';
import { fastProduceRequestInUse } from '../connectors/kafka/produce-request.ts';
import { frameHeader } from '../connectors/kafka/wire-format.ts';
import { builtinConnectorSpecs } from '../connectors/registry.ts';
import { avroType } from '../src/formats/avro-codec.ts';
import { compile } from '../src/compile.ts';
import type { Plan } from '../src/plan/plan.ts';
import { startSchemaRegistry } from '../test/support/schema-registry.ts';
import { kafkaBrokers } from '../test/support/services.ts';
import { client, createTopics, deleteTopics, engine, measureLoop, PARTITIONS, topicSize, unique, type KafkaRate } from './kafka.ts';
import { generateRows, SCHEMAS } from './workload.ts';

const BASE = Date.UTC(2024, 4, 1);
/** Event time between rows: 100 rows per second, so each customer's minute holds about 60. */
const ROW_MS = 10;
const MINUTE = 60_000;

const PIPELINE = `
pipeline bench_windowed
schema Row = avro "row.avsc"
source rows: Row from kafka { SOURCE } event time created_at partitioned by customer_id
stream per_minute = rows
  | window tumbling 1m
  | group by customer_id { orders: count(), revenue: sum(amount) }
sink per_minute to kafka { SINK }
`;

export interface WindowedBenchResult {
  records: number;
  windows: number;
  avgBytes: number;
  loadAverage: number;
  baseline: KafkaRate;
  engine: Record<1 | 2, KafkaRate>;
  /** 2 workers, the source not declared partitioned by the group key: every record goes through the repartition topic. */
  repartitioned: KafkaRate;
}

function windowedPlan(input: string, output: string, registry: string, group: string, repartition = false): Plan {
  const brokers = kafkaBrokers().join(',');
  const text = (repartition ? PIPELINE.replace(' partitioned by customer_id', '') : PIPELINE)
    .replace('SOURCE', `topic: "${input}", brokers: "${brokers}", registry: "${registry}", group: "${group}", bounded: true`)
    .replace('SINK', `topic: "${output}", brokers: "${brokers}", registry: "${registry}"`);
  const result = compile({ entry: 'bench.sensei', files: new Map([['bench.sensei', text], ['row.avsc', JSON.stringify(SCHEMAS.small)]]), connectors: builtinConnectorSpecs() });
  if (!result.plan) throw new Error(`the windowed benchmark pipeline does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.plan;
}

/** The benchmark rows with their event time 10 ms apart, framed, keyed by customer (Kafka's default partitioner). */
async function fill(kafka: Kafka, registry: RegistryClient, topic: string, records: number): Promise<number> {
  const type = avroType(SCHEMAS.small);
  const header = frameHeader(await registry.register(`${topic}-value`, SCHEMAS.small));
  const rows = generateRows('small', records, 1).all;
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  let bytes = 0;
  for (let i = 0; i < rows.length; i += 20_000) {
    const messages: Message[] = rows.slice(i, i + 20_000).map((row, j) => {
      const r = type.fromBuffer(row) as { customer_id: string; created_at: number };
      r.created_at = BASE + (i + j) * ROW_MS;
      const value = type.toBuffer(r);
      bytes += value.length;
      return { key: r.customer_id, value: Buffer.concat([header, value]) };
    });
    await producer.send({ topic, messages, acks: 1 });
  }
  await producer.disconnect();
  return bytes;
}

interface Window { customer_id: string; start: number; orders: number; revenue: number }

/**
 * What a user would write instead: one consumer; per fetched batch, decode
 * each row, add it to its customer's window in a Map of the partition's
 * windows, and send the windows the partition's event time has passed;
 * at the end of the input, the windows left.
 */
async function handWritten(kafka: Kafka, registry: RegistryClient, input: string, output: string, records: number): Promise<KafkaRate> {
  if (fastProduceRequestInUse()) throw new Error('the hand-written baseline must run before any Sensei Kafka client exists in this process');
  const t0 = performance.now();
  const outSchema = windowedPlan(input, output, registry.url, 'unused').sinks[0]!.schema;
  const outType = avroType(outSchema);
  const header = frameHeader(await registry.register(`${output}-value`, outSchema));
  const inType = avroType(SCHEMAS.small);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: unique('hand-windows') });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  const windows = new Map<number, Map<string, Window>>();
  const latest = new Map<number, number>();
  const encode = (w: Window): Message => ({
    key: w.customer_id,
    value: Buffer.concat([header, outType.toBuffer({ customer_id: w.customer_id, window_start: w.start, window_end: w.start + MINUTE, orders: w.orders, revenue: w.revenue })]),
  });
  let seen = 0;
  return measureLoop(t0, records, consumer, producer, (resolve) => async ({ batch }) => {
    let open = windows.get(batch.partition);
    if (!open) windows.set(batch.partition, (open = new Map()));
    let time = latest.get(batch.partition) ?? -Infinity;
    for (const m of batch.messages) {
      const r = inType.decode(m.value!, 5).value as { customer_id: string; amount: number; created_at: number };
      const start = r.created_at - (r.created_at % MINUTE);
      const id = `${r.customer_id}|${start}`;
      const w = open.get(id);
      if (w) {
        w.orders++;
        w.revenue = Math.round((w.revenue + r.amount) * 100) / 100;
      } else open.set(id, { customer_id: r.customer_id, start, orders: 1, revenue: r.amount });
      if (r.created_at > time) time = r.created_at;
    }
    latest.set(batch.partition, time);
    seen += batch.messages.length;
    const closed: Message[] = [];
    for (const [id, w] of open) {
      if (seen >= records || w.start + MINUTE <= time) {
        closed.push(encode(w));
        open.delete(id);
      }
    }
    if (closed.length > 0) await producer.send({ topic: output, messages: closed, acks: -1 });
    if (seen >= records) {
      // The end of the input: every partition's windows close.
      const rest = [...windows.values()].flatMap((ws) => [...ws.values()].map(encode));
      if (rest.length > 0) await producer.send({ topic: output, messages: rest, acks: -1 });
      resolve();
    }
  });
}

export async function benchKafkaWindows(options: { quick?: boolean } = {}): Promise<WindowedBenchResult> {
  const records = options.quick ? 100_000 : 400_000;
  const kafka = client();
  const registry = await startSchemaRegistry();
  const registryClient = new RegistryClient(registry.url);
  const input = unique('bench-win-in');
  const topics = [input];
  try {
    await createTopics([input]);
    const bytes = await fill(kafka, registryClient, input, records);
    const outBase = unique('bench-win-out-hand');
    topics.push(outBase);
    await createTopics([outBase]);
    const baseline = await handWritten(kafka, registryClient, input, outBase, records);
    const windows = await topicSize(kafka, outBase);
    /** Runs the pipeline with `workers` and checks it wrote what the hand-written loop wrote. */
    const measure = async (name: string, workers: 1 | 2, repartition: boolean): Promise<KafkaRate> => {
      const out = unique(`bench-win-out-${name}`);
      const group = unique('bench-win');
      topics.push(out, ...(repartition ? [`${group}-per_minute-repartition`] : []));
      await createTopics([out]);
      const rate = await engine(windowedPlan(input, out, registry.url, group, repartition), workers, records);
      const written = await topicSize(kafka, out);
      if (written !== windows) throw new Error(`the pipeline (${name}) wrote ${written} windows, the hand-written loop ${windows}`);
      return rate;
    };
    const one = await measure('1w', 1, false);
    const two = await measure('2w', 2, false);
    const repartitioned = await measure('repartitioned', 2, true);
    return { records, windows, avgBytes: Math.round(bytes / records), loadAverage: loadavg()[0]!, baseline, engine: { 1: one, 2: two }, repartitioned };
  } finally {
    await deleteTopics(kafka, topics);
    await registry.close();
  }
}

const fmt = (n: number) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)));

/** The benchmark as Markdown, for the bench output and BENCHMARKS.md. */
export function windowsTable(r: WindowedBenchResult): string {
  const row = (name: string, x: KafkaRate) =>
    `| ${name} | ${fmt(x.recordsPerSec)} | ${(x.recordsPerSec / r.baseline.recordsPerSec).toFixed(2)}× | ${x.cpuSecondsPerMillion.toFixed(1)} | ${Math.round(x.startupMs)} ms |`;
  return [
    `Windowed Kafka → Kafka: ${fmt(r.records)} records (~${r.avgBytes} B Avro, ${PARTITIONS} partitions) → 1-minute tumbling count and sum per customer → ${fmt(r.windows)} windows, local broker, ${availableParallelism()} CPUs, load ${r.loadAverage.toFixed(1)}`,
    '| | records/s | ratio | CPU s per million records | start-up |',
    '|---|---:|---:|---:|---:|',
    row('hand-written kafkajs loop, Map of windows', r.baseline),
    row('Sensei, 1 worker', r.engine[1]),
    row('Sensei, 2 workers', r.engine[2]),
    row('Sensei, 2 workers, repartitioned through a topic', r.repartitioned),
  ].join('\n');
}

/**
 * Runs the benchmark in a process of its own (the hand-written baseline
 * must run before any Sensei Kafka client exists in the process, see
 * kafka.ts), for `npm run bench`.
 */
export function benchKafkaWindowsApart(options: { quick?: boolean } = {}): WindowedBenchResult {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--json', ...(options.quick ? ['--quick'] : [])];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`the windowed Kafka benchmark failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as WindowedBenchResult;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchKafkaWindows({ quick: process.argv.includes('--quick') });
  console.log(process.argv.includes('--json') ? JSON.stringify(result) : windowsTable(result));
}
