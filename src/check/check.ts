/**
 * The type-check stage: ResolvedProgram → TypedProgram. Infers the record
 * type after every operator of every stream, checks every expression
 * (expr.ts) and every connector declaration (options.ts).
 *
 * Operator rules:
 * - `where c`: c is a boolean (null counts as false). Top-level fields the
 *   condition proves non-null (`where x != null`) become non-null after it.
 * - `select`: `*` brings every input field in place; `-f` removes a field
 *   that `*` brought; `a.b` keeps a nested field named `b` (null-safe);
 *   `name: expr` computes one. An explicit item named like a `*` field
 *   replaces it in place; two explicit items with one name are an error.
 * - `flat map xs as x`: one record per element of the array `xs`; the
 *   output keeps every input field and adds `x` (the element type) at the
 *   end. With `as` equal to the array field's own name, the element
 *   replaces the array in place. A null array gives no records.
 * - `union s, t`: records of the streams must agree field by field (see
 *   recordUnion); a field nullable on one side is nullable after; keys must
 *   have one type.
 * - `route`: the last operator; each target is a stream of its own with the
 *   record type at the route. The stream itself passes no records on: a
 *   sink, stream or `union` that reads it is an error.
 * - `key by e`: the key becomes e (type of e); sources have no key (`null`).
 * - `lookup name: T from c { key: e, … }`: e is a scalar; the output adds
 *   field `name` of record type T, nullable unless `on_missing` drops or
 *   dead-letters records without a result.
 * - Every operator's output record is named after the stream (PascalCase).
 */
import type { Diagnostic, Span } from '../diagnostics/diagnostic.ts';
import { diagnostic, type Code } from '../diagnostics/codes.ts';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import type { ConnectorSpecs } from '../spi/spec.ts';
import type { AvroType, RecordField, RecordType } from '../types/avro-type.ts';
import type { EventTimeClause, Expr, GroupOp, Identifier, LookupOp, Operator, PartitionClause, SelectItem, StreamDecl, WindowOp } from '../syntax/ast.ts';
import { closestMatch } from '../syntax/suggest.ts';
import { nonNull, nullableIf, isNullable, pascalCase, recordUnion, T, typesEqual, typeToString } from '../types/type-utils.ts';
import type { ResolvedProgram, ResolvedSource, ResolvedStream } from '../resolve/resolve.ts';
import { validAvroName } from '../resolve/schemas.ts';
import { ExprChecker, nonNullWhen, pathOf } from './expr.ts';
import { checkConnector } from './options.ts';
import { AGGREGATES, aggregateType, type AggregateFn } from './aggregates.ts';
import type { ErrorPolicy, LookupMissing, TypedAggregate, TypedEventTime, TypedOperator, TypedProgram, TypedSink, TypedSource, TypedStream, TypedExpr, TypedWindow } from './typed.ts';

export interface CheckResult {
  /** Present when the program (and its resolution) has no errors. */
  typed?: TypedProgram;
  diagnostics: Diagnostic[];
  /** What editor tools need even when checking failed: the record each operator reads, and what each source and stream outputs. */
  scopes: CheckScopes;
}

export interface CheckScopes {
  operators: Map<Operator, RecordType>;
  outputs: Map<string, RecordType>;
}

const POLICIES: readonly ErrorPolicy[] = ['dead_letter', 'skip', 'fail'];

interface Flow {
  output: RecordType;
  keyType: AvroType;
  errorPolicy: ErrorPolicy;
  /** A source that may have several partitions, when the records come from one (a `dedupe` is per partition). */
  partitioned?: string;
  /** The fields its `partitioned by` names (paths in its schema), when it declares them. */
  partitionKeys?: readonly string[];
  /** Where those fields are in these records: a field path here → the source's path (see carryPartitioning). */
  carried?: ReadonlyMap<string, string>;
  /** The source, when it declares no `event time` (windows then use record timestamps). */
  untimed?: string;
  /** Where a `group by` aggregated the records since they were read. */
  aggregated?: Span;
  /** Records of several sources meet here (a `union`): a `group` cannot repartition them. */
  mixed?: boolean;
}

const WINDOW_SHAPES = ['tumbling', 'hopping', 'session', 'cumulate'] as const;
const EMIT_MODES = ['final', 'updates'] as const;
/** A partition quiet this long stops holding the watermark back, unless `idle` says otherwise. */
export const DEFAULT_IDLE_MS = 30_000;
/** Kinds that cannot be group keys: they have no stable equality of their own at run time. */
const NOT_KEYS = new Set(['bytes', 'fixed', 'record', 'array', 'map']);

export function checkProgram(resolved: ResolvedProgram, connectors: ConnectorSpecs, memo?: CheckMemo): CheckResult {
  return new ProgramChecker(resolved, connectors, memo).run();
}

/**
 * Checked streams kept from one check of a program to the next, for an
 * editor re-checking at every keystroke: a declaration the edit did not
 * touch keeps its syntax tree (the language server's incremental parse), so
 * a stream whose declaration, input and lookups are as before gives what it
 * gave before (its result, diagnostics, scopes and route targets) without
 * being checked again. Only streams downstream of an edit are re-checked.
 */
export class CheckMemo {
  readonly streams = new WeakMap<StreamDecl, CheckedStream>();
}

interface CheckedStream {
  /** What the stream was checked against: its input (record and key types, policy, partitioning, where it was re-keyed) and its lookups' types. */
  input: Flow;
  lookups: AvroType[];
  typed: TypedStream | undefined;
  diagnostics: Diagnostic[];
  scopes: [Operator, RecordType][];
  routing: string[] | undefined;
}

/**
 * Whether a stream's inputs are as when it was checked: the same types
 * (the same objects, when its input was itself re-used; else equal, docs
 * and defaults included), and the same partitioning, which decides
 * whether a group or a dedupe repartitions. A `union` reads other streams too: never re-used.
 */
