// Real `sensei-run` processes against the real broker: graceful shutdown
// mid-stream commits exactly what was acknowledged, SIGKILL loses nothing,
// and processes sharing a consumer group split the partitions and take over
// from one that stops. Records carry their own partition and offset (`p`,
// `o`: one producer writes each fresh partition in order), so the output
// says exactly which input offsets were delivered.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kafka, unique } from '../kafka/helpers.ts';
import { kafkaBrokers } from '../support/services.ts';
import { DaemonProcess, eventually, parsePrometheus, sleep, tempDir } from './daemon-process.ts';

const PARTITIONS = 6;

/** Keeps producing `{ id, p, o }` to every partition until stopped; knows each partition's next offset. */
class Feeder {
  readonly next = Array.from({ length: PARTITIONS }, () => 0);
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(topic: string, perRound = 60, pauseMs = 50) {
    this.loop = (async () => {
      const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        while (!this.stopped) {
          const messages = [];
          for (let i = 0; i < perRound; i++) {
            const p = i % PARTITIONS;
            const o = this.next[p]!++;
            messages.push({ partition: p, value: JSON.stringify({ id: `${p}-${o}`, p, o }) });
          }
          await producer.send({ topic, acks: -1, messages });
          await sleep(pauseMs);
        }
      } finally {
        await producer.disconnect();
      }
    })();
  }

  get total(): number {
    return this.next.reduce((a, b) => a + b, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

interface Out { id: string; p: number; o: number }

async function output(paths: string[]): Promise<Out[]> {
  const all: Out[] = [];
  for (const path of paths) {
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line !== '') all.push(JSON.parse(line) as Out);
  }
  return all;
}

/** Input offsets that are missing from the output, and how many came twice. */
function delivery(out: Out[], next: number[]): { missing: string[]; duplicates: number } {
  const seen = new Set<string>();
  let duplicates = 0;
  for (const r of out) {
    if (seen.has(r.id)) duplicates++;
    seen.add(r.id);
  }
  const missing: string[] = [];
  next.forEach((n, p) => {
    for (let o = 0; o < n; o++) if (!seen.has(`${p}-${o}`)) missing.push(`${p}-${o}`);
  });
  return { missing, duplicates };
}

async function createTopic(topic: string): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: false });
    // Until every partition has a leader; a busy broker answers "unknown partition" for a while.
    await eventually(async () => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const parts = meta?.topics[0]?.partitions ?? [];
      return parts.length === PARTITIONS && parts.every((p) => p.leader >= 0) ? true : undefined;
    }, 60_000, `topic ${topic} ready`);
  } finally {
    await admin.disconnect();
  }
}

async function committed(group: string, topic: string): Promise<number[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const out = Array.from({ length: PARTITIONS }, () => 0);
    for (const p of offsets!.partitions) out[p.partition] = Math.max(0, Number(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

interface Setup {
  dir: string;
  topic: string;
  group: string;
  /** A pipeline file writing to its own output file; every process of a test gets one. */
  pipeline(name: string): Promise<{ file: string; out: string }>;
}

async function setup(): Promise<Setup> {
  const dir = await tempDir();
  const topic = unique('daemon-in');
  const group = unique('daemon-group');
  await createTopic(topic);
  await writeFile(join(dir, 'sensei-run.yaml'), 'workers: { min: 2, max: 2 }\nwatch: { enabled: false }\nshutdown: { deadline: 60s }\n');
  return {
    dir,
    topic,
    group,
    async pipeline(name) {
      const out = join(dir, `${name}.jsonl`);
      const file = join(dir, `${name}.sensei`);
      await writeFile(
        file,
        `pipeline copy
schema Rec { id: string, p: int, o: long }
source input: Rec from kafka { topic: "${topic}", format: json, group: "${group}", commit_interval: 200ms }
stream copied = input | select { id, p, o }
sink copied to file { path: ${JSON.stringify(out)} }
`,
      );
      return { file, out };
    },
  };
}

const daemons: DaemonProcess[] = [];
function start(s: Setup, file: string): DaemonProcess {
  const d = new DaemonProcess(['--config', join(s.dir, 'sensei-run.yaml'), file], { env: { SENSEI_KAFKA_BROKERS: kafkaBrokers().join(',') } });
  daemons.push(d);
  return d;
}
test.after.always(async () => {
  await Promise.all(daemons.map((d) => d.kill()));
});

/** Waits until the output holds at least `n` records. */
async function written(paths: string[], n: number): Promise<void> {
  await eventually(async () => ((await output(paths)).length >= n ? true : undefined), 120_000, `${n} records written`);
}

/**
 * Starts a new process on the group, lets the feeder stop while it runs,
 * waits until everything produced is written (by it or by `earlier`
 * outputs), and stops it with SIGTERM.
 */
async function restart(s: Setup, feeder: Feeder, name: string, earlier: string[]): Promise<{ out: string; code: number | null }> {
  const next = await s.pipeline(name);
  const d = start(s, next.file);
  await d.ready();
  await sleep(500);
  await feeder.stop();
  await written([...earlier, next.out], feeder.total);
  d.signal('SIGTERM');
  const { code } = await d.exited;
  if (code !== 0) throw new Error(`${name} exited ${code}: ${d.stderr}`);
  return { out: next.out, code };
}

test('SIGTERM mid-stream: drains, exits 0, and the committed offsets are exactly the acknowledged ones', async (t) => {
  const s = await setup();
  const feeder = new Feeder(s.topic);
  const first = await s.pipeline('first');
  const a = start(s, first.file);
  await a.ready();
  await written([first.out], 500);

  a.signal('SIGTERM');
  t.is((await a.exited).code, 0, a.stderr);
  const done = await a.waitFor('pipeline-done');
  const out = await output([first.out]);
  t.is(out.length, Number(done.recordsOut));
  const commits = await committed(s.group, s.topic);
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = out.filter((r) => r.p === p).map((r) => r.o).sort((x, y) => x - y);
    // Acknowledged = written by the sink: offsets 0..k-1 without a gap, and the group committed k.
    t.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => i), `partition ${p} was written without gaps`);
    t.is(commits[p], offsets.length, `partition ${p}: committed offset = last acknowledged + 1`);
  }

  // A new process continues where the first stopped: nothing lost, nothing twice.
  const second = await restart(s, feeder, 'second', [first.out]);
  t.is(second.code, 0);
  const result = delivery(await output([first.out, second.out]), feeder.next);
  t.deepEqual(result.missing, []);
  t.is(result.duplicates, 0);
});

