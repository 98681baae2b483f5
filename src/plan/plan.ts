/**
 * The plan: the versioned JSON contract that the compiler hands the runtime.
 * `runtime/` imports this folder and nothing else of the compiler.
 */
/**
 * 2: stateful operators are typed descriptors with their stores (`PlanOperator`), not just an id and a kind.
 * 3: sources may declare their event time (`PlanSource.eventTime`); `aggregate` operators with windows.
 * 4: repartitioning: exchange sources and sinks (`PlanSource.exchange`, `PlanSink.exchange`).
 */
export const PLAN_VERSION = 4;

/** A JSON-serializable constant: connector option values and literal values. */
export type Constant = null | boolean | number | string | Constant[] | { [key: string]: Constant };

/** Avro schema JSON, as in an .avsc file. */
export type AvroSchemaJson = unknown;

export interface Plan {
  version: typeof PLAN_VERSION;
  pipeline: string;
  sources: PlanSource[];
  sinks: PlanSink[];
  deadLetter?: { connector: string; options: Record<string, Constant> };
  /** One fused chain per source: everything from the source to the sinks. */
  chains: PlanChain[];
  /** The dataflow graph, for display and inspection (not executed). */
  graph: PlanGraph;
}

export interface PlanSource {
  /** `source:<name>`. */
  id: string;
  name: string;
  connector: string;
  options: Record<string, Constant>;
  schema: AvroSchemaJson;
  keySchema: AvroSchemaJson;
  /** Where records' event time comes from (the chain reads the field); absent: the record timestamps. */
  eventTime?: PlanEventTime;
  /** Set on the reading side of a repartition: the records are the exchange's (`EXCHANGE_CONNECTOR`, or a Kafka topic). */
  exchange?: PlanExchange;
}

/**
 * A repartition: a `group` whose keys do not carry how its source is
 * partitioned splits the chain there. The chain before it writes each
 * record to the exchange sink (`PlanSink.exchange`), keyed by the exchange
 * partition its group key hashes to; the exchange source has the upstream
 * source's partition count, and its chain starts at the `group`.
 *
 * Exchange records (`schema`) are `{ f, w, t, r }`, in this field order:
 * `f` the upstream partition, `w` its watermark when written (a double:
 * −Infinity before any, +Infinity once its input ended), `t` the record's
 * event time (ms), `r` the record (null: a watermark-only record, which an
 * upstream task sends to every exchange partition whenever its watermark
 * advances). A reading task's watermark is the minimum over the upstream
 * partitions' `w`, with `idleMs`.
 */
export interface PlanExchange {
  /** The upstream source's id: the exchange has its partition count. */
  from: string;
  /** The id of the exchange sink the upstream chain writes. */
  sink: string;
  /** An upstream partition whose watermark has not moved this long stops holding back the reading task's. */
  idleMs: number;
}

/** The connector name of an in-process exchange (sources that are not Kafka's): the runtime provides it. */
export const EXCHANGE_CONNECTOR = 'exchange';

/** A source's event time: the watermark of each of its partitions trails the largest time seen by `latenessMs`. */
export interface PlanEventTime {
  /** The field, as written (`created_at`, `meta.time`). */
  field: string;
  latenessMs: number;
  /** A partition without records this long stops holding back the watermark of a task that reads several. */
  idleMs: number;
}

export interface PlanSink {
  id: string;
  /** The stream it writes. */
  stream: string;
  connector: string;
  options: Record<string, Constant>;
  schema: AvroSchemaJson;
  keySchema: AvroSchemaJson;
  /** Set on the writing side of a repartition: the exchange source's id. Keys are exchange partitions (ints). */
  exchange?: string;
}

export interface PlanChain {
  /** The id of the source (`source:<name>`). */
  source: string;
  /** Sink ids, in the order of the chain's outputs. */
  sinks: string[];
  /** The chain's stateful operators, by index (`ChainContext.operators[i]`); their stores move with a partition. */
  operators: PlanOperator[];
  /** Body of `(lib) => ChainFunction` (see chain.ts). */
  code: string;
  /** The chain's `lookup` operators, by index (`ChainContext.lookups[i]`); absent when it has none. */
  lookups?: PlanLookup[];
}

/**
 * A stateful operator: the runtime makes one per task from the entry of
 * `kind` in its operator registry (runtime/operators/), opens the stores it
 * declares, and keeps them with the task wherever it moves.
 */
export interface PlanOperator {
  /** The operator id. */
  id: string;
  /** The registry entry: `dedupe`, `aggregate`. */
  kind: string;
  /** Settings of the kind (dedupe: `withinMs`; aggregate: `window` (`PlanWindow` or null), `emit`). */
  config: Record<string, Constant>;
  stores: PlanStore[];
}

/** The windows of an `aggregate`: `sizeMs` (a session's gap) and, for hopping and cumulating windows, `stepMs`. */
export interface PlanWindow {
  [key: string]: Constant;
  shape: 'tumbling' | 'hopping' | 'session' | 'cumulate';
  sizeMs: number;
  stepMs: number | null;
}

/** A keyed store of one operator, per task. */
export interface PlanStore {
  name: string;
  /** Avro schema of the keys (as the operator's key expression types them). */
  keySchema: AvroSchemaJson;
  /** Avro schema of the values. */
  valueSchema: AvroSchemaJson;
  /** Entries whose time is this far behind the watermark are dropped; absent: kept until deleted. */
  retentionMs?: number;
}

/** A `lookup` operator: what the worker asks `connector` for, and what it gets back. */
export interface PlanLookup {
  /** The operator id. */
  id: string;
  /** The field the result goes into. */
  name: string;
  connector: string;
  /** Constant options, with the spec's defaults (the `key` expression is in the chain's code). */
  options: Record<string, Constant>;
  /** Avro schema of the result record. */
  schema: AvroSchemaJson;
  /** Avro schema of the key values. */
  keySchema: AvroSchemaJson;
}

export interface PlanGraph {
  nodes: PlanNode[];
  edges: PlanEdge[];
}

export interface PlanNode {
  /** `source:<name>`, the operator id (`<stream>/<index>:<kind>`), `stream:<name>` or the sink id. */
  id: string;
  kind: 'source' | 'operator' | 'stream' | 'sink';
  /** Operator kind or connector name. */
  type: string;
  label: string;
  location: { file: string; line: number; column: number };
}

export interface PlanEdge {
  from: string;
  to: string;
  /** Avro schema of the records on this edge. */
  schema: AvroSchemaJson;
  /** Expression text of the record key, when a `key by` set one. */
  key?: string;
}
