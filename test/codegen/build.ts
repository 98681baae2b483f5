/**
 * Hand-built typed programs for codegen tests, and a runner that compiles a
 * chain and pushes one batch through it.
 */
import type { Span } from '../../src/diagnostics/diagnostic.ts';
import type { Constant, ErrorPolicy, TypedExpr, TypedOperator, TypedProgram, TypedSink, TypedSource, TypedStream } from '../../src/check/typed.ts';
import type { AvroType, RecordType } from '../../src/types/avro-type.ts';
import type { ChainContext, ChainFunction, ChainOutput, PartitionState, Rejection } from '../../src/plan/chain.ts';
import type { PlanEventTime } from '../../src/plan/plan.ts';
import { ChainFailure } from '../../src/plan/chain.ts';
import { generateChain } from '../../src/codegen/codegen.ts';
import { stdlib } from '../../runtime/stdlib.ts';
import { TaskOperators } from '../../runtime/operators/task-operators.ts';
import { nullable, T } from '../../src/types/type-utils.ts';

export { nullable, T };

export const span: Span = { file: 'test.sensei', start: { offset: 0, line: 1, column: 1 }, end: { offset: 1, line: 1, column: 2 } };

export function record(name: string, fields: Record<string, AvroType>): RecordType {
  return { kind: 'record', name, fields: Object.entries(fields).map(([n, type]) => ({ name: n, type })) };
}

type Expr = TypedExpr;
const e = (type: AvroType, rest: Record<string, unknown>): Expr => ({ type, span, ...rest }) as Expr;

export const lit = (value: Constant, type: AvroType): Expr => e(type, { k: 'literal', value });
export const str = (value: string): Expr => lit(value, T.string);
export const int = (value: number): Expr => lit(value, T.int);
export const nul = (): Expr => lit(null, T.null);
export const field = (name: string, type: AvroType): Expr => e(type, { k: 'field', name });
export const member = (object: Expr, name: string, type: AvroType, nullSafe = false): Expr => e(type, { k: 'member', object, name, nullSafe });
export const index = (object: Expr, i: Expr, type: AvroType): Expr => e(type, { k: 'index', object, index: i, nullSafe: false });
export const call = (fn: string, args: Expr[], type: AvroType): Expr => e(type, { k: 'call', fn, args });
export const unary = (op: 'not' | '-', operand: Expr, type: AvroType): Expr => e(type, { k: 'unary', op, operand });
export const bin = (op: string, left: Expr, right: Expr, type: AvroType): Expr => e(type, { k: 'binary', op, left, right });
export const inList = (value: Expr, list: Expr[], negated = false): Expr => e(T.boolean, { k: 'in', value, list, negated });
export const between = (value: Expr, low: Expr, high: Expr, negated = false): Expr => e(T.boolean, { k: 'between', value, low, high, negated });
export const iff = (condition: Expr, then: Expr, otherwise: Expr, type: AvroType): Expr => e(type, { k: 'if', condition, then, otherwise });
export const caseOf = (branches: { condition: Expr; value: Expr }[], otherwise: Expr, type: AvroType): Expr => e(type, { k: 'case', branches, otherwise });
export const array = (items: Expr[], type: AvroType): Expr => e(type, { k: 'array', items });
export const map = (entries: { key: string; value: Expr }[], type: AvroType): Expr => e(type, { k: 'map', entries });

type OpSpec =
  | { kind: 'where'; condition: Expr }
  | { kind: 'select'; fields: { name: string; value: Expr }[] }
  | { kind: 'key-by'; key: Expr }
  | { kind: 'flat-map'; array: Expr; as: string; dropField?: string }
  | { kind: 'union'; streams: string[] }
  | { kind: 'route'; branches: { condition: Expr; target: string }[]; otherwise?: string }
  | { kind: 'dedupe'; key: Expr; withinMillis: number };

export const where = (condition: Expr): OpSpec => ({ kind: 'where', condition });
export const select = (fields: Record<string, Expr>): OpSpec => ({ kind: 'select', fields: Object.entries(fields).map(([name, value]) => ({ name, value })) });
export const keyBy = (key: Expr): OpSpec => ({ kind: 'key-by', key });
export const flatMap = (arr: Expr, as: string, dropField?: string): OpSpec => ({ kind: 'flat-map', array: arr, as, ...(dropField ? { dropField } : {}) });
export const union = (...streams: string[]): OpSpec => ({ kind: 'union', streams });
export const route = (branches: { condition: Expr; target: string }[], otherwise?: string): OpSpec => ({ kind: 'route', branches, ...(otherwise ? { otherwise } : {}) });
export const dedupe = (key: Expr, withinMillis: number): OpSpec => ({ kind: 'dedupe', key, withinMillis });

/** Builds programs in dependency order; output types are computed the simple way. */
export class ProgramBuilder {
  private readonly program: TypedProgram = { pipeline: 'test', file: 'test.sensei', sources: [], streams: [], sinks: [], schemas: {} };
  private readonly outputs = new Map<string, RecordType>();

