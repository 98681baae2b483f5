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
 */
import type { PlanChain, PlanLookup, PlanOperator } from '../plan/plan.ts';
import type { ErrorPolicy, TypedExpr, TypedOperator, TypedProgram, TypedStream } from '../check/typed.ts';
import { isNullable } from '../types/type-utils.ts';
import { typeToAvsc } from '../types/to-avsc.ts';
import { ChainScope, compileExpr, literalKey, paren, primitiveEquality, prop } from './expr.ts';

/** Everything from `source` to its sinks, as the body of `(lib) => ChainFunction`. */
export function generateChain(typed: TypedProgram, source: string): Omit<PlanChain, 'source'> {
  return new ChainWriter(typed).write(source);
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
  private labels = 0;
  private vars = 0;

  constructor(private readonly typed: TypedProgram) {
    this.streams = new Map(typed.streams.map((s) => [s.name, s]));
  }

  write(source: string): Omit<PlanChain, 'source'> {
    const body = this.outputs(source, 'r0', 'k0');
    // Continuations may meet further lookups, which get continuations in turn.
    const continuations: string[][] = [];
    for (let i = 0; i < this.lookups.length; i++) continuations.push(this.continuation(i));
    const main = this.fn('chain', 'batch, out, rejected, ctx', [
      '  const keys = batch.keys, values = batch.values, offsets = batch.offsets, timestamps = batch.timestamps;',
    ], [
      '  for (let i = 0, n = values.length; i < n; i++) {',
      '    const r0 = values[i], k0 = keys[i], off = offsets[i], ts = timestamps[i];',
      ...indent(body, 4),
      '  }',
    ]);
    const lines = ['"use strict";', `const ops = ${JSON.stringify(this.opIds)};`, this.scope.prelude()];
    if (this.lookups.length === 0) {
      lines.push(`return ${main[0]}`, ...main.slice(1, -1), '};');
    } else {
      lines.push(...main, ...continuations.flatMap((c, i) => this.fn(`c${i}`, 'p, results, out, rejected, ctx', [], c)));
      lines.push(`chain.continuations = [${continuations.map((_, i) => `c${i}`).join(', ')}];`, 'return chain;');
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
      ...[...this.stateful.values()].map((o, i) => `  const ${o.variable} = ctx.operators[${i}];`),
      `  let at = 0${temps};`,
      ...loop,
      '}',
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
