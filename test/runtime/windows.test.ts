// Windowed aggregation against a reference computed here with plain loops:
// tumbling, hopping, cumulating and session windows over out-of-order input
// with late records, several keys per partition, random batch boundaries,
// and a task that moves to another worker (its snapshot through structured
// clone) half-way through.
import test from 'ava';
import { BatchRunner, type BatchInput } from '../../runtime/worker/batch.ts';
import { TaskOperators } from '../../runtime/operators/task-operators.ts';
import { stdlib } from '../../runtime/stdlib.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { compilePlan } from '../support/compile.ts';

const LATENESS = 5_000;
const SHAPES = {
  tumbling: 'window tumbling 10s',
  hopping: 'window hopping 10s every 5s',
  cumulate: 'window cumulate 20s every 5s',
  session: 'window session gap 3s',
} as const;
type Shape = keyof typeof SHAPES;

const PIPELINE = `
pipeline windows
schema Event { key: string, v: long, at: timestamp_millis }
source events: Event from datagen event time at lateness 5s
${Object.entries(SHAPES).map(([name, window]) => `
stream ${name} = events
  | ${window}
  | group by key { n: count(), total: sum(v), lo: min(v), hi: max(v), first_v: first(v), last_v: last(v), kinds: count_distinct(v % 3), vs: collect(v) }
sink ${name} to stdout { format: json }`).join('\n')}
`;

interface Event { key: string; v: number; at: number }
interface Row { key: string; window_start: number; window_end: number; n: number; total: number; lo: number; hi: number; first_v: number; last_v: number; kinds: number; vs: number[] }

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Events drifting forward in time in bursts (so sessions end), most a little out of order, some far behind (late). */
function events(count: number, rnd: () => number): Event[] {
  const base = Date.UTC(2024, 4, 1);
  return Array.from({ length: count }, (_, i) => ({
    key: 'abcd'[Math.floor(rnd() * 4)]!,
    v: Math.floor(rnd() * 100),
    at: base + i * 150 + Math.floor(i / 40) * 8_000 + Math.floor((rnd() < 0.05 ? -20_000 : -3_000) * rnd()),
  }));
}

function split(count: number, rnd: () => number): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 0; at < count; ) {
    const n = 1 + Math.floor(rnd() * 25);
    out.push([at, Math.min(count, at + n)]);
    at += n;
  }
  return out;
}

// ------------------------------------------------------------ the reference

interface RefWindow { key: string; start: number; end: number; records: { at: number; v: number; i: number }[] }

function windowsOf(shape: Exclude<Shape, 'session'>, at: number): [number, number][] {
  const floor = (x: number, m: number) => x - (((x % m) + m) % m);
  if (shape === 'tumbling') return [[floor(at, 10_000), floor(at, 10_000) + 10_000]];
  if (shape === 'hopping') {
    const out: [number, number][] = [];
    for (let s = floor(at, 5_000); s > at - 10_000; s -= 5_000) out.push([s, s + 10_000]);
    return out;
  }
  const base = floor(at, 20_000);
  const out: [number, number][] = [];
  for (let e = base + 5_000; e <= base + 20_000; e += 5_000) if (e > at) out.push([base, e]);
  return out;
}

function row(w: RefWindow): Row {
  const byTime = [...w.records].sort((a, b) => a.at - b.at || a.i - b.i);
  const vs = byTime.map((r) => r.v);
  return {
    key: w.key, window_start: w.start, window_end: w.end, n: vs.length, total: vs.reduce((a, b) => a + b, 0),
    lo: Math.min(...vs), hi: Math.max(...vs), first_v: byTime[0]!.v, last_v: byTime.at(-1)!.v, kinds: new Set(vs.map((v) => v % 3)).size, vs,
  };
}

