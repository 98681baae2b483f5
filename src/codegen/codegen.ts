/**
 * Code generation: one fused JavaScript function per source (the contract
 * is src/plan/chain.ts). Everything downstream of the source — the streams
 * that read it, transitively, through `union` and `route` — is inlined into
 * one loop over the batch; records move between operators in local
 * variables. A stream read along two paths (a diamond through `union`) is
 * inlined once per path.
 *
 * Shape of a stream's code: a labelled block; its operators run in `try`
 * segments (a segment ends where `flat map` opens its inner loop or `route`
 * dispatches), so the error policy of a stream never catches the errors of
 * the streams it feeds. `where` and `dedupe` leave the block (or go on with
 * the next element inside a `flat map`).
 *
 * A `lookup` ends the loop's path there: the record waits in the lookup's
 * buffer (`ctx.lookups[i]`), and the rest of the stream is generated again
 * as continuation `c<i>`, a loop of its own over the waiting records and
 * their results, which the runtime calls once it has fetched them.
 *
 * A `group by` ends it too: the record updates the accumulators of its
 * group's windows (aggregate.ts) in the operator the runtime keeps
 * (`ctx.operators[i]`), and the rest of the stream is emitter `e<i>`, a
 * loop over the results the operator gives back when windows close (or,
 * emitting updates, after each batch).
 *
 * A `group by` or `dedupe` that repartitions (`TypedRepartition`) ends
 * the chain before it: the record goes to the exchange sink, keyed by the
 * exchange partition of its key, with its time and the task's watermark
 * (`PlanExchange`). The exchange's own chain starts at that operator.
 *
 * `ts` is each record's time: the source's `event time` field, the record
 * timestamp, or (read from an exchange) the time the record was written
 * with. A chain with stateful operators or exchange writes raises
 * `ctx.maxTime` to the largest, which moves the watermark.
 */
import type { PlanChain, PlanLookup, PlanOperator } from '../plan/plan.ts';
import type { ErrorPolicy, TypedEventTime, TypedExpr, TypedOperator, TypedProgram, TypedRepartition, TypedStream } from '../check/typed.ts';
import type { AvroType, RecordType } from '../types/avro-type.ts';
import { isNullable, nonNull, nullable, pascalCase, T } from '../types/type-utils.ts';
import { typeToAvsc } from '../types/to-avsc.ts';
import { accumulatorCode, type AccumulatorCode } from './aggregate.ts';
import { ChainScope, compileExpr, literalKey, paren, primitiveEquality, prop } from './expr.ts';

type AggregateOp = Extract<TypedOperator, { kind: 'aggregate' }>;
type DedupeOp = Extract<TypedOperator, { kind: 'dedupe' }>;

/** Where a chain starts: a source, or the exchange before a repartitioned `group by` or `dedupe` (its operator id). */
export type ChainStart = { source: string } | { exchange: string };

/** Everything from `start` to its sinks, as the body of `(lib) => ChainFunction`. */
export function generateChain(typed: TypedProgram, start: ChainStart): Omit<PlanChain, 'source'> {
  return new ChainWriter(typed).write(start);
}

/** A repartitioned `group by` or `dedupe`, and the exchange in front of it. */
export interface Exchange {
  /** The exchange source's name: `<stream>-repartition`, numbered when the stream has several. */
  name: string;
  /** Its sink's id. */
  sink: string;
  stream: TypedStream;
  /** The operator's index in its stream. */
  index: number;
  op: (AggregateOp | DedupeOp) & { repartition: TypedRepartition };
}

/** The program's exchanges, in stream order. */
export function exchanges(typed: TypedProgram): Exchange[] {
  return typed.streams.flatMap((stream) => {
    const found = stream.operators.flatMap((op, index) => ((op.kind === 'aggregate' || op.kind === 'dedupe') && op.repartition ? [{ op: op as Exchange['op'], index }] : []));
    return found.map(({ op, index }, n) => {
      const name = `${stream.name}-repartition${found.length > 1 ? `-${n + 1}` : ''}`;
      return { name, sink: `exchange:${name}`, stream, index, op };
    });
  });
}

/** The records of an exchange: `{ f, w, t, r }` (see `PlanExchange`). */
export function exchangeRecord(e: Exchange): RecordType {
  const name = pascalCase(e.name);
  return {
    kind: 'record', name, fields: [
      { name: 'f', type: T.int },
      { name: 'w', type: T.double },
      { name: 't', type: T.double },
      { name: 'r', type: nullable({ ...e.op.repartition.input, name: `${name}Record` }) },
    ],
  };
}