  source(name: string, schema: RecordType): this {
    const src: TypedSource = { name, connector: 'datagen', options: {}, schema, keyType: T.string, span };
    this.program.sources.push(src);
    this.outputs.set(name, schema);
    return this;
  }

  stream(name: string, input: string, ops: OpSpec[], opts: { policy?: ErrorPolicy; routedFrom?: { stream: string; branch: number } } = {}): this {
    let type = this.outputs.get(input);
    if (!type) throw new Error(`unknown input ${input}`);
    const inputs = [input];
    const operators = ops.map((spec, i): TypedOperator => {
      if (spec.kind === 'select') type = record(name, Object.fromEntries(spec.fields.map((f) => [f.name, f.value.type])));
      if (spec.kind === 'flat-map') {
        const element = (spec.array.type.kind === 'union' ? spec.array.type.branches[1]! : spec.array.type) as { items: AvroType };
        type = { ...type!, fields: [...type!.fields.filter((f) => f.name !== spec.dropField && f.name !== spec.as), { name: spec.as, type: element.items }] };
      }
      if (spec.kind === 'union') inputs.push(...spec.streams);
      return { ...spec, id: `${name}/${i}:${spec.kind}`, span, output: type! } as TypedOperator;
    });
    const stream: TypedStream = { name, inputs, operators, errorPolicy: opts.policy ?? 'dead_letter', output: type, keyType: T.string, span, ...(opts.routedFrom ? { routedFrom: opts.routedFrom } : {}) };
    this.program.streams.push(stream);
    this.outputs.set(name, type);
    for (const op of ops) {
      if (op.kind !== 'route') continue;
      [...op.branches.map((b) => b.target), ...(op.otherwise ? [op.otherwise] : [])].forEach((target, branch) =>
        this.stream(target, name, [], { policy: opts.policy ?? 'dead_letter', routedFrom: { stream: name, branch } }));
    }
    return this;
  }

  sink(input: string): this {
    const n = this.program.sinks.filter((s) => s.input === input).length;
    const schema = this.outputs.get(input)!;
    const sink: TypedSink = { id: `sink:${input}:${n}`, input, connector: 'stdout', options: {}, schema, keyType: T.string, span };
    this.program.sinks.push(sink);
    return this;
  }

  build(): TypedProgram {
    return this.program;
  }
}

/** The function library, with `fail` for as long as runtime/stdlib.ts lacks it. */
export const testLib: Record<string, unknown> = {
  fail: (message: string, operator: string, offset: number) => new ChainFailure(message, operator, offset),
  ...stdlib,
};

export interface Input {
  key?: unknown;
  value: unknown;
  ts?: number;
}

export interface RunResult {
  /** Output per sink id. */
  out: Record<string, ChainOutput>;
  rejected: Rejection[];
  state: PartitionState;
  code: string;
}

export function instantiate(code: string, lib: Record<string, unknown> = testLib): ChainFunction {
  return new Function('lib', code)(lib) as ChainFunction;
}

/** Compiles the chain of `source` and runs one batch (or several, sharing state) through it. */
export function run(typed: TypedProgram, source: string, batches: Input[][] | Input[], opts: { state?: PartitionState; lib?: Record<string, unknown>; eventTime?: PlanEventTime; finish?: boolean } = {}): RunResult {
  const chain = generateChain(typed, { source });
  const fn = instantiate(chain.code, opts.lib);
  const out = chain.sinks.map(() => ({ keys: [], values: [], offsets: [] }) as ChainOutput);
  const rejected: Rejection[] = [];
  // The stateful operators as a worker makes them for a task, and the watermark after each batch.
  const operators = new TaskOperators(chain.operators, opts.state, 0, opts.eventTime);
  const ctx: ChainContext = { operators: operators.instances, maxTime: -Infinity };
  const list = (Array.isArray(batches[0]) ? batches : [batches]) as Input[][];
  let offset = 0;
  for (const batch of list) {
    const timestamps = batch.map((r) => r.ts ?? 0);
    fn({
      partition: 0,
      keys: batch.map((r) => r.key ?? null),
      values: batch.map((r) => r.value),
      offsets: batch.map(() => offset++),
      timestamps,
    }, out, rejected, ctx);
    operators.afterBatch(ctx.maxTime, 0, (i, results) => fn.emitters![i]!(results, offset - 1, out, rejected, ctx));
    ctx.maxTime = -Infinity;
  }
  if (opts.finish) operators.finish((i, results) => fn.emitters![i]!(results, offset - 1, out, rejected, ctx));
  return { out: Object.fromEntries(chain.sinks.map((id, i) => [id, out[i]!])), rejected, state: operators.snapshot(), code: chain.code };
}

/** Evaluates `expr` over one record of type `schema` (through a `select`), returning the value or the error. */
export function evaluate(expr: Expr, schema: RecordType, value: Record<string, unknown>, lib?: Record<string, unknown>): unknown {
  const typed = new ProgramBuilder().source('s', schema).stream('x', 's', [select({ v: expr })], { policy: 'fail' }).sink('x').build();
  const result = run(typed, 's', [{ value }], lib ? { lib } : {});
  return (result.out['sink:x:0']!.values[0] as { v: unknown }).v;
}
