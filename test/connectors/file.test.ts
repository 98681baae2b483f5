import test from 'ava';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import avro from 'avsc';
import { PLAN_VERSION, type Plan } from '../../src/plan/plan.ts';
import { createEnvironment } from '../../src/spi/environment.ts';
import { fileConnector } from '../../connectors/file/file.ts';
import { stdinConnector } from '../../connectors/stdin/stdin.ts';
import { stdoutConnector } from '../../connectors/stdout/stdout.ts';
import { stderrConnector } from '../../connectors/stderr/stderr.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { groupAssignor } from '../../runtime/cluster/assignment.ts';
import { openFileSource, type FileSource } from '../../connectors/file/source.ts';
import type { DeadLetter, SourceBatch } from '../../src/spi/connector.ts';
import { LIB } from '../runtime/helpers.ts';

const SCHEMA = {
  type: 'record',
  name: 'Payment',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'note', type: ['null', 'string'] },
    { name: 'blob', type: 'bytes' },
  ],
};

const IDENTITY = `return function (b, out) { const o = out[0]; for (let i = 0; i < b.values.length; i++) { o.keys.push(b.keys[i]); o.values.push(b.values[i]); o.offsets.push(b.offsets[i]); } };`;

function plan(source: { connector: string; options: Plan['sources'][number]['options'] }, sink: { connector: string; options: Plan['sinks'][number]['options'] }, deadLetter?: Plan['deadLetter']): Plan {
  return {
    version: PLAN_VERSION,
    pipeline: 'files',
    sources: [{ id: 'source:payments', name: 'payments', schema: SCHEMA, keySchema: 'string', ...source }],
    sinks: [{ id: 'sink:payments:0', stream: 'payments', schema: SCHEMA, keySchema: 'string', ...sink }],
    ...(deadLetter ? { deadLetter } : {}),
    chains: [{ source: 'source:payments', sinks: ['sink:payments:0'], operators: [], code: IDENTITY }],
    graph: { nodes: [], edges: [] },
  };
}