interface Entry {
  stream: TypedStream;
  /** The first operator that applies to records from this input: after the `union` that brought them. */
  start: number;
}

/** Where a skipped record goes: out of the stream's block, or on to the next element of a `flat map`. */
interface Flow {
  skip: string;
  policy: ErrorPolicy;
}

class ChainWriter {
  private readonly scope = new ChainScope();
  private readonly streams: Map<string, TypedStream>;
  private readonly sinks: string[] = [];
  /** Stateful operators met so far, in order: `ctx.operators[i]` in the chain, `PlanChain.operators[i]` in the plan. */
  private readonly stateful = new Map<string, { variable: string; descriptor: PlanOperator }>();
  private readonly opIds: string[] = [];
  /** Lookups met so far, by index; each continues the rest of its stream. */
  private readonly lookups: { op: Extract<TypedOperator, { kind: 'lookup' }>; stream: TypedStream; index: number; policy: ErrorPolicy }[] = [];
  /** Aggregates met so far, each with the stateful index it has and the rest of its stream. */
  private readonly aggregates: { op: AggregateOp; stream: TypedStream; index: number; policy: ErrorPolicy; operator: number; acc: AccumulatorCode }[] = [];
  private labels = 0;
  private vars = 0;
  private readonly exchanges: Map<string, Exchange>;
  /** The repartitioned `group by` this chain starts at (it aggregates here; any other one writes to its exchange). */
  private startsAt: string | undefined;
  private writesExchange = false;

  constructor(private readonly typed: TypedProgram) {
    this.streams = new Map(typed.streams.map((s) => [s.name, s]));
    this.exchanges = new Map(exchanges(typed).map((e) => [e.op.id, e]));
  }

  write(start: ChainStart): Omit<PlanChain, 'source'> {
    let body: string[];
    let first: string[];
    if ('source' in start) {
      body = this.outputs(start.source, 'r0', 'k0');
      first = this.recordTime(start.source);
    } else {
      const e = this.exchanges.get(start.exchange);
      if (!e) throw new Error(`no repartitioned group ${start.exchange}`);
      this.startsAt = e.op.id;
      body = this.stream({ stream: e.stream, start: e.index }, 'r0', 'k0');
      first = this.exchangeRecordTime();
    }
    // Continuations and emitters may meet further lookups and aggregates, which get theirs in turn.
    const continuations: string[][] = [];
    const emitters: string[][] = [];
    while (continuations.length < this.lookups.length || emitters.length < this.aggregates.length) {
      if (continuations.length < this.lookups.length) continuations.push(this.continuation(continuations.length));
      else emitters.push(this.emitter(emitters.length));
    }
    const timed = this.stateful.size > 0 || this.writesExchange;
    const main = this.fn('chain', 'batch, out, rejected, ctx', [
      '  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;',
      ...(timed ? ['  let mx = -Infinity;'] : []),
      ...(this.startsAt ? ['  const xin = ctx.inputs;'] : []),
    ], [
      '  for (let i = 0, n = values.length; i < n; i++) {',
      ...indent(first, 4),
      ...(timed ? ['    if (ts > mx) mx = ts;'] : []),
      ...indent(body, 4),
      '  }',
      ...(timed ? ['  if (mx > ctx.maxTime) ctx.maxTime = mx;'] : []),
    ]);
    const lines = ['"use strict";', `const ops = ${JSON.stringify(this.opIds)};`, this.scope.prelude()];
    if (this.lookups.length === 0 && this.aggregates.length === 0) {
      lines.push(`return ${main[0]}`, ...main.slice(1, -1), '};');
    } else {
      lines.push(...main, ...continuations.flatMap((c, i) => this.fn(`c${i}`, 'p, results, out, rejected, ctx', [], c)));
      lines.push(...emitters.flatMap((e, i) => this.fn(`e${i}`, 'results, offset, out, rejected, ctx', [], e)));
      if (continuations.length > 0) lines.push(`chain.continuations = [${continuations.map((_, i) => `c${i}`).join(', ')}];`);
      if (emitters.length > 0) {
        const byOperator = [...this.stateful.values()].map((_, i) => {
          const e = this.aggregates.findIndex((a) => a.operator === i);
          return e < 0 ? 'null' : `e${e}`;
        });
        lines.push(`chain.emitters = [${byOperator.join(', ')}];`);
      }
      lines.push('return chain;');
    }
    return {
      sinks: this.sinks,
      operators: [...this.stateful.values()].map((o) => o.descriptor),
      code: lines.join('\n') + '\n',
      ...(this.lookups.length > 0 ? { lookups: this.lookups.map(({ op }) => this.planLookup(op)) } : {}),
    };
  }

