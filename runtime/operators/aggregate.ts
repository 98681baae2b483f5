/**
 * `window … | group by … { … }`: keeps each group's open windows and their
 * accumulators, and gives back results. The chain finds a record's windows
 * through `windows(group, time, definition)` and updates their accumulators
 * itself (generated code, src/codegen/aggregate.ts); this class decides
 * which windows a time falls into, opens, merges (sessions) and closes
 * them.
 *
 * One store, `groups`: group key → the group's open windows. A window
 * closes when the watermark reaches its end (the watermark already trails
 * the largest event time by the allowed lateness); a record whose windows
 * have all closed is late, and the chain dead-letters it with
 * `lateReason`. Results: with `emit final`, each window once as it closes;
 * with `emit updates` (and always without a window), each window the last
 * batch changed.
 */
import type { AccumulatorDefinition, WindowResult } from '../../src/plan/chain.ts';
import type { PlanOperator, PlanWindow } from '../../src/plan/plan.ts';
import type { StoredForm } from '../state/codec.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { StatefulOperator } from './operator.ts';

/** A window as the operator keeps it: the result plus its group key. */
interface OpenWindow extends WindowResult {
  g: unknown;
}

export class Aggregate implements StatefulOperator {
  /** Open windows by their end, for closing them in order as the watermark passes. */
  private readonly closing = new Map<number, Set<OpenWindow>>();
  /** The ends in `closing`, ascending. */
  private ends: number[] = [];
  private watermark = -Infinity;
  /** Windows changed since the last results (emit updates). */
  private readonly changed = new Set<OpenWindow>();
  /** Windows closed since the last results (emit final). */
  private closed: OpenWindow[] = [];
  /** What `windows` returns: reused, the chain reads it at once. */
  private readonly found: OpenWindow[] = [];

  constructor(
    private readonly groups: KeyValueStore<unknown, OpenWindow[]>,
    private readonly window: PlanWindow | null,
    private readonly updates: boolean,
  ) {
    for (const [, list] of groups.entries()) for (const w of list) this.schedule(w);
  }

  static create(descriptor: PlanOperator, stores: ReadonlyMap<string, KeyValueStore>): Aggregate {
    const { window, emit } = descriptor.config;
    return new Aggregate(stores.get('groups') as KeyValueStore<unknown, OpenWindow[]>, (window ?? null) as PlanWindow | null, emit === 'updates');
  }

  /**
   * A group's windows as its store's schema has them: the key values as a
   * record (an array in memory), the accumulators' distinct values as
   * arrays (Sets in memory, `config.distinct` names them).
   */
  static storedForm(descriptor: PlanOperator): StoredForm {
    const window = ((descriptor.stores[0]!.valueSchema as { items: { fields: { name: string; type: { fields: { name: string }[] } }[] } }).items);
    const keyNames = window.fields.find((f) => f.name === 'k')!.type.fields.map((f) => f.name);
    const distinct = (descriptor.config.distinct ?? []) as string[];
    return {
      toStored: (value) => (value as OpenWindow[]).map((w) => ({
        s: w.s, e: w.e, t: w.t,
        k: Object.fromEntries(keyNames.map((name, i) => [name, w.k![i]])),
        a: distinct.length === 0 ? w.a : { ...w.a, ...Object.fromEntries(distinct.map((d) => [d, [...(w.a[d] as Set<unknown>)]])) },
      })),
      fromStored: (value, key) => (value as (WindowResult & { k: Record<string, unknown> })[]).map((w): OpenWindow => ({
        g: key, s: w.s, e: w.e, t: w.t,
        k: keyNames.map((name) => w.k[name]),
        a: distinct.length === 0 ? w.a : { ...w.a, ...Object.fromEntries(distinct.map((d) => [d, new Set(w.a[d] as unknown[])])) },
      })),
    };
  }

  /** The open windows of `group` that a record at `time` belongs to (created as needed), or null when they have all closed. */
  windows(group: unknown, time: number, definition: AccumulatorDefinition): WindowResult[] | null {
    const found = this.found;
    found.length = 0;
    let list = this.groups.get(group);
    if (!list) {
      list = [];
      this.groups.put(group, list);
    } else this.groups.touch(group);
    const w = this.window;
    if (!w) {
      found.push(this.withTime(list[0] ?? this.open(group, list, null, null, definition), time));
    } else if (w.shape === 'session') {
      const session = this.session(group, list, time, w.sizeMs, definition);
      if (!session) return null;
      found.push(session);
    } else {
      if (w.shape === 'tumbling') {
        // One window per record: computed here, without the bounds list hopping and cumulating windows need.
        const start = time - mod(time, w.sizeMs);
        if (start + w.sizeMs > this.watermark) found.push(this.windowOf(group, list, start, start + w.sizeMs, time, definition));
      } else {
        for (const [start, end] of bounds(w, time)) {
          if (end > this.watermark) found.push(this.windowOf(group, list, start, end, time, definition));
        }
      }
      if (found.length === 0) {
        if (list.length === 0) this.groups.delete(group);
        return null;
      }
    }
    if (this.updates) for (const f of found) this.changed.add(f);
    return found;
  }

