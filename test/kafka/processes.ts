/**
 * Real `sensei run` processes for the Kafka tests that kill, start and stop
 * them: a keyed Kafka → Kafka pipeline file, the input it reads (per-key
 * sequence numbers), and checks of the output against the input.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryRetriable } from '../../connectors/kafka/client.ts';
import type { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { kafkaBrokers } from '../support/services.ts';
import { avroValues, kafka, produce, type ReadMessage } from './helpers.ts';

const root = resolve(import.meta.dirname, '../..');

export const EVENT = {
  type: 'record',
  name: 'Event',
  fields: [
    { name: 'key', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'n', type: 'long' },
  ],
};

export interface Event { key: string; seq: number; n: number }

/** Events `from`…`to-1` of a global sequence over `keys` keys; `seq` counts per key. */
export function events(from: number, to: number, keys: number): Event[] {
  const out: Event[] = [];
  for (let n = from; n < to; n++) out.push({ key: `k${n % keys}`, seq: Math.floor(n / keys), n });
  return out;
}

export async function produceEvents(registry: RegistryClient, topic: string, list: Event[]): Promise<void> {
  const values = await avroValues(registry, `${topic}-value`, EVENT, list);
  await produce(topic, list.map((e, i) => ({ key: e.key, value: values[i]! })));
}

export interface PipelineFile {
  input: string;
  output: string;
  registry: string;
  group: string;
  guarantee?: 'at_least_once' | 'exactly_once';
  bounded?: boolean;
  name?: string;
  /** Consumer-group session timeout; default 6s. */
  sessionTimeout?: string;
}

/** A pipeline file in a fresh temp dir: events pass through keyed by `key`, with an output field derived from `n`. */
export function pipelineFile(p: PipelineFile): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensei-kafka-'));
  const path = join(dir, 'pipeline.sensei');
  const brokers = kafkaBrokers().join(',');
  writeFileSync(path, `
pipeline ${p.name ?? 'kafka_processes'}
schema Event { key: string, seq: long, n: long }
source events: Event from kafka {
  topic: "${p.input}", brokers: "${brokers}", registry: "${p.registry}", group: "${p.group}",
  bounded: ${p.bounded ?? false}, session_timeout: ${p.sessionTimeout ?? '6s'}, rebalance_timeout: 20s, commit_interval: 200ms, buffer_records: 500
}
stream out = events | select { key, seq, n, twice: n * 2 } | key by key
sink out to kafka { topic: "${p.output}", brokers: "${brokers}", registry: "${p.registry}", guarantee: ${p.guarantee ?? 'at_least_once'} }
`);
  return path;
}

export interface SenseiProcess {
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  exited: Promise<number | null>;
}

export function startSensei(file: string, args: string[] = [], env: Record<string, string> = {}): SenseiProcess {
  const child = spawn(process.execPath, [join(root, 'bin/sensei.js'), 'run', file, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

/** Records in the topic (high − low over its partitions; counts uncommitted transactional records too). */
export async function topicSize(topic: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return (await retryRetriable(() => admin.fetchTopicOffsets(topic))).reduce((a, p) => a + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000, proc?: SenseiProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${proc ? `; sensei stderr:\n${proc.stderr()}` : ''}`);
    await sleep(50);
  }
}

export async function decodeEvents(registry: RegistryClient, messages: ReadMessage[]): Promise<(Event & { partition: number })[]> {
  const types = new Map<number, ReturnType<typeof avroType>>();
  const out: (Event & { partition: number })[] = [];
  for (const m of messages) {
    const id = m.value!.readInt32BE(1);
    if (!types.has(id)) types.set(id, avroType(await registry.schemaById(id)));
    out.push({ ...(types.get(id)!.fromBuffer(m.value!.subarray(5)) as Event), partition: m.partition });
  }
  return out;
}

/**
 * What went missing, what came twice, and the keys whose records came out
 * of order: in output order (per partition, offset order), a key's records
 * must first appear in `seq` order.
 */
export function audit(input: Event[], output: Event[]): { missing: number[]; duplicates: number; outOfOrder: string[] } {
  const seen = new Map<number, number>();
  for (const e of output) seen.set(e.n, (seen.get(e.n) ?? 0) + 1);
  const missing = input.filter((e) => !seen.has(e.n)).map((e) => e.n);
  let duplicates = 0;
  for (const c of seen.values()) duplicates += c - 1;
  const next = new Map<string, number>();
  const firsts = new Set<number>();
  const outOfOrder = new Set<string>();
  for (const e of output) {
    if (firsts.has(e.n)) continue;
    firsts.add(e.n);
    const expected = next.get(e.key) ?? 0;
    if (e.seq !== expected) outOfOrder.add(e.key);
    next.set(e.key, e.seq + 1);
  }
  return { missing, duplicates, outOfOrder: [...outOfOrder] };
}