const rows = Array.from({ length: 60 }, (_, n) => ({
  id: `p${n}`,
  customer: `c${n % 7}`,
  amount: n * 1.25,
  at: `2024-05-01T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
  note: n % 3 === 0 ? null : `note ${n}`,
  blob: 'cafe',
}));

test('file source → file sink round trip: every record once, in order per key, malformed lines dead-lettered', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-file-'));
  const input = join(dir, 'in.jsonl');
  const lines = rows.map((r) => JSON.stringify(r));
  lines.splice(10, 0, '{"id": "broken"', JSON.stringify({ ...rows[0], amount: 'lots' }));
  await writeFile(input, lines.join('\n') + '\n');
  const env = createEnvironment([fileConnector, stderrConnector()]);
  const summary = await runPipeline(
    plan({ connector: 'file', options: { path: input, partitions: 3, key: 'customer' } }, { connector: 'file', options: { path: join(dir, 'out', 'payments.jsonl') } }, { connector: 'file', options: { path: join(dir, 'rejected.jsonl') } }),
    { workers: 2, env, libModule: LIB },
  );
  const out = (await readFile(join(dir, 'out', 'payments.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual([...out].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))), rows);
  for (let c = 0; c < 7; c++) {
    const ids = out.filter((r) => r.customer === `c${c}`).map((r) => r.id);
    t.deepEqual(ids, rows.filter((r) => r.customer === `c${c}`).map((r) => r.id));
  }
  const rejected = (await readFile(join(dir, 'rejected.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.is(rejected.length, 2);
  t.like(rejected[0], { pipeline: 'files', source: 'payments', partition: -1, offset: 11, operator: 'source:payments' });
  t.regex(rejected[1].reason, /amount: expected decimal/);
  t.is(summary.recordsOut, 60);
  t.is(summary.deadLetters, 2);
});

test('an Avro container file is a source too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-avro-'));
  const input = join(dir, 'in.avro');
  const type = avroType(SCHEMA);
  const encoder = new avro.streams.BlockEncoder(type);
  const file = encoder.pipe(createWriteStream(input));
  for (const r of rows) encoder.write({ ...r, at: Date.parse(r.at), blob: Buffer.from(r.blob, 'hex') });
  encoder.end();
  await once(file, 'close');
  const env = createEnvironment([fileConnector, stderrConnector()]);
  await runPipeline(plan({ connector: 'file', options: { path: input, partitions: 2 } }, { connector: 'file', options: { path: join(dir, 'out.jsonl') } }), { workers: 1, env, libModule: LIB });
  const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual([...out].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1))), rows);
  // Its offsets are record numbers, dealt round robin.
  const run = new AbortController();
  const { reader } = await openReader({ path: input, partitions: 2 }, run.signal);
  const offsets: number[] = [];
  for (let b = await reader.read(1, 10); b; b = await reader.read(1, 10)) offsets.push(...b.offsets);
  t.deepEqual(offsets, Array.from({ length: 30 }, (_, i) => 2 * i + 2));
  t.is(reader.describeOffsets(new Map([[0, 59], [1, 60]])), `records 59–60 of ${input}`);
  await reader.close();
});

/** `count` payments as JSON lines, ids p0, p1, … in file order. */
function payments(count: number): string[] {
  return Array.from({ length: count }, (_, n) => JSON.stringify({ id: `p${n}`, customer: `c${n % 97}`, amount: n % 1000, at: 1714557600000 + n, note: null, blob: '' }));
}

/** A file source opened as the runtime opens it, with the dead letters it reports. */
async function openReader(options: Record<string, string | number>, signal: AbortSignal): Promise<{ reader: FileSource; letters: Omit<DeadLetter, 'pipeline' | 'source' | 'time'>[] }> {
  const letters: Omit<DeadLetter, 'pipeline' | 'source' | 'time'>[] = [];
  const reader = await openFileSource({
    pipeline: 'files', name: 'payments', options, schema: SCHEMA, keySchema: 'string', signal,
    reject: async (letter) => void letters.push(letter),
    assignor: groupAssignor,
  });
  return { reader, letters };
}

test('a file far larger than any buffer streams through a run: every line once, each partition in file order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-file-'));
  const input = join(dir, 'in.jsonl');
  const count = 200_000;
  await writeFile(input, payments(count).join('\n') + '\n');
  const env = createEnvironment([fileConnector, stderrConnector()]);
  const summary = await runPipeline(
    plan({ connector: 'file', options: { path: input, partitions: 4, key: 'customer' } }, { connector: 'file', options: { path: join(dir, 'out.jsonl') } }),
    { workers: 2, env, libModule: LIB },
  );
  t.is(summary.recordsOut, count);
  const ids = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => Number((JSON.parse(l) as { id: string }).id.slice(1)));
  t.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: count }, (_, n) => n));
  // A customer's payments share a key, so a partition: they come out in file order.
  const last = new Map<number, number>();
  let outOfOrder = 0;
  for (const n of ids) {
    if ((last.get(n % 97) ?? -1) > n) outOfOrder++;
    last.set(n % 97, n);
  }
  t.is(outOfOrder, 0);
});

test('a partition that is not read stops the reading at its bound: its queue never exceeds it, and every line still comes in order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-file-'));
  const input = join(dir, 'in.jsonl');
  const count = 24_000;
  await writeFile(input, payments(count).join('\n') + '\n');
  const run = new AbortController();
  const { reader } = await openReader({ path: input, partitions: 2 }, run.signal);
  const most = [0, 0];
  const observe = () => {
    for (const p of [0, 1]) most[p] = Math.max(most[p]!, reader.queued(p));
  };
  const offsets: number[][] = [[], []];
  const consume = async (p: number, max: number, slowly: boolean) => {
    for (;;) {
      // The slow partition takes one record per turn of the event loop: the file is read far faster.
      if (slowly) await new Promise((resolve) => setImmediate(resolve));
      observe();
      const batch: SourceBatch | undefined = await reader.read(p, max);
      observe();
      if (!batch) return;
      offsets[p]!.push(...batch.offsets);
    }
  };
  await Promise.all([consume(0, 1000, false), consume(1, 1, true)]);
  t.is(most[1], reader.capacity, 'the slow partition filled up to its bound, and never beyond');
  t.true(most[0]! <= reader.capacity);
  // Round robin: line n (from 1) goes to partition (n - 1) mod 2, and its offset is its line number.
  t.deepEqual(offsets[0], Array.from({ length: count / 2 }, (_, i) => 2 * i + 1));
  t.deepEqual(offsets[1], Array.from({ length: count / 2 }, (_, i) => 2 * i + 2));
  await reader.close();
});

test('offsets are line numbers; blank lines are skipped, bad lines are dead letters naming file:line; backlog estimates what is left', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-file-'));
  const input = join(dir, 'in.jsonl');
  const lines = payments(20_000);
  lines.splice(2, 0, '', '{"id": "broken"');
  await writeFile(input, lines.join('\r\n'));
  const run = new AbortController();
  const { reader, letters } = await openReader({ path: input }, run.signal);
  const first = await reader.read(0, 1000);
  t.deepEqual(first!.offsets.slice(0, 4), [1, 2, 5, 6]);
  t.deepEqual(first!.values!.slice(0, 3).map((v) => (v as { id: string }).id), ['p0', 'p1', 'p2']);
  const left = reader.backlog(0);
  t.true(Math.abs(left - 19_000) < 1900, `backlog ${left} after 1000 of 20000 records`);
  const offsets = [...first!.offsets];
  for (let b = await reader.read(0, 1000); b; b = await reader.read(0, 1000)) offsets.push(...b.offsets);
  t.is(offsets.length, 20_000);
  t.is(offsets.at(-1), 20_002, 'the last line has no newline and is read');
  t.is(reader.backlog(0), 0);
  t.like(letters, [{ partition: -1, offset: 4, operator: 'source:payments', value: '{"id": "broken"' }]);
  t.true(letters[0]!.reason.startsWith(`${input}:4: `), letters[0]!.reason);
  t.is(reader.describeOffsets(new Map([[0, 20_002]])), `line 20002 of ${input}`);
  await reader.close();
});

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(Buffer.from(chunk)); done(); } });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('stdin → stdout in partition order is the same for any number of workers; text format', async (t) => {
  const outputs: string[] = [];
  for (const workers of [1, 2]) {
    const input = new PassThrough();
    const out = collector();
    const env = createEnvironment([stdinConnector(() => input), stdoutConnector(() => out.stream), stderrConnector(() => collector().stream)]);
    const run = runPipeline(plan({ connector: 'stdin', options: {} }, { connector: 'stdout', options: { format: 'text', order: 'partition' } }), { workers, env, libModule: LIB });
    for (const r of rows.slice(0, 5)) input.write(`${JSON.stringify(r)}\n`);
    input.end();
    await run;
    outputs.push(out.text());
  }
  t.is(outputs[0], outputs[1]);
  t.is(outputs[0]!.split('\n')[0], 'id=p0 customer=c0 amount=0 at=2024-05-01T10:00:00.000Z note=null blob=cafe');
  t.is(outputs[0]!.split('\n')[1], 'id=p1 customer=c1 amount=1.25 at=2024-05-01T10:00:01.000Z note="note 1" blob=cafe');
});