function sameInputs(before: CheckedStream, s: Extract<ResolvedStream, { kind: 'declared' }>, input: Flow, lookups: AvroType[]): boolean {
  const b = before.input;
  return s.inputs.length === 1 && b.errorPolicy === input.errorPolicy && b.partitioned === input.partitioned && b.mixed === input.mixed
    && partitioningText(b) === partitioningText(input)
    && b.untimed === input.untimed && b.aggregated === input.aggregated
    && sameType(b.output, input.output) && sameType(b.keyType, input.keyType)
    && before.lookups.length === lookups.length && before.lookups.every((t, i) => sameType(t, lookups[i]!));
}

/** A flow's declared partitioning and where its fields are, as text to compare. */
function partitioningText(f: Flow): string {
  return `${f.partitionKeys?.join(',') ?? ''}|${[...(f.carried ?? [])].map(([here, at]) => `${here}=${at}`).join(',')}`;
}

/** The partitioning fields after an operator that repartitions: the group's keys, the dedupe's key field (or, computed, none that a field carries). */
function repartitionedBy(op: TypedOperator): string[] {
  if (op.kind === 'aggregate') return op.keys.map((k) => k.name);
  return op.kind === 'dedupe' ? [fieldPath(op.key) ?? op.id] : [];
}

/** A dedupe whose key is the one field the records are partitioned by: each key's records are in one partition already. */
function dedupedInPlace(key: TypedExpr, keys: readonly string[] | undefined, carried: ReadonlyMap<string, string>): boolean {
  const path = fieldPath(key);
  return path !== undefined && keys !== undefined && keys.length > 0 && keys.every((k) => carried.get(path) === k);
}

/** Whether one of the group's keys is the partitioning field `key` (where `carried` says it is). */
function groupCarries(op: Extract<TypedOperator, { kind: 'aggregate' }>, key: string, carried: ReadonlyMap<string, string>): boolean {
  return op.keys.some((k) => {
    const path = fieldPath(k.value);
    return path !== undefined && carried.get(path) === key;
  });
}

/** A group whose keys carry every partitioning field: each key's records are in one partition already. */
function groupedInPlace(op: Extract<TypedOperator, { kind: 'aggregate' }>, keys: readonly string[] | undefined, carried: ReadonlyMap<string, string>): boolean {
  return op.keys.length > 0 && keys !== undefined && keys.every((k) => groupCarries(op, k, carried));
}

/** The field path an expression reads unchanged (`country`, `address.city`); undefined for anything computed. */
function fieldPath(e: TypedExpr): string | undefined {
  if (e.k === 'field') return e.name;
  if (e.k !== 'member') return undefined;
  const object = fieldPath(e.object);
  return object === undefined ? undefined : `${object}.${e.name}`;
}

/**
 * Where a source's partitioning fields are after an operator: a `select`
 * or a group key that passes one on unchanged (renamed or not) carries it,
 * a field an operator adds in its place does not, and a `union` mixes
 * records of other sources, so nothing is carried after it.
 */
function carryPartitioning(op: TypedOperator, carried: ReadonlyMap<string, string>): ReadonlyMap<string, string> {
  // Repartitioned, the records are partitioned by the group's keys (or the dedupe's key), whatever the source's were.
  if (op.kind === 'aggregate' && op.repartition) return new Map(op.keys.map((k) => [k.name, k.name]));
  if (op.kind === 'dedupe' && op.repartition) {
    const path = fieldPath(op.key);
    return new Map(path === undefined ? [] : [[path, path]]);
  }
  switch (op.kind) {
    case 'select':
    case 'aggregate': {
      const out = new Map<string, string>();
      for (const f of op.kind === 'select' ? op.fields : op.keys) {
        const from = fieldPath(f.value);
        if (from === undefined) continue;
        for (const [path, source] of carried) {
          if (path === from) out.set(f.name, source);
          else if (path.startsWith(`${from}.`)) out.set(f.name + path.slice(from.length), source);
        }
      }
      return out;
    }
    case 'flat-map':
    case 'lookup': {
      const replaced = op.kind === 'flat-map' ? [op.as, ...(op.dropField === undefined ? [] : [op.dropField])] : [op.name];
      return new Map([...carried].filter(([path]) => !replaced.some((n) => path === n || path.startsWith(`${n}.`))));
    }
    case 'union':
      return new Map();
    default:
      return carried;
  }
}

function sameType(a: AvroType, b: AvroType): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false; // a recursive type: checked again
  }
}

class ProgramChecker {
  private readonly diagnostics: Diagnostic[] = [];
  /** What flows out of each checked source and stream. */
  private readonly flows = new Map<string, Flow>();
  /** Route targets, filled when their stream's `route` is checked. */
  private readonly routed = new Map<string, Flow>();
  /** The targets of each stream that ends in `route`, which has no records of its own. */
  private readonly routing = new Map<string, string[]>();
  private readonly operatorScopes = new Map<Operator, RecordType>();
  /** Result types of the lookups of the stream being checked (resolved). */
  private lookupTypes: Map<LookupOp, AvroType> | undefined;

  constructor(
    private readonly resolved: ResolvedProgram,
    private readonly connectors: ConnectorSpecs,
    private readonly memo: CheckMemo | undefined,
  ) {}

  private report(code: Code, span: Parameters<typeof diagnostic>[1], message: string, extra?: Parameters<typeof diagnostic>[3]): undefined {
    this.diagnostics.push(diagnostic(code, span, message, extra));
    return undefined;
  }

