// Windowed revenue per country Kafka → Kafka, for the process tests
// (windows.test.ts, windows-group.test.ts): the input orders, the
// reference computed with plain loops, and the pipeline file.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaBrokers } from '../support/services.ts';
import { DaemonProcess } from '../daemon/daemon-process.ts';
import { groupOffsets, unique } from './helpers.ts';
import { topicSize, waitFor } from './processes.ts';

export const COUNTRIES = ['FR', 'DE', 'IT', 'ES', 'NL', 'BE', 'PL', 'SE'];
export const TOTAL = 6000;
const BASE = Date.UTC(2024, 4, 1);

export interface Order { country: string; amount: number; at: number }
export interface Result { country: string; window_start: string; window_end: string; orders: number; revenue: number }

/** Orders 100 ms apart, each up to 2 s early: out of order, but within the 5 s lateness, so none is late. */
export function orders(): Order[] {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: TOTAL }, (_, i) => ({ country: COUNTRIES[Math.floor(rnd() * COUNTRIES.length)]!, amount: 1 + Math.floor(rnd() * 500), at: BASE + i * 100 - Math.floor(rnd() * 2000) }));
}

/** Revenue per country per 10 s window, with plain loops. */
export function reference(input: Order[]): string[] {
  const windows = new Map<string, Result>();
  for (const o of input) {
    const start = o.at - (o.at % 10_000);
    const id = `${o.country} ${start}`;
    const w = windows.get(id) ?? { country: o.country, window_start: new Date(start).toISOString(), window_end: new Date(start + 10_000).toISOString(), orders: 0, revenue: 0 };
    w.orders++;
    w.revenue += o.amount;
    windows.set(id, w);
  }
  return [...windows.values()].map((w) => JSON.stringify(w)).sort();
}

/** The pipeline; `repartition`: the source does not say it is partitioned by country, so the group repartitions its records. */
export function pipeline(p: { input: string; output: string; group: string; guarantee: string; bounded: boolean; repartition?: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sensei-kafka-'));
  const path = join(dir, 'revenue.sensei');
  const brokers = kafkaBrokers().join(',');
  writeFileSync(path, `
pipeline windowed_revenue
schema Order { country: string, amount: long, at: timestamp_millis }
source orders: Order from kafka {
  topic: "${p.input}", brokers: "${brokers}", group: "${p.group}", format: json,
  bounded: ${p.bounded}, session_timeout: 6s, commit_interval: 200ms, buffer_records: 200, purge_interval: 1s
} event time at lateness 5s${p.repartition ? '' : ' partitioned by country'}
stream revenue = orders
  | window tumbling 10s
  | group by country { orders: count(), revenue: sum(amount) }
sink revenue to kafka { topic: "${p.output}", brokers: "${brokers}", format: json, guarantee: ${p.guarantee}, transaction_timeout: 10s }
`);
  return path;
}

/**
 * Two `sensei-run` daemons share the group and read the first half of the
 * orders (sent by `send(list, index of the first)`); once windows are written
 * and offsets committed, A is SIGKILLed with windows open and C starts, then
 * the rest follows. `daemons` holds every daemon started, for the caller to
 * kill at the end. Resolves with the signal A died of.
 */
export async function killOneOfTwoDaemons(p: { file: string; input: string; output: string; group: string; all: Order[]; send: (list: Order[], from: number) => Promise<void>; daemons: DaemonProcess[] }): Promise<NodeJS.Signals | null> {
  const start = (name: string) => new DaemonProcess([p.file], { env: { SENSEI_INSTANCE_ID: unique(name), SENSEI_WORKERS_MIN: '1', SENSEI_WORKERS_MAX: '1', SENSEI_WATCH: 'false' } });
  p.daemons.push(start('a'), start('b'));
  await Promise.all(p.daemons.map((d) => d.ready()));
  const half = Math.floor(p.all.length / 2);
  for (let at = 0; at < half; at += 250) {
    await p.send(p.all.slice(at, Math.min(half, at + 250)), at);
    await sleep(100);
  }
  await waitFor('windows written and offsets committed', async () => (await topicSize(p.output)) > 0 && (await groupOffsets(p.group, p.input)).every((o) => o.committed > 0));
  // A dies with windows open and a transaction in flight; B takes its partitions once the group notices, C joins.
  p.daemons[0]!.child.kill('SIGKILL');
  const { signal } = await p.daemons[0]!.exited;
  p.daemons.push(start('c'));
  await p.daemons[2]!.ready();
  for (let at = half; at < p.all.length; at += 250) {
    await p.send(p.all.slice(at, at + 250), at);
    await sleep(100);
  }
  return signal;
}