  /** A function of the chain: its locals (sinks, dedupe state, temporaries), then `loop`. */
  private fn(name: string, params: string, head: string[], loop: string[]): string[] {
    const temps = Array.from({ length: this.scope.temps }, (_, i) => `, t${i}`).join('');
    return [
      `function ${name}(${params}) {`,
      ...head,
      ...this.sinks.map((_, i) => `  const o${i} = out[${i}], o${i}k = o${i}.keys, o${i}v = o${i}.values, o${i}o = o${i}.offsets;`),
      ...(this.lookups.length > 0 ? ['  const lkp = ctx.lookups;'] : []),
      ...(this.writesExchange ? ['  const xc = ctx.exchange;'] : []),
      ...[...this.stateful.values()].map((o, i) => `  const ${o.variable} = ctx.operators[${i}];`),
      `  let at = 0${temps};`,
      ...loop,
      '}',
    ];
  }

  /**
   * The start of the main loop: the record, its key, offset and time. With
   * an `event time`, a record without one is a dead letter.
   */
  private recordTime(source: string): string[] {
    const eventTime = this.typed.sources.find((s) => s.name === source)?.eventTime;
    const lines = ['const r0 = values[i], k0 = keys[i], off = offsets[i];'];
    if (!eventTime) lines[0] = lines[0]!.slice(0, -1) + ', ts = timestamps[i];';
    else {
      lines.push(`const ts = ${this.eventTimeCode(eventTime)};`);
      if (isNullable(eventTime.field.type)) {
        const reason = JSON.stringify(`no event time: the record's ${pathText(eventTime.field)} is null`);
        lines.push(`if (ts == null) { ${this.scope.helper('reject')}(rejected, "dead_letter", ${JSON.stringify(`source:${source}`)}, ${reason}, off, k0, r0); continue; }`);
      }
    }
    return lines;
  }

  /**
   * The start of an exchange chain's loop: the upstream partition's
   * watermark moves the task's input (`ctx.inputs`), a watermark-only
   * record ends there, and a record goes on with the time it was written with.
   */
  private exchangeRecordTime(): string[] {
    return [
      'const x = values[i], xf = x.f;',
      'if (x.w > xin[xf]) xin[xf] = x.w;',
      'if (x.r === null) continue;',
      'const r0 = x.r, k0 = keys[i], off = offsets[i], ts = x.t;',
    ];
  }

  /** The event time of record `r0` in epoch milliseconds. */
  private eventTimeCode(eventTime: TypedEventTime): string {
    const value = compileExpr(eventTime.field, 'r0', this.scope);
    switch (nonNull(eventTime.field.type).kind) {
      case 'timestamp-micros':
        return isNullable(eventTime.field.type) ? `(${value} == null ? null : ${this.scope.helper('millisOfMicros')}(${value}))` : `${this.scope.helper('millisOfMicros')}(${value})`;
      case 'long':
        return isNullable(eventTime.field.type) ? `(${value} == null ? null : Number(${value}))` : `Number(${value})`;
      default:
        return value;
    }
  }

