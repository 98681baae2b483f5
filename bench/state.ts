/**
 * State benchmarks (part of `npm run bench`, section `state`):
 *
 * - move pause: a partition holding a running aggregate of ~10 MB and
 *   ~100 MB of state (encoded), moved between the worker threads of one
 *   process (the pool shrunk and grown): how long its batches stopped;
 * - restore: the same state read back from the local store (LMDB), per
 *   100 MB; and a 100 MB changelog partition read back from the local
 *   Kafka broker;
 * - memory: RSS over a long windowed run with a bounded key space (the
 *   datagen source, 1-minute windows per customer), sampled every 30 s.
 *
 *   npx tsx bench/state.ts [--quick] [--rss-minutes N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import kafkajs from 'kafkajs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeCodecs } from '../runtime/operators/registry.ts';
import { startPipeline, type PipelineEvent } from '../runtime/index.ts';
import { LocalStore } from '../runtime/state/local-store.ts';
import { compile } from '../src/compile.ts';
import type { Plan } from '../src/plan/plan.ts';
import { connectorSpecs } from '../src/spi/environment.ts';
import { KafkaChangelog } from '../connectors/kafka/changelog.ts';
import { KafkaRun } from '../connectors/kafka/run.ts';
import { kafkaBrokers } from '../test/support/services.ts';
import { benchEnvironment } from './workload.ts';

export interface StateBenchResult {
  moves: { stateMb: number; keys: number; pausesMs: number[] }[];
  restore: { stateMb: number; keys: number; msPer100Mb: number }[];
  /** Reading a changelog partition back (the local Kafka broker), before decoding. */
  changelogRead: { mb: number; entries: number; msPer100Mb: number };
  rss: { minutes: number; samplesMb: number[] };
}

/** A running aggregate per id: (nearly) every record a new key, so the state grows with the input. */
const GROWING = `
pipeline state_bench
schema Row { id: string, email: string, amount: decimal(12, 2), note: string }
source rows: Row from datagen { partitions: 2, seed: 3 } partitioned by id
stream per_id = rows | group by id { n: count(), total: sum(amount), email: last(email), note: last(note) }
sink per_id to discard
`;

const WINDOWED = `
pipeline rss_bench
schema Row { customer_id: string, amount: decimal(12, 2), created_at: timestamp_millis }
source rows: Row from datagen { seed: 5 } event time created_at lateness 5s
stream per_minute = rows | window tumbling 1m | group by customer_id { orders: count(), revenue: sum(amount) }
sink per_minute to discard
`;

/** The datagen source and the `discard` sink of the throughput benchmark. */
const environment = () => benchEnvironment([], { records: 0, bytes: 0 });