  run(): CheckResult {
    const { resolved } = this;
    const sources = resolved.sources.flatMap((s) => this.source(s) ?? []);
    const streams = resolved.streams.flatMap((s) => this.anyStream(s) ?? []);
    const sinks: TypedSink[] = [];
    const perStream = new Map<string, number>();
    for (const sink of resolved.sinks) {
      const flow = this.flows.get(sink.input.name);
      const routedAway = flow !== undefined && this.readsRouting(sink.input);
      const c = checkConnector(sink.connector, sink.options, 'sink', this.connectors, this.diagnostics, flow ? { schema: flow.output } : {});
      if (!flow || !c || routedAway) continue;
      const n = perStream.get(sink.input.name) ?? 0;
      perStream.set(sink.input.name, n + 1);
      sinks.push({ id: `sink:${sink.input.name}:${n}`, input: sink.input.name, ...c, schema: flow.output, keyType: flow.keyType, span: sink.span });
    }
    let deadLetter: TypedProgram['deadLetter'];
    if (resolved.deadLetter) {
      const c = checkConnector(resolved.deadLetter.connector, resolved.deadLetter.options, 'dead-letter', this.connectors, this.diagnostics);
      if (c) deadLetter = { ...c, span: resolved.deadLetter.span };
    }
    if (resolved.unread) {
      // Imported declarations the program does not read never run, but their errors are errors; their warnings would be noise here.
      const before = this.diagnostics.length;
      for (const s of resolved.unread.sources) this.source(s);
      for (const s of resolved.unread.streams) this.anyStream(s);
      const added = this.diagnostics.splice(before);
      this.diagnostics.push(...added.filter((d) => d.severity === 'error'));
    }
    const scopes: CheckScopes = { operators: this.operatorScopes, outputs: new Map([...this.flows].map(([name, f]) => [name, f.output])) };
    if (!resolved.complete || hasErrors(this.diagnostics)) return { diagnostics: this.diagnostics, scopes };
    const typed: TypedProgram = {
      pipeline: resolved.pipeline,
      file: resolved.file,
      sources,
      streams,
      sinks,
      ...(deadLetter ? { deadLetter } : {}),
      schemas: Object.fromEntries(resolved.schemas.map((s) => [s.name, s.type])),
    };
    return { typed, diagnostics: this.diagnostics, scopes };
  }

  private source(s: ResolvedSource): TypedSource | undefined {
    const schema = s.schema as RecordType;
    const partitionKeys = s.decl.partitionedBy ? this.partitionKeys(s.decl.partitionedBy, schema) : this.keyOption(s);
    this.flows.set(s.name, {
      output: schema, keyType: T.null, errorPolicy: 'dead_letter',
      ...(this.manyPartitions(s) ? { partitioned: s.name } : {}), ...(s.decl.eventTime ? {} : { untimed: s.name }),
      ...(partitionKeys ? { partitionKeys, carried: new Map(partitionKeys.map((k) => [k, k])) } : {}),
    });
    const c = checkConnector(s.decl.connector, s.decl.options, 'source', this.connectors, this.diagnostics, { schema });
    const eventTime = s.decl.eventTime && this.eventTime(s.decl.eventTime, schema);
    if (s.decl.eventTime && !eventTime) return undefined;
    if (s.decl.partitionedBy && !partitionKeys) return undefined;
    return c && { name: s.name, ...c, schema, keyType: T.null, ...(eventTime ? { eventTime } : {}), span: s.decl.span };
  }

  /** `event time f lateness D idle D`: f is a timestamp, or a long of epoch milliseconds. */
  private eventTime(clause: EventTimeClause, schema: RecordType): TypedEventTime | undefined {
    const field = this.keepPath(clause.path, new ExprChecker(this.diagnostics, schema));
    if (!field) return undefined;
    const kind = nonNull(field.type).kind;
    if (kind !== 'timestamp-millis' && kind !== 'timestamp-micros' && kind !== 'long') {
      return this.report('invalid-event-time', field.span, `the event time must be a timestamp (or a long of epoch milliseconds), not ${typeToString(field.type)}`, {
        hints: ['declare the field as timestamp_millis, or compute one in the producer'],
      });
    }
    if (clause.idle && clause.idle.millis <= 0) return this.report('invalid-event-time', clause.idle.span, '`idle` needs a positive duration');
    return { field, latenessMs: clause.lateness?.millis ?? 0, idleMs: clause.idle?.millis ?? DEFAULT_IDLE_MS };
  }

  /** `partitioned by f, g.h`: fields of the source's records that may be group keys. */
  private partitionKeys(clause: PartitionClause, schema: RecordType): string[] | undefined {
    const exprs = new ExprChecker(this.diagnostics, schema);
    const keys: string[] = [];
    for (const path of clause.keys) {
      const field = this.keepPath(path, exprs);
      if (!field) return undefined;
      const kind = nonNull(field.type).kind;
      if (NOT_KEYS.has(kind)) {
        return this.report('invalid-partitioning', field.span, `records are not partitioned by a ${kind}: a group key cannot be one`, {
          hints: ['name the fields the producer keys its records by: `partitioned by country`'],
        });
      }
      keys.push(fieldPath(field)!);
    }
    return keys;
  }

  /** The field a source's own `key` option spreads its records by (`datagen`, `file`), when it names one. */
  private keyOption(s: ResolvedSource): string[] | undefined {
    const option = this.connectors.get(s.decl.connector.name)?.partitionKeyOption;
    const given = option === undefined ? undefined : s.decl.options.find((o) => o.name.name === option)?.value;
    return given?.kind === 'string' ? [given.value] : undefined;
  }

  /** Whether a source may read from several partitions: the server's (Kafka), or a `partitions` option above 1. */
  private manyPartitions(s: ResolvedSource): boolean {
    const spec = this.connectors.get(s.decl.connector.name);
    if (spec?.partitionedByServer) return true;
    const given = s.decl.options.find((o) => o.name.name === 'partitions')?.value;
    const value = given?.kind === 'number' ? Number(given.text) : spec?.options.find((o) => o.name === 'partitions')?.default;
    return typeof value === 'number' && value > 1;
  }