  /**
   * Emitter `j`: each result of aggregate `j` becomes the group's record
   * (keys, window, aggregates, in the order of its type) and runs through
   * the rest of its stream. A result's time is its window's last
   * millisecond (a running aggregate's: its latest record's).
   */
  private emitter(j: number): string[] {
    const { op, stream, index, policy, acc } = this.aggregates[j]!;
    const n = ++this.labels;
    const label = `s${n}`;
    const rec = `r${n}`;
    const key = `k${n}`;
    const values = new Map<string, string>(op.keys.map((k, i) => [k.name, `w.k[${i}]`]));
    values.set('window_start', 'w.s').set('window_end', 'w.e');
    acc.results('w.a').forEach((code, i) => values.set(op.aggregates[i]!.name, code));
    const fields = op.output.fields.map((f) => `${literalKey(f.name)}: ${values.get(f.name)!}`);
    const keyParts = [...op.keys.map((k) => k.name), ...(op.window ? ['window_start'] : [])];
    const keyCode = keyParts.length === 0 ? 'null'
      : keyParts.length === 1 ? values.get(keyParts[0]!)!
        : `{ ${keyParts.map((p) => `${literalKey(p)}: ${values.get(p)!}`).join(', ')} }`;
    const body = this.operators(stream, index + 1, rec, key, { skip: `break ${label}`, policy });
    return [
      '  for (let i = 0, n = results.length; i < n; i++) {',
      '    const w = results[i], off = offset, ts = w.e === null ? w.t : w.e - 1;',
      `    const r0 = { ${fields.join(', ')} }, k0 = ${keyCode};`,
      `    ${label}: {`,
      `      let ${rec} = r0, ${key} = k0;`,
      ...indent(body, 6),
      '    }',
      '  }',
    ];
  }

  /** The loop of continuation `i`: each waiting record gets its result field, then the rest of its stream runs. */
  private continuation(i: number): string[] {
    const { op, stream, index, policy } = this.lookups[i]!;
    const n = ++this.labels;
    const label = `s${n}`;
    const rec = `r${n}`;
    const key = `k${n}`;
    const fields = op.output.fields.map((f) => `${literalKey(f.name)}: ${f.name === op.name ? 'res' : `input${prop(f.name)}`}`);
    const missing = op.onMissing === 'drop'
      ? [`if (res == null) break ${label};`]
      : op.onMissing === 'dead_letter'
        ? [`if (res == null) { ${this.scope.helper('reject')}(rejected, "dead_letter", ${JSON.stringify(op.id)}, "lookup ${op.name}: nothing found for key " + String(p.keys[i]), off, k0, r0); break ${label}; }`]
        : [];
    const body = this.operators(stream, index + 1, rec, key, { skip: `break ${label}`, policy });
    return [
      '  for (let i = 0, n = p.records.length; i < n; i++) {',
      '    const r0 = p.sourceValues[i], k0 = p.sourceKeys[i], off = p.offsets[i], ts = p.timestamps[i], input = p.records[i], res = results[i];',
      `    ${label}: {`,
      ...indent(missing, 6),
      `      let ${rec} = { ${fields.join(', ')} }, ${key} = p.recordKeys[i];`,
      ...indent(body, 6),
      '    }',
      '  }',
    ];
  }

  private planLookup(op: Extract<TypedOperator, { kind: 'lookup' }>): PlanLookup {
    return { id: op.id, name: op.name, connector: op.connector, options: op.options, schema: typeToAvsc(op.schema), keySchema: typeToAvsc(op.key.type) };
  }

  /** The code for a record (in `rec`, `key`) leaving stream or source `name`: its sinks, then the streams reading it. */
  private outputs(name: string, rec: string, key: string): string[] {
    const lines: string[] = [];
    for (const sink of this.typed.sinks) {
      if (sink.input !== name) continue;
      let i = this.sinks.indexOf(sink.id);
      if (i < 0) i = this.sinks.push(sink.id) - 1;
      lines.push(`o${i}k.push(${key}); o${i}v.push(${rec}); o${i}o.push(off);`);
    }
    for (const entry of this.readers(name)) lines.push(...this.stream(entry, rec, key));
    return lines;
  }

  /** The streams that read `name` (route targets excepted: their route feeds them). */
  private readers(name: string): Entry[] {
    const entries: Entry[] = [];
    for (const stream of this.typed.streams) {
      if (stream.routedFrom) continue;
      if (stream.inputs[0] === name) entries.push({ stream, start: 0 });
      let viaUnion = false;
      stream.operators.forEach((op, i) => {
        if (op.kind === 'union' && op.streams.includes(name)) {
          entries.push({ stream, start: i + 1 });
          viaUnion = true;
        }
      });
      if (!viaUnion && stream.inputs.indexOf(name) > 0) entries.push({ stream, start: 0 });
    }
    return entries;
  }

  private stream(entry: Entry, inRec: string, inKey: string): string[] {
    const { stream } = entry;
    // Without operators of its own (a route target, a plain rename) the stream just passes records on.
    if (stream.operators.slice(entry.start).every((op) => op.kind === 'union')) return this.outputs(stream.name, inRec, inKey);
    const n = ++this.labels;
    const label = `s${n}`;
    const rec = `r${n}`;
    const key = `k${n}`;
    const lines = [`${label}: {`, `  let ${rec} = ${inRec}, ${key} = ${inKey};`];
    const body = this.operators(stream, entry.start, rec, key, { skip: `break ${label}`, policy: stream.errorPolicy });
    lines.push(...indent(body, 2), '}');
    return lines;
  }