test('SIGKILL mid-stream and a restart lose nothing; repeats only come from after the last commit', async (t) => {
  const s = await setup();
  const feeder = new Feeder(s.topic);
  const first = await s.pipeline('killed');
  const a = start(s, first.file);
  await a.ready();
  // Killed after some offsets were committed and while more are being written.
  await eventually(async () => ((await committed(s.group, s.topic)).reduce((x, y) => x + y, 0) >= 300 ? true : undefined), 120_000, 'first commits');
  a.signal('SIGKILL');
  t.is((await a.exited).signal, 'SIGKILL');
  const commits = await committed(s.group, s.topic);
  const before = await output([first.out]);

  const second = await restart(s, feeder, 'restarted', [first.out]);
  t.is(second.code, 0);
  const after = await output([second.out]);
  const result = delivery([...before, ...after], feeder.next);
  t.deepEqual(result.missing, [], 'every record is delivered');
  const firstIds = new Set(before.map((r) => r.id));
  const repeated = after.filter((r) => firstIds.has(r.id));
  t.true(repeated.every((r) => r.o >= commits[r.p]!), 'only records after the last committed offset are read again');
  t.log(`${before.length} written before the kill, ${repeated.length} read again after it`);
});

test('two, then three processes share the group; one stops; nothing is lost', async (t) => {
  const s = await setup();
  const feeder = new Feeder(s.topic);
  const files = await Promise.all(['a', 'b', 'c'].map((n) => s.pipeline(n)));
  const outs = files.map((f) => f.out);

  /** The partitions each process owns now, from its latest assignment event. */
  const owned = (d: DaemonProcess) => {
    const last = d.events.filter((e) => e.event === 'assignment').at(-1);
    return (last?.partitions as number[] | undefined) ?? [];
  };
  const split = async (procs: DaemonProcess[]) => eventually(() => {
    const parts = procs.map(owned);
    const all = parts.flat().sort((x, y) => x - y);
    const balanced = parts.every((p) => p.length > 0);
    return balanced && all.length === PARTITIONS && all.every((p, i) => p === i) ? parts : undefined;
  }, 120_000, `partitions split over ${procs.length} processes`);

  const a = start(s, files[0]!.file);
  const b = start(s, files[1]!.file);
  await Promise.all([a.ready(), b.ready()]);
  const two = await split([a, b]);
  t.log(`two processes: ${JSON.stringify(two)}`);
  await written(outs, 300);

  const c = start(s, files[2]!.file);
  await c.ready();
  const three = await split([a, b, c]);
  t.log(`three processes: ${JSON.stringify(three)}`);
  t.true(three.every((p) => p.length === 2), 'six partitions, two per process');
  // Each process reports lag for the partitions it owns, and /status says which those are.
  const lagged = await eventually(async () => {
    const { samples } = parsePrometheus((await a.request('/metrics')).text);
    const parts = samples.filter((x) => x.name === 'sensei_consumer_lag').map((x) => Number(x.labels.partition)).sort((x, y) => x - y);
    return JSON.stringify(parts) === JSON.stringify(owned(a)) ? parts : undefined;
  }, 30_000, 'lag series of the owned partitions');
  t.deepEqual((await a.json('/status')).pipelines[0].assigned.input, lagged);

  b.signal('SIGTERM');
  t.is((await b.exited).code, 0, b.stderr);
  const after = await split([a, c]);
  t.log(`after b stopped: ${JSON.stringify(after)}`);

  await sleep(500);
  await feeder.stop();
  await written(outs, feeder.total);
  a.signal('SIGTERM');
  c.signal('SIGTERM');
  t.is((await a.exited).code, 0, a.stderr);
  t.is((await c.exited).code, 0, c.stderr);
  const result = delivery(await output(outs), feeder.next);
  t.deepEqual(result.missing, [], 'every record is delivered');
  t.log(`${feeder.total} records, ${result.duplicates} delivered twice`);
  for (const d of [a, b, c]) t.true((await output([outs[[a, b, c].indexOf(d)]!])).length > 0, 'every process did part of the work');
});