  private anyStream(s: ResolvedStream): TypedStream | undefined {
    const typed = s.kind === 'routed' ? this.routedStream(s) : this.stream(s);
    if (typed) {
      const from = this.flows.get(s.kind === 'routed' ? s.from : s.decl.input.name);
      const aggregated = typed.operators.findLast((o) => o.kind === 'aggregate')?.span ?? from?.aggregated;
      const repartitioned = typed.operators.findLast((o) => (o.kind === 'aggregate' || o.kind === 'dedupe') && o.repartition);
      const partitionKeys = repartitioned ? repartitionedBy(repartitioned) : from?.partitionKeys;
      const carried = (repartitioned || from?.carried) && typed.operators.reduce((c, op) => carryPartitioning(op, c), from?.carried ?? new Map<string, string>());
      const mixed = from?.mixed || s.kind === 'declared' && (s.inputs.length > 1 || typed.operators.some((o) => o.kind === 'union'));
      this.flows.set(typed.name, {
        output: typed.output, keyType: typed.keyType, errorPolicy: typed.errorPolicy,
        ...(from?.partitioned ? { partitioned: from.partitioned } : {}),
        ...(partitionKeys ? { partitionKeys } : {}), ...(carried ? { carried } : {}),
        ...(from?.untimed ? { untimed: from.untimed } : {}), ...(aggregated ? { aggregated } : {}), ...(mixed ? { mixed } : {}),
      });
    }
    return typed;
  }

  private routedStream(s: Extract<ResolvedStream, { kind: 'routed' }>): TypedStream | undefined {
    const flow = this.routed.get(s.name);
    if (!flow) return undefined;
    return {
      name: s.name, inputs: s.inputs, routedFrom: { stream: s.from, branch: s.branch }, operators: [], errorPolicy: flow.errorPolicy,
      output: { ...flow.output, name: pascalCase(s.name) }, keyType: flow.keyType, span: s.span,
    };
  }

  private stream(s: Extract<ResolvedStream, { kind: 'declared' }>): TypedStream | undefined {
    const decl = s.decl;
    const input = this.flows.get(decl.input.name);
    if (!input || this.readsRouting(decl.input)) return undefined; // a failed input said so
    const lookups = [...(s.lookups?.values() ?? [])];
    const before = this.memo?.streams.get(decl);
    if (before && sameInputs(before, s, input, lookups)) {
      before.input = input;
      before.lookups = lookups;
      this.diagnostics.push(...before.diagnostics);
      for (const [op, record] of before.scopes) this.operatorScopes.set(op, record);
      if (before.routing) this.routing.set(s.name, before.routing);
      return before.typed;
    }
    const from = this.diagnostics.length;
    const typed = this.checkStream(s, input);
    this.memo?.streams.set(decl, {
      input, lookups, typed, diagnostics: this.diagnostics.slice(from),
      scopes: decl.operators.flatMap((op) => (this.operatorScopes.has(op) ? [[op, this.operatorScopes.get(op)!] as [Operator, RecordType]] : [])),
      routing: this.routing.get(s.name),
    });
    return typed;
  }

  private checkStream(s: Extract<ResolvedStream, { kind: 'declared' }>, input: Flow): TypedStream | undefined {
    const decl = s.decl;
    this.lookupTypes = s.lookups;
    const errorPolicy = this.errorPolicy(decl);
    const recordName = pascalCase(decl.name.name);
    let record: RecordType = { ...input.output, name: recordName };
    let keyType = input.keyType;
    let aggregated = input.aggregated;
    let carried = input.carried ?? new Map<string, string>();
    let partitionKeys = input.partitionKeys;
    let mixed = input.mixed === true || s.inputs.length > 1;
    const operators: TypedOperator[] = [];
    let ok = true;
    let routed = false;
    /** The `window` just read: the `group by` after it takes it. */
    let window: { op: WindowOp; typed: TypedWindow; emit: 'final' | 'updates' } | undefined;
    for (const [index, op] of decl.operators.entries()) {
      if (op.kind === 'on-error') continue;
      if (window && op.kind !== 'group') {
        this.windowWithoutGroup(window.op);
        ok = false;
        break;
      }
      if (routed) {
        this.report('operator-after-route', op.span, '`route` sends every record to its targets, so nothing reaches this operator', {
          hints: ['put the operator into a stream that reads one of the targets'],
        });
        ok = false;
        continue;
      }
      const id = `${decl.name.name}/${index}:${op.kind === 'group' ? 'aggregate' : op.kind}`;
      this.operatorScopes.set(op, record);
      if (op.kind === 'window') {
        const typedWindow = this.window(op, input.untimed, aggregated);
        if (!typedWindow) {
          ok = false;
          break;
        }
        window = { op, ...typedWindow };
        continue;
      }
      const result = op.kind === 'group'
        ? this.group(op, id, record, window)
        : this.operator(op, id, record, keyType, decl, errorPolicy);
      window = undefined;
      if (!result) {
        ok = false;
        break; // later operators would only repeat the error
      }
      operators.push(result.op);
      if (result.op.kind === 'aggregate') aggregated = result.op.span;
      if (result.op.kind === 'dedupe' && input.partitioned && !dedupedInPlace(result.op.key, partitionKeys, carried)) {
        if (mixed) this.dedupeAcrossPartitions(result.op.span, input.partitioned);
        else {
          result.op.repartition = { input: record, source: input.partitioned };
          partitionKeys = repartitionedBy(result.op);
        }
      }
      if (result.op.kind === 'union') mixed = true;
      if (result.op.kind === 'aggregate' && input.partitioned && !groupedInPlace(result.op, partitionKeys, carried)) {
        if (mixed) this.groupAcrossPartitions(result.op, input.partitioned, partitionKeys, carried);
        else {
          result.op.repartition = { input: record, source: input.partitioned };
          partitionKeys = result.op.keys.map((k) => k.name);
        }
      }
      carried = carryPartitioning(result.op, carried);
      record = { ...result.op.output, name: recordName };
      keyType = result.keyType;
      if (result.op.kind === 'route') {
        routed = true;
        this.routing.set(s.name, [...result.op.branches.map((b) => b.target), ...(result.op.otherwise === undefined ? [] : [result.op.otherwise])]);
      }
    }
    if (window) {
      this.windowWithoutGroup(window.op);
      ok = false;
    }
    if (!ok) return undefined;
    return { name: s.name, inputs: s.inputs, operators, errorPolicy, output: record, keyType, span: decl.span };
  }