  /** Operators `from`… of `stream`, then the stream's outputs. */
  private operators(stream: TypedStream, from: number, rec: string, key: string, flow: Flow): string[] {
    let segment: { id: string; code: string[] }[] = [];
    const close = (): string[] => {
      const code = segment.length === 0 ? [] : this.trySegment(segment, flow);
      segment = [];
      return code;
    };
    const lines: string[] = [];
    for (let i = from; i < stream.operators.length; i++) {
      const op = stream.operators[i]!;
      if (op.kind === 'union') continue;
      const code: string[] = [];
      segment.push({ id: op.id, code });
      // A repartitioned group or dedupe that this chain does not start at: the record goes to its exchange.
      const exchange = op.id === this.startsAt ? undefined : this.exchanges.get(op.id);
      if (exchange) {
        const [declare, write] = this.toExchange(exchange, rec, code);
        lines.push(declare, ...close(), write);
        return lines;
      }
      switch (op.kind) {
        case 'where':
          code.push(`if (!${this.condition(op.condition, rec)}) ${flow.skip};`);
          break;
        case 'select': {
          // Fields in the order of the output schema, so every record of the stream has one shape.
          const values = new Map(op.fields.map((f) => [f.name, f.value]));
          const fields = op.output.fields.map((f) => `${literalKey(f.name)}: ${compileExpr(values.get(f.name)!, rec, this.scope)}`);
          code.push(`${rec} = { ${fields.join(', ')} };`);
          break;
        }
        case 'key-by':
          code.push(`${key} = ${compileExpr(op.key, rec, this.scope)};`);
          break;
        case 'dedupe':
          code.push(...this.dedupe(op, rec, flow));
          break;
        case 'flat-map': {
          const array = `a${++this.vars}`;
          code.push(`${array} = ${compileExpr(op.array, rec, this.scope)};`);
          lines.push(`let ${array};`, ...close());
          lines.push(...this.flatMap(op, stream, i, array, rec, key, flow));
          return lines;
        }
        case 'aggregate': {
          code.push(...this.aggregate(op, stream, i, rec, flow, lines));
          lines.push(...close());
          return lines;
        }
        case 'lookup': {
          // The key is computed under the stream's error policy; the record then waits for the lookup.
          const j = this.lookups.push({ op, stream, index: i, policy: flow.policy }) - 1;
          const lk = `lk${++this.vars}`;
          code.push(`${lk} = ${compileExpr(op.key, rec, this.scope)};`);
          lines.push(`let ${lk};`, ...close());
          lines.push(`{ const p = lkp[${j}]; p.keys.push(${lk}); p.records.push(${rec}); p.recordKeys.push(${key}); p.offsets.push(off); p.timestamps.push(ts); p.sourceValues.push(r0); p.sourceKeys.push(k0); }`);
          return lines;
        }
        case 'route': {
          const branch = `b${++this.vars}`;
          const otherwise = op.otherwise === undefined ? -1 : op.branches.length;
          const choice = op.branches.map((b, j) => `${this.condition(b.condition, rec)} ? ${j} : `).join('');
          code.push(`${branch} = ${choice}${otherwise};`);
          lines.push(`let ${branch};`, ...close());
          const targets = [...op.branches.map((b) => b.target), ...(op.otherwise === undefined ? [] : [op.otherwise])];
          targets.forEach((target, j) => {
            const targetStream = this.streams.get(target);
            if (!targetStream) throw new Error(`route target ${target} is not a stream`);
            lines.push(`${j === 0 ? '' : 'else '}if (${branch} === ${j}) {`, ...indent(this.stream({ stream: targetStream, start: 0 }, rec, key), 2), '}');
          });
          // The routing stream itself passes nothing on: its records went to the targets (the checker rejects reading it).
          return lines;
        }
      }
    }
    lines.push(...close(), ...this.outputs(stream.name, rec, key));
    return lines;
  }