  /** Why a record at `time` is late: the window it would have gone into closed when the watermark passed its end. */
  lateReason(time: number): string {
    const w = this.window!;
    const [start, end] = w.shape === 'session' ? [time, time + w.sizeMs] : bounds(w, time).at(-1)!;
    return `late: event time ${iso(time)} belongs to window [${iso(start)}, ${iso(end)}), closed at watermark ${iso(this.watermark)}`;
  }

  onWatermark(watermark: number): void {
    this.watermark = watermark;
    while (this.ends.length > 0 && this.ends[0]! <= watermark) {
      const end = this.ends.shift()!;
      for (const w of this.closing.get(end)!) {
        this.remove(w);
        if (!this.updates) this.closed.push(w);
      }
      this.closing.delete(end);
    }
  }

  /** The results since the last call: closed windows (emit final) or changed ones (emit updates). */
  takeResults(): WindowResult[] {
    if (this.updates) {
      const results = [...this.changed];
      this.changed.clear();
      return results;
    }
    const results = this.closed;
    this.closed = [];
    return results;
  }

  /** The group's window [start, end), opened if it is not yet, with `time` added to its latest. */
  private windowOf(group: unknown, list: OpenWindow[], start: number, end: number, time: number, definition: AccumulatorDefinition): OpenWindow {
    let open: OpenWindow | undefined;
    for (const candidate of list) {
      if (candidate.s === start && candidate.e === end) {
        open = candidate;
        break;
      }
    }
    open ??= this.open(group, list, start, end, definition);
    return this.withTime(open, time);
  }

  private open(group: unknown, list: OpenWindow[], start: number | null, end: number | null, definition: AccumulatorDefinition): OpenWindow {
    const w: OpenWindow = { g: group, s: start, e: end, t: -Infinity, k: null, a: definition.init() };
    list.push(w);
    this.schedule(w);
    return w;
  }

  /**
   * The session a record at `time` extends: [time, time + gap) merged with
   * every open session of the group it overlaps (their accumulators merge
   * into the earliest one), or null when it would already be closed.
   */
  private session(group: unknown, list: OpenWindow[], time: number, gap: number, definition: AccumulatorDefinition): OpenWindow | null {
    if (time + gap <= this.watermark) {
      if (list.length === 0) this.groups.delete(group);
      return null;
    }
    let into: OpenWindow | undefined;
    for (const w of [...list]) {
      if (!(w.s! < time + gap && time < w.e!)) continue;
      if (!into) {
        into = w;
        continue;
      }
      definition.merge(into.a, w.a);
      into.k ??= w.k;
      if (w.t > into.t) into.t = w.t;
      const [s, e] = [Math.min(into.s!, w.s!), Math.max(into.e!, w.e!)];
      this.unschedule(w);
      this.remove(w);
      this.reschedule(into, s, e);
    }
    if (!into) return this.withTime(this.open(group, list, time, time + gap, definition), time);
    this.reschedule(into, Math.min(into.s!, time), Math.max(into.e!, time + gap));
    return this.withTime(into, time);
  }

  private withTime(w: OpenWindow, time: number): OpenWindow {
    if (time > w.t) w.t = time;
    return w;
  }

  private reschedule(w: OpenWindow, start: number, end: number): void {
    if (w.e !== end) {
      this.unschedule(w);
      w.e = end;
      this.schedule(w);
    }
    w.s = start;
  }

  private schedule(w: OpenWindow): void {
    if (w.e === null) return;
    let set = this.closing.get(w.e);
    if (!set) {
      this.closing.set(w.e, (set = new Set()));
      this.ends.splice(insertionPoint(this.ends, w.e), 0, w.e);
    }
    set.add(w);
  }

  private unschedule(w: OpenWindow): void {
    const set = this.closing.get(w.e!);
    if (!set) return;
    set.delete(w);
    if (set.size === 0) {
      this.closing.delete(w.e!);
      this.ends.splice(this.ends.indexOf(w.e!), 1);
    }
  }

  /** Takes a window out of its group (not out of `closing`: the caller does that). */
  private remove(w: OpenWindow): void {
    const list = this.groups.get(w.g);
    if (!list) return;
    const at = list.indexOf(w);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.groups.delete(w.g);
    else this.groups.touch(w.g);
  }
}

/** The [start, end) of each window of a tumbling, hopping or cumulating shape that holds `time`. */
function bounds(w: PlanWindow, time: number): [number, number][] {
  const size = w.sizeMs;
  switch (w.shape) {
    case 'tumbling': {
      const start = time - mod(time, size);
      return [[start, start + size]];
    }
    case 'hopping': {
      const step = w.stepMs!;
      const out: [number, number][] = [];
      for (let start = time - mod(time, step); start > time - size; start -= step) out.unshift([start, start + size]);
      return out;
    }
    case 'cumulate': {
      const step = w.stepMs!;
      const base = time - mod(time, size);
      const out: [number, number][] = [];
      for (let end = base + (Math.floor((time - base) / step) + 1) * step; end <= base + size; end += step) out.push([base, end]);
      return out;
    }
    default:
      throw new Error(`no bounds for ${w.shape} windows`);
  }
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function insertionPoint(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
