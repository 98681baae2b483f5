// A reference for windowed aggregation, computed with plain loops (for
// windows.test.ts and windows-run.test.ts): what each window shape emits
// over a partition's events, batch by batch, and how many records are late.

export const LATENESS = 5_000;
export const SHAPES = {
  tumbling: 'window tumbling 10s',
  hopping: 'window hopping 10s every 5s',
  cumulate: 'window cumulate 20s every 5s',
  session: 'window session gap 3s',
} as const;
export type Shape = keyof typeof SHAPES;

/** Every shape over one source, each stream to its own sink; the source's connector is the caller's to set. */
export const PIPELINE = `
pipeline windows
schema Event { key: string, v: long, at: timestamp_millis }
source events: Event from datagen event time at lateness 5s
${Object.entries(SHAPES).map(([name, window]) => `
stream ${name} = events
  | ${window}
  | group by key { n: count(), total: sum(v), lo: min(v), hi: max(v), first_v: first(v), last_v: last(v), kinds: count_distinct(v % 3), vs: collect(v) }
sink ${name} to stdout { format: json }`).join('\n')}
`;

export interface Event { key: string; v: number; at: number }
export interface Row { key: string; window_start: number; window_end: number; n: number; total: number; lo: number; hi: number; first_v: number; last_v: number; kinds: number; vs: number[] }

/** A seeded generator, so that a failure can be replayed. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Events drifting forward in time in bursts (so sessions end), most a little out of order, some far behind (late). */
export function events(count: number, rnd: () => number): Event[] {
  const base = Date.UTC(2024, 4, 1);
  return Array.from({ length: count }, (_, i) => ({
    key: 'abcd'[Math.floor(rnd() * 4)]!,
    v: Math.floor(rnd() * 100),
    at: base + i * 150 + Math.floor(i / 40) * 8_000 + Math.floor((rnd() < 0.05 ? -20_000 : -3_000) * rnd()),
  }));
}

export function split(count: number, rnd: () => number): [number, number][] {
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
export function reference(shape: Shape, input: Event[], batches: [number, number][]): { rows: Row[]; late: number } {
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

/** Rows in a canonical order, for comparing multisets. */
export const canonical = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();