  /** One record per element: the element record is built outside `try` (it cannot fail), the rest of the stream runs per element. */
  private flatMap(op: Extract<TypedOperator, { kind: 'flat-map' }>, stream: TypedStream, i: number, array: string, rec: string, key: string, flow: Flow): string[] {
    const n = ++this.vars;
    const loop = `l${n}`;
    const element = `r${++this.labels}`;
    const elementKey = `k${this.labels}`;
    const fields = op.output.fields.map((f) => `${literalKey(f.name)}: ${f.name === op.as ? `${array}[j${n}]` : `${rec}${prop(f.name)}`}`);
    const body = this.operators(stream, i + 1, element, elementKey, { skip: `continue ${loop}`, policy: flow.policy });
    return [
      `if (${array} != null) ${loop}: for (let j${n} = 0; j${n} < ${array}.length; j${n}++) {`,
      `  let ${element} = { ${fields.join(', ')} }, ${elementKey} = ${key};`,
      ...indent(body, 2),
      '}',
    ];
  }

  private dedupe(op: Extract<TypedOperator, { kind: 'dedupe' }>, rec: string, flow: Flow): string[] {
    const variable = this.statefulOperator(op.id, () => ({
      id: op.id,
      kind: 'dedupe',
      config: { withinMs: op.withinMillis },
      // Key → the record time it was last let through; the watermark expires keys older than the window.
      stores: [{ name: 'seen', keySchema: typeToAvsc(op.key.type), valueSchema: { type: 'long', logicalType: 'timestamp-millis' }, retentionMs: op.withinMillis }],
    }));
    const value = compileExpr(op.key, rec, this.scope);
    // Map keys compare by identity: bytes, records, arrays and maps are keyed by their content.
    const dk = primitiveEquality(op.key.type) ? value : `${this.scope.helper('stateKey')}(${value})`;
    return [`if (!${variable}.admit(${dk}, ts)) ${flow.skip};`];
  }

  /**
   * A record into its group's windows: the keys and the aggregates'
   * arguments are computed (under the stream's error policy), the operator
   * finds the windows (null: all closed, the record is late), and each
   * window's accumulator takes the record. `declare` gets the variables.
   */
  private aggregate(op: AggregateOp, stream: TypedStream, index: number, rec: string, flow: Flow, declare: string[]): string[] {
    const acc = accumulatorCode(op, pascalCase(stream.name), this.scope);
    const variable = this.statefulOperator(op.id, () => aggregateDescriptor(op, pascalCase(stream.name), acc));
    this.aggregates.push({ op, stream, index, policy: flow.policy, operator: [...this.stateful.keys()].indexOf(op.id), acc });
    const keys = op.keys.map(() => `g${++this.vars}`);
    const args = op.aggregates.map((a) => (a.arg ? `x${++this.vars}` : ''));
    const windows = `w${++this.vars}`;
    declare.push(`let ${[...keys, ...args.filter((a) => a), windows].join(', ')};`);
    const group = keys.length === 0 ? 'null'
      : keys.length === 1 && primitiveEquality(op.keys[0]!.value.type) ? keys[0]!
        : `${this.scope.helper('groupKey')}([${keys.join(', ')}])`;
    const definition = this.scope.hoist(acc.definition);
    return [
      ...op.keys.map((k, i) => `${keys[i]} = ${compileExpr(k.value, rec, this.scope)};`),
      ...op.aggregates.flatMap((a, i) => (a.arg ? [`${args[i]} = ${compileExpr(a.arg, rec, this.scope)};`] : [])),
      `${windows} = ${variable}.windows(${group}, ts, ${definition});`,
      `if (${windows} === null) ${this.scope.helper('reject')}(rejected, "dead_letter", ${JSON.stringify(op.id)}, ${variable}.lateReason(ts), off, k0, r0);`,
      `else for (let wi = 0; wi < ${windows}.length; wi++) {`,
      `  const aw = ${windows}[wi], aa = aw.a;`,
      `  if (aw.k === null) aw.k = [${keys.join(', ')}];`,
      ...indent(acc.update('aa', args), 2),
      '}',
    ];
  }

