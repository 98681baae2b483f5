/**
 * The plan: the versioned JSON contract that the compiler hands the runtime.
 * `runtime/` imports this folder and nothing else of the compiler.
 */
/**
 * 2: stateful operators are typed descriptors with their stores (`PlanOperator`), not just an id and a kind.
 * 3: sources may declare their event time (`PlanSource.eventTime`); `aggregate` operators with windows.
 */
export const PLAN_VERSION = 3;

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
}

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