/** What each shape emits, and how many records were late, with the watermark moving after each batch. */
function reference(shape: Shape, input: Event[], batches: [number, number][]): { rows: Row[]; late: number } {
  const open: RefWindow[] = [];
  const rows: Row[] = [];
  let late = 0;
  let watermark = -Infinity;
  let highest = -Infinity;
  for (const [from, to] of batches) {
    for (let i = from; i < to; i++) {
      const e = input[i]!;
      if (shape === 'session') {
        if (e.at + 3_000 <= watermark) {
          late++;
          continue;
        }
        const overlapping = open.filter((w) => w.key === e.key && w.start < e.at + 3_000 && e.at < w.end);
        const merged: RefWindow = { key: e.key, start: e.at, end: e.at + 3_000, records: [{ at: e.at, v: e.v, i }] };
        for (const w of overlapping) {
          merged.start = Math.min(merged.start, w.start);
          merged.end = Math.max(merged.end, w.end);
          merged.records.push(...w.records);
          open.splice(open.indexOf(w), 1);
        }
        open.push(merged);
        continue;
      }
      const bounds = windowsOf(shape, e.at).filter(([, end]) => end > watermark);
      if (bounds.length === 0) late++;
      for (const [start, end] of bounds) {
        let w = open.find((x) => x.key === e.key && x.start === start && x.end === end);
        if (!w) open.push((w = { key: e.key, start, end, records: [] }));
        w.records.push({ at: e.at, v: e.v, i });
      }
    }
    for (let i = from; i < to; i++) highest = Math.max(highest, input[i]!.at);
    watermark = Math.max(watermark, highest - LATENESS);
    for (const w of [...open]) {
      if (w.end <= watermark) {
        rows.push(row(w));
        open.splice(open.indexOf(w), 1);
      }
    }
  }
  rows.push(...open.map(row));
  return { rows, late };
}

// ------------------------------------------------------------ the engine

async function runEngine(plan: Plan, input: Event[], batches: [number, number][], moveAt: number): Promise<{ rows: Record<Shape, Row[]>; late: Record<string, number> }> {
  const chain = plan.chains[0]!;
  const sinkIds = plan.sinks.map((s) => s.id);
  const source = plan.sources[0]!;
  const runner = new BatchRunner({
    pipeline: plan.pipeline,
    chains: [{ source: source.name, code: chain.code, sinks: chain.sinks.map((id) => sinkIds.indexOf(id)), operators: chain.operators, schema: source.schema, keySchema: source.keySchema, eventTime: source.eventTime }],
    sinks: plan.sinks.map((s) => ({ id: s.id, connector: s.connector, format: 'json', schema: s.schema, keySchema: s.keySchema, withKeys: false })),
  }, stdlib);
  const c = runner.chains[0]!;
  let ops = new TaskOperators(c.operators, undefined, 0, c.eventTime);
  const rows = Object.fromEntries(Object.keys(SHAPES).map((s) => [s, [] as Row[]])) as Record<Shape, Row[]>;
  const late: Record<string, number> = {};
  const take = (result: ReturnType<BatchRunner['run']>) => {
    result.outputs.forEach((out, i) => {
      if (!out) return;
      const sink = plan.sinks.find((s) => s.id === chain.sinks[i])!;
      for (const line of Buffer.from(out.data).toString('utf8').split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as Row & { window_start: string; window_end: string };
        rows[sink.stream as Shape].push({ ...r, window_start: Date.parse(r.window_start), window_end: Date.parse(r.window_end) });
      }
    });
    for (const e of result.errors) late[e.operator] = (late[e.operator] ?? 0) + e.count;
  };
  for (const [b, [from, to]] of batches.entries()) {
    if (b === moveAt) ops = new TaskOperators(c.operators, structuredClone(ops.snapshot()), 0, c.eventTime);
    const slice = input.slice(from, to);
    const batch: BatchInput = {
      count: slice.length,
      values: (f, t) => slice.slice(f, t),
      keys: (f, t) => new Array<unknown>(t - f).fill(null),
      offsets: slice.map((_, i) => from + i),
      timestamps: slice.map(() => 0),
      chunk: 7,
    };
    take(runner.run(c, 0, ops, batch));
  }
  take(await runner.endOfInput(c, 0, ops, input.length - 1, () => Promise.reject(new Error('no lookups'))));
  return { rows, late };
}

const canonical = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: every window shape gives the reference's results and late records, across batches and a move`, async (t) => {
    const plan = compilePlan(PIPELINE);
    const rnd = random(seed);
    const input = events(1500, rnd);
    const batches = split(input.length, rnd);
    const engine = await runEngine(plan, input, batches, Math.floor(batches.length / 2));
    let lateTotal = 0;
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      const ref = reference(shape, input, batches);
      t.true(ref.rows.length > 20, `${shape}: the input makes many windows`);
      t.deepEqual(canonical(engine.rows[shape]), canonical(ref.rows), shape);
      const operator = plan.chains[0]!.operators.find((o) => o.id.startsWith(`${shape}/`))!.id;
      t.is(engine.late[operator] ?? 0, ref.late, `${shape}: late records`);
      lateTotal += ref.late;
    }
    t.true(lateTotal > 0, 'some records are late');
  });
}