function plan(text: string): Plan {
  const result = compile({ entry: 'state.sensei', files: new Map([['state.sensei', text]]), connectors: connectorSpecs(environment()) });
  if (!result.plan) throw new Error(`the state benchmark pipeline does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.plan;
}

/**
 * Runs the growing aggregate over two partitions until it has read `keys`
 * records (half the state in each), then moves a partition between the two
 * workers six times (the pool shrunk and grown), and stops; its state size
 * per partition and the move pauses.
 */
async function moves(keys: number, stateDir: string): Promise<{ stateMb: number; keys: number; pausesMs: number[] }> {
  const p = plan(GROWING);
  const pausesMs: number[] = [];
  const run = startPipeline(p, {
    env: environment(),
    workers: 2,
    stateDir,
    onEvent: (e: PipelineEvent) => {
      if (e.type === 'rebalance' && e.reason !== 'start') for (const m of e.moves) if (m.from !== undefined) pausesMs.push(m.pauseMs);
    },
  });
  while (run.status().recordsIn < keys) await sleep(50);
  for (let i = 0; i < 3; i++) {
    await run.resize(1);
    await sleep(200);
    await run.resize(2);
    await sleep(200);
  }
  run.stop();
  await run.done;
  const stored = storedSize(stateDir, p);
  return { stateMb: stored.bytes / 1e6, keys: stored.keys, pausesMs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function storedSize(dir: string, p: Plan): { bytes: number; keys: number } {
  const store = LocalStore.open(dir);
  const chain = p.chains[0]!;
  const codecs = chain.operators.map(storeCodecs);
  const t0 = performance.now();
  const loaded = store.load('rows', 0, chain.operators, codecs);
  lastLoadMs = performance.now() - t0;
  void store.close();
  let bytes = 0;
  let keys = 0;
  chain.operators.forEach((op, i) => {
    for (const [name, codec] of codecs[i]!) {
      for (const [k, v] of loaded?.state.stores[op.id]?.[name] ?? new Map<unknown, unknown>()) {
        bytes += codec.key(k).length + codec.value(v).length;
        keys++;
      }
    }
  });
  return { bytes, keys };
}

let lastLoadMs = 0;

async function rss(minutes: number): Promise<number[]> {
  const run = startPipeline(plan(WINDOWED), { env: environment(), workers: 2 });
  const samples: number[] = [];
  for (let t = 0; t <= minutes * 60; t += 30) {
    samples.push(Math.round(process.memoryUsage().rss / 1e6));
    if (t < minutes * 60) await new Promise((r) => setTimeout(r, 30_000));
  }
  run.stop();
  await run.done;
  return samples;
}

/** Fills a changelog partition with about 100 MB (1M entries of ~100 B) and reads it back as a restore does. */
async function changelogRead(entries: number): Promise<StateBenchResult['changelogRead']> {
  const kafka = new kafkajs.Kafka({ clientId: 'sensei-bench-state', brokers: kafkaBrokers(), logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const stop = new AbortController();
  const changelog = new KafkaChangelog(kafka, admin, KafkaRun.of(stop.signal, 'state_bench'), { brokers: kafkaBrokers() }, `state-bench-${Date.now()}`, 1);
  const topic = changelog.topic('op/groups');
  try {
    await changelog.prepare(['op/groups']);
    const producer = kafka.producer();
    await producer.connect();
    const value = Buffer.alloc(90, 7);
    let bytes = 0;
    for (let i = 0; i < entries; i += 4000) {
      const messages = Array.from({ length: Math.min(4000, entries - i) }, (_, j) => {
        const key = Buffer.from(`\u0000key-${i + j}`);
        bytes += key.length + value.length;
        return { key, value, partition: 0 };
      });
      await producer.send({ topic, messages, acks: 1 });
    }
    await producer.disconnect();
    const t0 = performance.now();
    const read = await changelog.read('op/groups', 0, 0);
    const ms = performance.now() - t0;
    if (read.entries.length !== entries) throw new Error(`read ${read.entries.length} changelog entries, not ${entries}`);
    return { mb: bytes / 1e6, entries, msPer100Mb: (ms / (bytes / 1e6)) * 100 };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

export async function benchState(options: { quick?: boolean; rssMinutes?: number } = {}): Promise<StateBenchResult> {
  // Records in all (two partitions): about 10 MB and 100 MB of encoded state per partition.
  const sizes = options.quick ? [220_000] : [220_000, 1_400_000];
  // RSS first: the moves' large states would still be in the process's heap.
  const minutes = options.rssMinutes ?? (options.quick ? 1 : 10);
  const result: StateBenchResult = { moves: [], restore: [], changelogRead: await changelogRead(options.quick ? 100_000 : 1_000_000), rss: { minutes, samplesMb: await rss(minutes) } };
  for (const keys of sizes) {
    const dir = await mkdtemp(join(tmpdir(), 'sensei-state-bench-'));
    try {
      const m = await moves(keys, dir);
      result.moves.push(m);
      result.restore.push({ stateMb: m.stateMb, keys: m.keys, msPer100Mb: (lastLoadMs / m.stateMb) * 100 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return result;
}

const pct = (xs: number[], p: number) => (xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);

export function stateTable(r: StateBenchResult): string {
  return [
    'State: a running aggregate per key; a partition (state per partition below) moved between 2 worker threads 6 times, and restored from the local store',
    '| state (encoded) | keys | move pause p50 | p99 | max | restore from the local store, per 100 MB |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.moves.map((m, i) => `| ${m.stateMb.toFixed(1)} MB | ${m.keys} | ${pct(m.pausesMs, 0.5).toFixed(0)} ms | ${pct(m.pausesMs, 0.99).toFixed(0)} ms | ${Math.max(...m.pausesMs).toFixed(0)} ms | ${(r.restore[i]!.msPer100Mb / 1000).toFixed(2)} s |`),
    '',
    `A changelog partition of ${r.changelogRead.mb.toFixed(0)} MB (${r.changelogRead.entries} entries) read back from the local broker: ${(r.changelogRead.msPer100Mb / 1000).toFixed(1)} s per 100 MB, before decoding.`,
    `RSS over a ${r.rss.minutes}-minute windowed run (bounded key space), every 30 s: ${r.rss.samplesMb.join(', ')} MB`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--rss-minutes');
  console.log(stateTable(await benchState({ quick: process.argv.includes('--quick'), ...(at > 0 ? { rssMinutes: Number(process.argv[at + 1]) } : {}) })));
}
