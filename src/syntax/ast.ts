/**
 * The abstract syntax tree of one .sensei file: the output of the parse
 * stage (`parse.ts`) and the input of name resolution. Every node carries
 * the span of the text it came from; later stages point diagnostics at
 * these spans and never compute positions by hand.
 */
import type { Span } from '../diagnostics/diagnostic.ts';

export interface Node {
  span: Span;
}

export interface Identifier extends Node {
  name: string;
}

export interface SourceFile extends Node {
  file: string;
  pipeline?: Identifier;
  declarations: Declaration[];
  /** Line and block comments, kept for the formatter. */
  comments: Comment[];
}

export interface Comment extends Node {
  text: string;
  kind: 'line' | 'block';
}

export type Declaration = ImportDecl | SchemaDecl | SourceDecl | StreamDecl | SinkDecl | DeadLetterDecl;

/** `import "shared.sensei"` */
export interface ImportDecl extends Node {
  kind: 'import';
  path: StringLiteral;
}

/** `schema Order = avro "order.avsc"` or `schema Customer { ... }` */
export interface SchemaDecl extends Node {
  kind: 'schema';
  name: Identifier;
  doc?: string;
  body: { kind: 'avro-file'; path: StringLiteral } | { kind: 'record'; fields: FieldDecl[] };
}

/** `id: string = "x" doc "..."` inside a record type. */
export interface FieldDecl extends Node {
  name: Identifier;
  type: TypeExpr;
  default?: Expr;
  doc?: string;
}

export type TypeExpr =
  | PrimitiveTypeExpr
  | DecimalTypeExpr
  | FixedTypeExpr
  | EnumTypeExpr
  | ArrayTypeExpr
  | MapTypeExpr
  | RecordTypeExpr
  | NamedTypeExpr
  | NullableTypeExpr;

export type PrimitiveName =
  | 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'
  | 'date' | 'time_millis' | 'time_micros' | 'timestamp_millis' | 'timestamp_micros' | 'uuid';

export interface PrimitiveTypeExpr extends Node { kind: 'primitive'; name: PrimitiveName }
/** `decimal(12, 2)` */
export interface DecimalTypeExpr extends Node { kind: 'decimal'; precision: number; scale: number }
/** `fixed Md5(16)` */
export interface FixedTypeExpr extends Node { kind: 'fixed'; name: Identifier; size: number }
/** `enum Tier { GOLD, SILVER }` */
export interface EnumTypeExpr extends Node { kind: 'enum'; name: Identifier; symbols: Identifier[] }
/** `array<T>` */
export interface ArrayTypeExpr extends Node { kind: 'array'; items: TypeExpr }
/** `map<T>` (keys are strings, as in Avro) */
export interface MapTypeExpr extends Node { kind: 'map'; values: TypeExpr }
/** `record Address { ... }`: a nested named record */
export interface RecordTypeExpr extends Node { kind: 'record'; name: Identifier; fields: FieldDecl[] }
/** A reference to a declared schema or a named type. */
export interface NamedTypeExpr extends Node { kind: 'named'; name: Identifier }
/** `T?` = Avro union [null, T] */
export interface NullableTypeExpr extends Node { kind: 'nullable'; inner: TypeExpr }

/** `key: value` inside a connector's `{ ... }` block. */
export interface OptionEntry extends Node {
  name: Identifier;
  value: Expr;
}

/** `source orders: Order from datagen { partitions: 12 }` */
export interface SourceDecl extends Node {
  kind: 'source';
  name: Identifier;
  schema: TypeExpr;
  connector: Identifier;
  options: OptionEntry[];
  eventTime?: EventTimeClause;
  partitionedBy?: PartitionClause;
}

/**
 * `partitioned by country, address.city`: the fields by which the records
 * were spread over the source's partitions (the Kafka producer's key), so a
 * `group by` them finds each group in one partition.
 */
export interface PartitionClause extends Node { keys: Identifier[][] }

/**
 * `event time created_at lateness 10s idle 1m`: the field that gives each
 * record's event time, how late records may arrive, and how long a quiet
 * partition holds the watermark back.
 */
export interface EventTimeClause extends Node { path: Identifier[]; lateness?: DurationLiteral; idle?: DurationLiteral }

/** `stream paid = orders | where ... | select { ... }` */
export interface StreamDecl extends Node {
  kind: 'stream';
  name: Identifier;
  input: Identifier;
  operators: Operator[];
}

/** `sink paid to stdout { format: json }` */
export interface SinkDecl extends Node {
  kind: 'sink';
  input: Identifier;
  connector: Identifier;
  options: OptionEntry[];
}

/** `dead letter to file { path: "dlq.jsonl" }`: where rejected records go. */
export interface DeadLetterDecl extends Node {
  kind: 'dead-letter';
  connector: Identifier;
  options: OptionEntry[];
}

export type Operator =
  | WhereOp
  | SelectOp
  | KeyByOp
  | FlatMapOp
  | UnionOp
  | RouteOp
  | OnErrorOp
  | DedupeOp
  | LookupOp
  | WindowOp
  | GroupOp;

export interface WhereOp extends Node { kind: 'where'; condition: Expr }

export type SelectItem =
  | (Node & { kind: 'all' }) // `*`
  | (Node & { kind: 'drop'; name: Identifier }) // `-secret`
  | (Node & { kind: 'keep'; path: Identifier[] }) // `customer_id` or `address.city` (named after its last part)
  | (Node & { kind: 'compute'; name: Identifier; value: Expr }); // `name: expr`