  private windowWithoutGroup(op: WindowOp): void {
    this.report('window-without-group', op.span, '`window` windows the `group by` right after it, and none follows', {
      hints: ['follow it with `| group by KEY { name: count(), … }`'],
    });
  }

  /** `window tumbling 1m`, `hopping 10m every 1m`, `session gap 30s`, `cumulate 1h every 10m`, each with `emit final|updates`. */
  private window(op: WindowOp, untimed: string | undefined, aggregated: Span | undefined): { typed: TypedWindow; emit: 'final' | 'updates' } | undefined {
    const shape = op.shape.name;
    if (!(WINDOW_SHAPES as readonly string[]).includes(shape)) {
      const guess = closestMatch(shape, WINDOW_SHAPES);
      return this.report('invalid-window', op.shape.span, `unknown window \`${shape}\`; use ${WINDOW_SHAPES.join(', ')}`, {
        hints: ['`window tumbling 1m`, `window hopping 10m every 1m`, `window session gap 30s`, `window cumulate 1h every 10m`'],
        ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: op.shape.span, replacement: guess }] } : {}),
      });
    }
    const example = { tumbling: 'window tumbling 1m', hopping: 'window hopping 10m every 1m', session: 'window session gap 30s', cumulate: 'window cumulate 1h every 10m' }[shape as TypedWindow['shape']];
    const wrong = (span: Span, message: string) => this.report('invalid-window', span, message, { hints: [`e.g. \`${example}\``] });
    if (shape === 'session' && !op.gap) return wrong(op.size.span, 'a session window needs `gap`: how long a key may be quiet before its session ends');
    if (shape !== 'session' && op.gap) return wrong(op.span, `\`gap\` belongs to session windows, not ${shape} ones`);
    if ((shape === 'hopping' || shape === 'cumulate') && !op.every) return wrong(op.size.span, `a ${shape} window needs \`every\`: how far each window ${shape === 'hopping' ? 'starts after the last' : 'grows'}`);
    if ((shape === 'tumbling' || shape === 'session') && op.every) return wrong(op.every.span, `\`every\` belongs to hopping and cumulating windows, not ${shape} ones`);
    if (op.size.millis <= 0) return wrong(op.size.span, 'a window needs a positive duration');
    if (op.every) {
      if (op.every.millis <= 0 || op.every.millis > op.size.millis) return wrong(op.every.span, `\`every\` must be positive and at most the window's size (${op.size.text})`);
      if (shape === 'cumulate' && op.size.millis % op.every.millis !== 0) return wrong(op.every.span, `a cumulating window's size (${op.size.text}) must be a whole number of steps (${op.every.text})`);
    }
    const emit = op.emit?.name ?? 'final';
    if (!(EMIT_MODES as readonly string[]).includes(emit)) {
      return this.report('invalid-window', op.emit!.span, `unknown emit mode \`${emit}\`; use final (once, when the window closes) or updates (as the result changes)`);
    }
    if (shape === 'session' && emit === 'updates') {
      return this.report('invalid-window', op.emit!.span, 'session windows emit final results only: a session that merges with another would leave its updates behind', {
        hints: ['remove `emit updates`'],
      });
    }
    if (aggregated) {
      return this.report('window-after-aggregate', op.span, 'the records here are results of a `group by`, which come out when the watermark has passed their window: a second window would find every one of them late', {
        hints: ['aggregate once per window, or group these results without `window` (a running aggregate)'],
        data: { aggregated: aggregated.start },
      });
    }
    if (untimed) {
      this.report('record-time-window', op.span, `source \`${untimed}\` declares no event time: records are windowed by their timestamps (Kafka's record timestamp; the arrival time for other sources)`, {
        hints: [`declare it on the source: \`source ${untimed}: … from … { … } event time FIELD lateness 10s\``],
      });
    }
    const typed: TypedWindow = { shape: shape as TypedWindow['shape'], sizeMs: op.size.millis, ...(op.every ? { stepMs: op.every.millis } : {}) };
    return { typed, emit: emit as 'final' | 'updates' };
  }

  /** `group by k, … { name: agg(x), … }`: the keys, the window's bounds and the aggregates make the output record. */
  private group(op: GroupOp, id: string, record: RecordType, window: { typed: TypedWindow; emit: 'final' | 'updates' } | undefined): { op: TypedOperator; keyType: AvroType } | undefined {
    const exprs = new ExprChecker(this.diagnostics, record);
    const none = new Set<string>();
    const fields: RecordField[] = [];
    const seen = new Set<string>();
    let ok = true;
    const add = (name: Identifier, type: AvroType): boolean => {
      if (!validAvroName(name, this.diagnostics)) return false;
      if (seen.has(name.name)) {
        this.report('duplicate-field', name.span, `the group's output already has a field \`${name.name}\``, { hints: ['name it: `other_name: …`'] });
        return false;
      }
      seen.add(name.name);
      fields.push({ name: name.name, type });
      return true;
    };
    const keys: { name: string; value: TypedExpr }[] = [];
    for (const item of op.keys) {
      if (item.kind === 'all' || item.kind === 'drop') {
        this.report('invalid-group-key', item.span, `\`${item.kind === 'all' ? '*' : '-'}\` is not a key: name the fields to group by`, { hints: ['`group by country, city: address.city { … }`'] });
        ok = false;
        continue;
      }
      const name = item.kind === 'keep' ? item.path[item.path.length - 1]! : item.name;
      const value = item.kind === 'keep' ? this.keepPath(item.path, exprs) : exprs.check(item.value, none);
      if (!value) {
        ok = false;
        continue;
      }
      if (NOT_KEYS.has(nonNull(value.type).kind)) {
        this.report('invalid-group-key', value.span, `a group key must be a scalar, not ${typeToString(value.type)}`, {
          hints: nonNull(value.type).kind === 'bytes' || nonNull(value.type).kind === 'fixed' ? ['group by `hex(…)` of it'] : ['group by one of its fields'],
        });
        ok = false;
        continue;
      }
      if (add(name, value.type)) keys.push({ name: name.name, value });
      else ok = false;
    }
    if (window) {
      for (const bound of ['window_start', 'window_end']) {
        if (!add({ name: bound, span: op.span }, T.timestampMillis)) ok = false;
      }
    }
    const aggregates: TypedAggregate[] = [];
    for (const item of op.aggregates) {
      const aggregate = this.aggregate(item, exprs);
      if (aggregate && add((item as Extract<SelectItem, { kind: 'compute' }>).name, aggregate.type)) aggregates.push(aggregate);
      else ok = false;
    }
    if (!ok) return undefined;
    if (aggregates.length === 0) {
      return this.report('not-an-aggregate', op.span, '`group by` needs at least one aggregate', { hints: ['`{ orders: count() }`'] });
    }
    const output: RecordType = { ...record, fields };
    const keyParts = [...keys.map((k) => fields.find((f) => f.name === k.name)!), ...(window ? [fields.find((f) => f.name === 'window_start')!] : [])];
    const keyType: AvroType = keyParts.length === 0 ? T.null
      : keyParts.length === 1 ? keyParts[0]!.type
        : { kind: 'record', name: `${record.name}Key`, fields: keyParts };
    const emit = window?.emit ?? 'updates';
    return { op: { id, span: op.span, kind: 'aggregate', keys, aggregates, ...(window ? { window: window.typed } : {}), emit, output }, keyType };
  }

  /** One item of a `group by` block: `name: fn(x)` with fn an aggregate function. */
  private aggregate(item: SelectItem, exprs: ExprChecker): TypedAggregate | undefined {
    const call = item.kind === 'compute' && item.value.kind === 'call' ? item.value : undefined;
    const info = call && AGGREGATES.get(call.callee.name);
    if (item.kind !== 'compute' || !call || !info) {
      const what = item.kind === 'keep' ? `\`${item.path.map((p) => p.name).join('.')}\` is neither grouped nor aggregated` : item.kind === 'compute' ? 'each value of a group is one aggregate call' : '`*` and `-f` have no meaning in a group';
      return this.report('not-an-aggregate', item.span, what, {
        hints: item.kind === 'keep'
          ? [`group by it (\`group by …, ${item.path[item.path.length - 1]!.name}\`), or take one value: \`${item.path[item.path.length - 1]!.name}: last(${item.path.map((p) => p.name).join('.')})\``]
          : [`aggregates: ${[...AGGREGATES.keys()].join(', ')}; compute with their results in a \`select\` after the group`],
      });
    }
    const fn = info.name as AggregateFn;
    if (call.args.length > 1 || (call.args.length === 0 && !info.optionalArgument)) {
      return this.report('wrong-arity', call.span, `\`${fn}\` takes ${info.optionalArgument ? 'at most one argument' : 'one argument'}, not ${call.args.length}`, { hints: [info.signature] });
    }
    const argExpr = call.args[0];
    const arg = argExpr ? exprs.check(argExpr, new Set()) : undefined;
    if (argExpr && !arg) return undefined;
    const result = aggregateType(fn, arg?.type);
    if ('problem' in result) return this.report('type-mismatch', argExpr?.span ?? call.span, result.problem, { hints: [info.signature] });
    return { name: item.name.name, fn, ...(arg ? { arg } : {}), type: result.type };
  }

  /**
   * A `group` over records of several sources that may have several
   * partitions each aggregates each partition's records on its own (such
   * records are not repartitioned): right only when its keys carry every
   * field the sources declare they are `partitioned by`.
   */
  private groupAcrossPartitions(op: Extract<TypedOperator, { kind: 'aggregate' }>, source: string, keys: readonly string[] | undefined, carried: ReadonlyMap<string, string>): void {
    const grouped = (k: string) => groupCarries(op, k, carried);
    const by = op.keys.map((k) => k.name).join(', ');
    const effect = 'records that a `union` brought together are not repartitioned, so each partition aggregates its own records and a group read from several partitions gives a result per partition';
    if (op.keys.length === 0) {
      this.report('group-across-partitions', op.span, `\`group\` without keys over source \`${source}\`, which may have several partitions: ${effect}`, {
        hints: ['group each source\'s records before the `union`, or read the input from a single partition'],
        data: { source },
      });
      return;
    }
    const missing = keys?.filter((k) => !grouped(k)) ?? [];
    this.report('group-across-partitions', op.span, keys
      ? `\`group by ${by}\` over source \`${source}\`, partitioned by ${keys.map((k) => `\`${k}\``).join(', ')}: the keys do not carry ${missing.map((k) => `\`${k}\``).join(', ')}, and ${effect}`
      : `\`group by ${by}\` over source \`${source}\`, which does not say how its records are partitioned: ${effect}`, {
      hints: keys
        ? [`add ${missing.map((k) => `\`${k}\``).join(', ')} to the group's keys, or produce the records keyed by the group's keys and declare that on the source`]
        : [`if the producer keys the records by the group's keys (Kafka's default partitioner), declare it: \`source ${source}: … partitioned by ${by}\``, 'or group each source\'s records before the `union`'],
      data: { source },
    });
  }

  /** `dedupe` keeps one record per key within each partition; records a `union` brought together are not repartitioned, so a key's may sit in several. */
  private dedupeAcrossPartitions(at: Span, source: string): void {
    this.report('dedupe-across-partitions', at, `\`dedupe\` drops repeats within each partition, and records that a \`union\` brought together (from source \`${source}\` and others) are not repartitioned by its key: repeats of a key read from different partitions are all kept`, {
      hints: ['dedupe each source\'s records before the `union`', 'or declare how the sources are partitioned (`partitioned by`), when their producers keyed the records by this key'],
      data: { source },
    });
  }

  /**
   * Reports a read of a stream that ends in `route`: every record it has goes
   * to a target (or, matching no branch and without `else`, is dropped), so
   * it has none to pass on, as no operator after `route` gets any.
   */
  private readsRouting(name: Identifier): boolean {
    const targets = this.routing.get(name.name);
    if (!targets) return false;
    this.report('read-route-stream', name.span, `stream \`${name.name}\` ends in \`route\`, which sends its records to ${targets.map((t) => `\`${t}\``).join(', ')}; it has none of its own`, {
      hints: [
        `read a target instead: ${targets[0]}`,
        `to have every record as well, end a stream before \`route\` and read it: \`stream all = …\`, then \`stream ${name.name} = all | route { … }\``,
      ],
      data: { stream: name.name, targets },
    });
    return true;
  }

  private errorPolicy(decl: StreamDecl): ErrorPolicy {
    let policy: ErrorPolicy | undefined;
    for (const op of decl.operators) {
      if (op.kind !== 'on-error') continue;
      const name = op.policy.name;
      if (policy) {
        this.report('invalid-policy', op.span, `stream \`${decl.name.name}\` already has an \`on error\` policy; it applies to the whole stream`);
      } else if (!(POLICIES as readonly string[]).includes(name)) {
        const guess = closestMatch(name, POLICIES);
        this.report('invalid-policy', op.policy.span, `unknown error policy \`${name}\`; use ${POLICIES.join(', ')}`, {
          ...(guess ? { hints: [`did you mean \`${guess}\`?`], fixes: [{ title: `Change to ${guess}`, span: op.policy.span, replacement: guess }] } : {}),
        });
      } else {
        policy = name as ErrorPolicy;
      }
    }
    return policy ?? 'dead_letter';
  }

  private operator(op: Operator, id: string, record: RecordType, keyType: AvroType, decl: StreamDecl, errorPolicy: ErrorPolicy): { op: TypedOperator; keyType: AvroType } | undefined {
    const exprs = new ExprChecker(this.diagnostics, record);
    const none = new Set<string>();
    const base = { id, span: op.span };
    switch (op.kind) {
      case 'where': {
        const condition = exprs.condition(op.condition, none, 'the condition of `where`');
        if (!condition) return undefined;
        const proven = new Set(nonNullWhen(op.condition, true));
        const fields = record.fields.map((f) => {
          if (!proven.has(f.name) || !isNullable(f.type)) return f;
          const { default: d, ...rest } = f;
          return { ...rest, type: nonNull(f.type), ...(d === null || d === undefined ? {} : { default: d }) };
        });
        return { op: { ...base, kind: 'where', condition, output: { ...record, fields } }, keyType };
      }
      case 'select': {
        const fields = this.select(op.items, record, exprs);
        if (!fields) return undefined;
        const output: RecordType = { ...record, fields: fields.map((f) => f.field) };
        return { op: { ...base, kind: 'select', fields: fields.map((f) => ({ name: f.field.name, value: f.value })), output }, keyType };
      }
      case 'key-by': {
        const key = exprs.check(op.key, none);
        if (!key) return undefined;
        return { op: { ...base, kind: 'key-by', key, output: record }, keyType: key.type };
      }
      case 'flat-map': {
        const array = exprs.check(op.field, none);
        if (!array) return undefined;
        const t = nonNull(array.type);
        if (t.kind !== 'array') {
          return this.report('not-an-array', op.field.span, `\`flat map\` needs an array, but this is ${typeToString(array.type)}`);
        }
        const name = op.as.name;
        if (!validAvroName(op.as, this.diagnostics)) return undefined;
        const element: RecordField = { name, type: t.items };
        const inPlace = pathOf(op.field) === name;
        if (!inPlace && record.fields.some((f) => f.name === name)) {
          return this.report('duplicate-field', op.as.span, `the record already has a field \`${name}\``, {
            hints: [`choose another name after \`as\`, or \`as ${pathOf(op.field) ?? name}\` to replace the array by its element`],
          });
        }
        const fields = inPlace ? record.fields.map((f) => (f.name === name ? element : f)) : [...record.fields, element];
        return { op: { ...base, kind: 'flat-map', array, as: name, output: { ...record, fields } }, keyType };
      }
      case 'union': {
        let output = record;
        const recordName = record.name;
        for (const other of op.streams) {
          const flow = this.flows.get(other.name);
          if (!flow || this.readsRouting(other)) return undefined;
          const joined = recordUnion({ ...output, name: `stream \`${decl.input.name}\`` }, { ...flow.output, name: `stream \`${other.name}\`` });
          if (!joined.type) {
            return this.report('incompatible-union', other.span, `cannot union \`${other.name}\` into \`${decl.name.name}\`: ${joined.reason}`, {
              data: { stream: other.name, field: joined.field },
            });
          }
          if (!typesEqual(nonNull(flow.keyType), nonNull(keyType))) {
            return this.report('incompatible-union', other.span, `cannot union \`${other.name}\` into \`${decl.name.name}\`: its key is ${typeToString(flow.keyType)}, here it is ${typeToString(keyType)}`, {
              hints: ['give both the same `key by`'],
              data: { stream: other.name },
            });
          }
          output = { ...joined.type, name: recordName };
          keyType = nullableIf(keyType, isNullable(flow.keyType));
        }
        return { op: { ...base, kind: 'union', streams: op.streams.map((s) => s.name), output }, keyType };
      }
      case 'route': {
        const branches: { condition: TypedExpr; target: string }[] = [];
        let ok = true;
        for (const b of op.branches) {
          const condition = exprs.condition(b.condition, none, 'a route condition');
          if (condition) branches.push({ condition, target: b.target.name });
          else ok = false;
        }
        if (!ok) return undefined;
        for (const target of [...op.branches.map((b) => b.target), ...(op.otherwise ? [op.otherwise] : [])]) {
          this.routed.set(target.name, { output: record, keyType, errorPolicy });
        }
        return { op: { ...base, kind: 'route', branches, ...(op.otherwise ? { otherwise: op.otherwise.name } : {}), output: record }, keyType };
      }
      case 'dedupe': {
        const key = exprs.check(op.key, none);
        if (!key) return undefined;
        if (op.within.millis <= 0) return this.report('invalid-literal', op.within.span, '`within` needs a positive duration');
        return { op: { ...base, kind: 'dedupe', key, withinMillis: op.within.millis, output: record }, keyType };
      }
      case 'lookup':
        return this.lookup(op, base, record, keyType, exprs);
      case 'on-error':
        return undefined; // handled by errorPolicy()
    }
  }

  private lookup(op: LookupOp, base: { id: string; span: Span }, record: RecordType, keyType: AvroType, exprs: ExprChecker): { op: TypedOperator; keyType: AvroType } | undefined {
    const schema = this.lookupTypes?.get(op);
    const keyEntry = op.options.find((o) => o.name.name === 'key');
    const c = checkConnector(op.connector, op.options, 'lookup', this.connectors, this.diagnostics, { expressions: ['key'] });
    if (!keyEntry) {
      return this.report('missing-option', op.connector.span, `\`lookup\` needs the option \`key\`: an expression giving the key to look up, e.g. \`key: customer_id\``);
    }
    const key = exprs.check(keyEntry.value, new Set());
    if (schema?.kind !== 'record' || !key || !c || !validAvroName(op.name, this.diagnostics)) return undefined;
    const k = nonNull(key.type).kind;
    if (!['string', 'uuid', 'int', 'long', 'boolean', 'enum'].includes(k)) {
      return this.report('type-mismatch', keyEntry.value.span, `a lookup key must be a string, uuid, int, long, boolean or enum, not ${typeToString(key.type)}`);
    }
    if (record.fields.some((f) => f.name === op.name.name)) {
      return this.report('duplicate-field', op.name.span, `the record already has a field \`${op.name.name}\``, { hints: ['give the lookup another name'] });
    }
    const onMissing = (c.options.on_missing ?? 'null') as LookupMissing;
    const field: RecordField = { name: op.name.name, type: nullableIf(schema, onMissing === 'null') };
    const output: RecordType = { ...record, fields: [...record.fields, field] };
    return { op: { ...base, kind: 'lookup', name: op.name.name, schema, connector: c.connector, options: c.options, key, onMissing, output }, keyType };
  }

  private select(items: SelectItem[], record: RecordType, exprs: ExprChecker): { field: RecordField; value: TypedExpr }[] | undefined {
    const out: { field: RecordField; value: TypedExpr; star: boolean }[] = [];
    // Field name → its place in `out`: records can have hundreds of fields, and `*` brings them all.
    const at = new Map<string, number>();
    const drops = new Set(items.flatMap((i) => (i.kind === 'drop' ? [i.name.name] : [])));
    const none = new Set<string>();
    let ok = true;
    for (const item of items) {
      if (item.kind === 'all') {
        for (const f of record.fields) {
          if (drops.has(f.name) || at.has(f.name)) continue;
          at.set(f.name, out.length);
          out.push({ field: f, value: { k: 'field', name: f.name, type: f.type, span: item.span }, star: true });
        }
        continue;
      }
      if (item.kind === 'drop') {
        if (!record.fields.some((f) => f.name === item.name.name)) {
          exprs.field(item.name, item.name.span, none); // reports unknown-field with a suggestion
          ok = false;
        }
        continue;
      }
      const name = item.kind === 'keep' ? item.path[item.path.length - 1]! : item.name;
      const value = item.kind === 'keep' ? this.keepPath(item.path, exprs) : exprs.check(item.value, none);
      if (!value || !validAvroName(name, this.diagnostics)) {
        ok = false;
        continue;
      }
      const existing = at.get(name.name) ?? -1;
      const kept = item.kind === 'keep' && item.path.length === 1 ? record.fields.find((f) => f.name === name.name) : undefined;
      const field: RecordField = kept ?? { name: name.name, type: value.type };
      if (existing >= 0 && !out[existing]!.star) {
        this.report('duplicate-field', name.span, `the select has two fields named \`${name.name}\``, {
          hints: item.kind === 'keep' && item.path.length > 1 ? [`name it: \`${item.path.map((p) => p.name).join('_')}: ${item.path.map((p) => p.name).join('.')}\``] : [],
        });
        ok = false;
      } else if (existing >= 0) {
        out[existing] = { field, value, star: false };
      } else {
        at.set(name.name, out.length);
        out.push({ field, value, star: false });
      }
    }
    return ok ? out.map(({ field, value }) => ({ field, value })) : undefined;
  }

  /** `a.b.c` in a select: a null-safe path, named after its last part. */
  private keepPath(path: Identifier[], exprs: ExprChecker): TypedExpr | undefined {
    let e: Expr = { kind: 'field', name: path[0]!, span: path[0]!.span };
    for (const part of path.slice(1)) {
      e = { kind: 'member', object: e, property: part, nullSafe: true, span: { file: part.span.file, start: path[0]!.span.start, end: part.span.end } };
    }
    return exprs.check(e, new Set());
  }
}