  /**
   * A record into the exchange of a repartitioned group or dedupe: its key
   * (computed under the stream's error policy, into `code`) picks the exchange partition.
   */
  private toExchange(e: Exchange, rec: string, code: string[]): [declare: string, write: string] {
    this.writesExchange = true;
    let i = this.sinks.indexOf(e.sink);
    if (i < 0) i = this.sinks.push(e.sink) - 1;
    const part = `xp${++this.vars}`;
    const keys = (e.op.kind === 'aggregate' ? e.op.keys.map((k) => k.value) : [e.op.key]).map((k) => compileExpr(k, rec, this.scope));
    code.push(`${part} = ${this.scope.helper('exchangePartition')}([${keys.join(', ')}], xc.partitions);`);
    return [`let ${part};`, `o${i}k.push(${part}); o${i}v.push({ f: xc.partition, w: xc.watermark, t: ts, r: ${rec} }); o${i}o.push(off);`];
  }

  /** The variable holding a stateful operator in the chain (declared once per operator, whichever path meets it first). */
  private statefulOperator(id: string, descriptor: () => PlanOperator): string {
    let o = this.stateful.get(id);
    if (!o) this.stateful.set(id, (o = { variable: `sop${this.stateful.size}`, descriptor: descriptor() }));
    return o.variable;
  }


  /** A segment of operators under the stream's error policy. */
  private trySegment(segment: { id: string; code: string[] }[], flow: Flow): string[] {
    // With one operator the id is known; with several, `at` says which one failed.
    const one = segment.length === 1;
    const operator = one ? JSON.stringify(segment[0]!.id) : 'ops[at]';
    const code = segment.flatMap((op) => (one ? op.code : [`at = ${this.opIndex(op.id)};`, ...op.code]));
    const handle = flow.policy === 'fail'
      ? `throw ${this.scope.lib('fail')}(e instanceof Error ? e.message : String(e), ${operator}, off);`
      : `${this.scope.helper('reject')}(rejected, ${JSON.stringify(flow.policy)}, ${operator}, e, off, k0, r0); ${flow.skip};`;
    return ['try {', ...indent(code, 2), `} catch (e) { ${handle} }`];
  }

  /** A condition as a JavaScript boolean: null is false. */
  private condition(e: TypedExpr, rec: string): string {
    const code = compileExpr(e, rec, this.scope);
    return isNullable(e.type) ? `(${code} === true)` : paren(code);
  }

  private opIndex(id: string): number {
    const i = this.opIds.indexOf(id);
    return i >= 0 ? i : this.opIds.push(id) - 1;
  }
}

function indent(lines: string[], n: number): string[] {
  const pad = ' '.repeat(n);
  return lines.map((l) => pad + l);
}

/** An aggregate's plan descriptor: its window, emit mode and store (group → the group's windows). */
function aggregateDescriptor(op: AggregateOp, name: string, acc: AccumulatorCode): PlanOperator {
  const keyFields = op.keys.map((k) => ({ name: k.name, type: k.value.type }));
  // The store's keys are the groups' Map keys: the key itself, or the text several keys make (groupKey).
  const groupType: AvroType = keyFields.length === 0 ? T.null : keyFields.length === 1 ? keyFields[0]!.type : T.string;
  const window = {
    type: 'record', name: `${name}Window`, fields: [
      { name: 's', type: typeToAvsc(nullable(T.timestampMillis)) },
      { name: 'e', type: typeToAvsc(nullable(T.timestampMillis)) },
      { name: 't', type: typeToAvsc(T.timestampMillis) },
      // The key values as the chain computed them (an array at run time).
      { name: 'k', type: typeToAvsc({ kind: 'record', name: `${name}Keys`, fields: keyFields }) },
      { name: 'a', type: acc.schema },
    ],
  };
  return {
    id: op.id,
    kind: 'aggregate',
    config: {
      window: op.window ? { shape: op.window.shape, sizeMs: op.window.sizeMs, stepMs: op.window.stepMs ?? null } : null,
      emit: op.emit,
      // Accumulator fields holding Sets (count_distinct), which the store keeps as arrays.
      distinct: op.aggregates.flatMap((a, i) => (a.fn === 'count_distinct' ? [`v${i}`] : [])),
      // What accumulator i computes, for messages about the state (`sensei check --against`).
      aggregates: op.aggregates.map((a) => `${a.name}: ${a.fn}`),
    },
    stores: [{ name: 'groups', keySchema: typeToAvsc(groupType), valueSchema: { type: 'array', items: window } }],
  };
}

/** `created_at`, `meta.time`: the field an event time reads. */
function pathText(e: TypedExpr): string {
  return e.k === 'member' ? `${pathText(e.object)}.${e.name}` : e.k === 'field' ? e.name : '?';
}
