/**
 * The typed program: the output of the type-check stage (`check/check.ts`)
 * and the input of lowering. Names are resolved, every expression carries
 * its Avro type, `select` items are fully expanded, and route targets are
 * streams of their own.
 */
import type { Span } from '../diagnostics/diagnostic.ts';
import type { AvroType, RecordType } from '../types/avro-type.ts';
import type { BinaryOp } from '../syntax/ast.ts';

import type { Constant } from '../plan/plan.ts';
import type { AggregateFn } from './aggregates.ts';

export type { Constant };

export type ErrorPolicy = 'dead_letter' | 'skip' | 'fail';

export interface TypedProgram {
  pipeline: string;
  /** The entry file. */
  file: string;
  sources: TypedSource[];
  /** In dependency order: a stream comes after every stream it reads. */
  streams: TypedStream[];
  sinks: TypedSink[];
  deadLetter?: { connector: string; options: Record<string, Constant>; span: Span };
  /** Declared schemas by name (inline and .avsc), for hover and `sensei debug`. */
  schemas: Record<string, AvroType>;
}

export interface TypedSource {
  name: string;
  connector: string;
  options: Record<string, Constant>;
  schema: RecordType;
  /** Type of the record key; `null` type when the source has none. */
  keyType: AvroType;
  /** The field that gives each record's event time; without it, the record's timestamp is its time. */
  eventTime?: TypedEventTime;
  span: Span;
}

export interface TypedEventTime {
  /** The field (`created_at`, `meta.time`): timestamp-millis, timestamp-micros or long (epoch milliseconds); nullable when a record may lack it. */
  field: TypedExpr;
  latenessMs: number;
  /** A partition without records this long stops holding the watermark back. */
  idleMs: number;
}

/** The windows of an aggregation: `sizeMs` (a session's gap), and for hopping and cumulating windows the step. */
export interface TypedWindow {
  shape: 'tumbling' | 'hopping' | 'session' | 'cumulate';
  sizeMs: number;
  stepMs?: number;
}

export interface TypedAggregate {
  name: string;
  fn: AggregateFn;
  /** Absent for `count()`. */
  arg?: TypedExpr;
  type: AvroType;
}

export interface TypedStream {
  name: string;
  /** Sources or streams it reads: one, or several after `union`. */
  inputs: string[];
  /** Set for a stream declared by a `route` branch: it carries the records of that branch. */
  routedFrom?: { stream: string; branch: number };
  operators: TypedOperator[];
  errorPolicy: ErrorPolicy;
  output: RecordType;
  keyType: AvroType;
  span: Span;
}

export interface TypedSink {
  /** A stable id, `sink:<stream>:<n>`. */
  id: string;
  input: string;
  connector: string;
  options: Record<string, Constant>;
  schema: RecordType;
  keyType: AvroType;
  span: Span;
}

interface OperatorBase {
  /** Stable across recompiles of the same text: `<stream>/<index>:<kind>`. */
  id: string;
  span: Span;
  /** The record type after this operator. */
  output: RecordType;
}

export type TypedOperator =
  | (OperatorBase & { kind: 'where'; condition: TypedExpr })
  | (OperatorBase & { kind: 'select'; fields: { name: string; value: TypedExpr }[] })
  | (OperatorBase & { kind: 'key-by'; key: TypedExpr })
  /**
   * One output record per element of `array` (none when it is null or empty):
   * the input record plus field `as` holding the element, appended at the end;
   * when `as` is the array field's own name the element replaces it in place.
   * The checker keeps the array otherwise (`select { *, -items }` drops it), so it
   * never sets `dropField`.
   */
  | (OperatorBase & { kind: 'flat-map'; array: TypedExpr; as: string; dropField?: string })
  | (OperatorBase & { kind: 'union'; streams: string[] })
  | (OperatorBase & { kind: 'route'; branches: { condition: TypedExpr; target: string }[]; otherwise?: string })
  | (OperatorBase & { kind: 'dedupe'; key: TypedExpr; withinMillis: number; repartition?: TypedRepartition })
  /**
   * Enriches each record with the record `connector` finds for `key`, in
   * field `name` (appended at the end). `options` are the connector's
   * constant options, `key` excepted; a key without a result gives a null
   * field (`onMissing: 'null'`), drops the record or dead-letters it.
   */
  /**
   * `group by` (after an optional `window`): one output record per group
   * and window, with the keys, `window_start` and `window_end` (windowed),
   * then the aggregates. `final`: once, when the watermark passes the
   * window's end; `updates`: after each batch that changed it (always so
   * without a window).
   */
  | (OperatorBase & { kind: 'aggregate'; keys: { name: string; value: TypedExpr }[]; aggregates: TypedAggregate[]; window?: TypedWindow; emit: 'final' | 'updates'; repartition?: TypedRepartition })
  | (OperatorBase & { kind: 'lookup'; name: string; schema: RecordType; connector: string; options: Record<string, Constant>; key: TypedExpr; onMissing: LookupMissing });

/**
 * A `group` whose keys do not carry how its source is partitioned: its
 * records first move to the partition their group key hashes to (through
 * an exchange; see `PlanExchange`).
 */
export interface TypedRepartition {
  /** The records entering the group. */
  input: RecordType;
  /** The source the records come from (the exchange has its partitions). */
  source: string;
}

export type LookupMissing = 'null' | 'drop' | 'dead_letter';

export type TypedExpr = { type: AvroType; span: Span } & (
  /** Values as at run time, except bytes and fixed as hex text; timestamps and times in the unit of `type`, durations as a long. */
  | { k: 'literal'; value: Constant }
  | { k: 'field'; name: string }
  | { k: 'member'; object: TypedExpr; name: string; nullSafe: boolean }
  /** Always nullable: an array index out of range and a missing map key give null. */
  | { k: 'index'; object: TypedExpr; index: TypedExpr; nullSafe: boolean }
  /** Library functions and casts (`long(x)`); `fn` is the library name. */
  | { k: 'call'; fn: string; args: TypedExpr[] }
  | { k: 'unary'; op: 'not' | '-'; operand: TypedExpr }
  | { k: 'binary'; op: BinaryOp; left: TypedExpr; right: TypedExpr }
  | { k: 'in'; value: TypedExpr; list: TypedExpr[]; negated: boolean }
  | { k: 'between'; value: TypedExpr; low: TypedExpr; high: TypedExpr; negated: boolean }
  | { k: 'if'; condition: TypedExpr; then: TypedExpr; otherwise: TypedExpr }
  | { k: 'case'; branches: { condition: TypedExpr; value: TypedExpr }[]; otherwise: TypedExpr }
  | { k: 'array'; items: TypedExpr[] }
  | { k: 'map'; entries: { key: string; value: TypedExpr }[] }
);