export interface SelectOp extends Node { kind: 'select'; items: SelectItem[] }

/** `key by customer_id` */
export interface KeyByOp extends Node { kind: 'key-by'; key: Expr }

/** `flat map items as item`: one output record per element of an array field. */
export interface FlatMapOp extends Node { kind: 'flat-map'; field: Expr; as: Identifier }

/** `union refunds, returns` */
export interface UnionOp extends Node { kind: 'union'; streams: Identifier[] }

/** `route { when cond => name ... else => name }`: declares one stream per target; first match wins. */
export interface RouteOp extends Node {
  kind: 'route';
  branches: { span: Span; condition: Expr; target: Identifier }[];
  otherwise?: Identifier;
}

/** `on error dead_letter | skip | fail`: the policy for the operators of this stream. */
export interface OnErrorOp extends Node { kind: 'on-error'; policy: Identifier }

/** `dedupe by order_id within 10m`: drops repeats of a key seen within the duration (per partition). */
export interface DedupeOp extends Node { kind: 'dedupe'; key: Expr; within: DurationLiteral }

/**
 * `lookup customer: Customer from postgres { query: "…", key: customer_id }`:
 * adds field `customer` holding the record found for the key (null when none).
 * The `key` option is an expression over the record; the others are constants.
 */
export interface LookupOp extends Node { kind: 'lookup'; name: Identifier; schema: TypeExpr; connector: Identifier; options: OptionEntry[] }

/**
 * `window tumbling 1m`, `window hopping 10m every 1m`, `window session gap 30s`,
 * `window cumulate 1h every 10m`: the windows of the `group by` that follows;
 * `emit updates` sends each window's result as it changes, `emit final` (the
 * default) once when the window closes.
 */
export interface WindowOp extends Node { kind: 'window'; shape: Identifier; gap: boolean; size: DurationLiteral; every?: DurationLiteral; emit?: Identifier }

/** `group by country { orders: count(), revenue: sum(amount) }`: one record per group (per window, after `window`). */
export interface GroupOp extends Node { kind: 'group'; keys: SelectItem[]; aggregates: SelectItem[] }

export type Expr =
  | NumberLiteral
  | StringLiteral
  | BooleanLiteral
  | NullLiteral
  | TypedLiteral
  | DurationLiteral
  | ArrayLiteral
  | MapLiteral
  | FieldRef
  | MemberExpr
  | IndexExpr
  | CallExpr
  | UnaryExpr
  | BinaryExpr
  | InExpr
  | BetweenExpr
  | IfExpr
  | CaseExpr
  | ErrorExpr;

/** `42`, `42L`, `1.5`, `1.5f`, `12.50d`: `suffix` picks the Avro type; `text` is the digits without it (`12.50`). */
export interface NumberLiteral extends Node {
  kind: 'number';
  text: string;
  suffix: '' | 'L' | 'f' | 'd';
}
export interface StringLiteral extends Node { kind: 'string'; value: string }
export interface BooleanLiteral extends Node { kind: 'boolean'; value: boolean }
export interface NullLiteral extends Node { kind: 'null' }
/** `timestamp "2024-05-01T10:00:00Z"`, `date "2024-05-01"`, `uuid "…"`, `bytes "…"` (hex), `time "10:00:00"` */
export interface TypedLiteral extends Node {
  kind: 'typed';
  type: 'timestamp' | 'date' | 'time' | 'uuid' | 'bytes';
  value: StringLiteral;
}
/** `500ms`, `10s`, `5m`, `2h`, `1d`; `millis` is the value in milliseconds. */
export interface DurationLiteral extends Node { kind: 'duration'; text: string; millis: number }
export interface ArrayLiteral extends Node { kind: 'array'; items: Expr[] }
/** `map { "a": 1, "b": 2 }` */
export interface MapLiteral extends Node { kind: 'map'; entries: { key: StringLiteral; value: Expr }[] }
/** A bare name: a field of the record in scope. */
export interface FieldRef extends Node { kind: 'field'; name: Identifier }
/** `a.b` or null-safe `a?.b` */
export interface MemberExpr extends Node { kind: 'member'; object: Expr; property: Identifier; nullSafe: boolean }
/** `a[0]`, `m["k"]` (`a?[0]` null-safe) */
export interface IndexExpr extends Node { kind: 'index'; object: Expr; index: Expr; nullSafe: boolean }
/** `upper(x)`, `long(x)` (type names double as casts) */
export interface CallExpr extends Node { kind: 'call'; callee: Identifier; args: Expr[] }
export interface UnaryExpr extends Node { kind: 'unary'; op: 'not' | '-'; operand: Expr }

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | 'and' | 'or' | '??' | 'like' | 'matches';

export interface BinaryExpr extends Node { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
/** `x in (1, 2, 3)` / `x not in (...)` */
export interface InExpr extends Node { kind: 'in'; value: Expr; list: Expr[]; negated: boolean }
/** `x between lo and hi` / `x not between ...` */
export interface BetweenExpr extends Node { kind: 'between'; value: Expr; low: Expr; high: Expr; negated: boolean }
/** `if c then a else b` */
export interface IfExpr extends Node { kind: 'if'; condition: Expr; then: Expr; otherwise: Expr }
/** `case when c then a ... else b end` */
export interface CaseExpr extends Node {
  kind: 'case';
  branches: { condition: Expr; value: Expr }[];
  otherwise?: Expr;
}
/** Stands where the parser recovered from an error, so later stages can go on. */
export interface ErrorExpr extends Node { kind: 'error' }
