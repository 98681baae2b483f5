/**
 * What a connector implements for the runtime. A source is a set of
 * partitions with monotonically increasing offsets (Kafka's model); the
 * coordinator (main thread) reads each partition in order and acknowledges
 * offsets once every sink has accepted the output derived from them.
 * Sinks run in the coordinator too: workers encode output records in the
 * sink's `format` and the sink receives ready bytes; or a sink may write
 * from the workers themselves (`SinkWriter.inWorkers`), each with its own
 * client, when one thread's client would cap the pipeline (see
 * docs/architecture.md).
 */
import type { AvroSchemaJson, Constant } from '../plan/plan.ts';
import type { ConnectorSpec } from './spec.ts';

export type Options = Record<string, Constant>;

/** Records of one partition, in offset order (parallel arrays). */
export interface SourceBatch {
  offsets: number[];
  /** Record timestamps, epoch milliseconds. */
  timestamps: number[];
  /** Keys as runtime values of the source's key schema (ignored when it is `null`). */
  keys: unknown[];
  /** Values as runtime values of the source schema… */
  values?: unknown[];
  /**
   * …or already Avro-encoded in the source schema (no re-encoding on the main
   * thread). Not checked: a record whose bytes do not decode becomes a dead
   * letter of operator `source:<name>` in the worker.
   */
  encoded?: Uint8Array[];
  /** Key bytes as the source received them, for sinks that pass keys through (null: no key). */
  rawKeys?: (Uint8Array | null)[];
  /** Headers as the source received them, for sinks that pass them through; absent when no record has any. */
  headers?: (RecordHeaders | undefined)[];
}

/** Kafka-style record headers. */
export type RecordHeaders = Record<string, Uint8Array | string | (Uint8Array | string)[] | undefined>;

export interface SourceReader {
  readonly partitions: number;
  /**
   * Set when this process owns only the partitions the source reports
   * through `SourceContext.assigned` (a consumer group shares them among
   * processes); otherwise it owns them all from the start.
   */
  readonly assignedPartitions?: boolean;
  /**
   * The next records of a partition, at most `max`, starting after the last
   * record returned. Waits until at least one is available; resolves
   * `undefined` when the partition is exhausted (bounded sources) or the run
   * is stopping (`SourceContext.signal`). At most one read per partition is
   * pending at a time.
   */
  read(partition: number, max: number): Promise<SourceBatch | undefined>;
  /** All records up to and including `offset` are acknowledged by every sink. */
  commit?(partition: number, offset: number): void | Promise<void>;
  /** Records available but not read yet (consumer lag); `Infinity` for an unbounded generator. */
  backlog?(partition: number): number;
  /** Where these offsets (partition → offset) are, in the source's own terms, for messages: `line 20000 of orders.jsonl`. */
  describeOffsets?(offsets: ReadonlyMap<number, number>): string;
  /** Durable logs for the state of stateful operators over this source's partitions (Kafka: compacted changelog topics). */
  changelog?: StateChangelog;
  close(): Promise<void>;
}

/** One entry of a changelog: a key and its value now (null: deleted). */
export interface ChangelogEntry {
  key: Uint8Array;
  value: Uint8Array | null;
}

/**
 * Changelogs of the stateful stores that run over a source's partitions:
 * one log per store (`operator/store`), partitioned like the source, kept
 * compacted (the latest entry per key). The runtime appends each batch's
 * changes before the batch is acknowledged, and reads a partition back
 * when it takes over the partition without a local copy of its state.
 * Appends join the run's transaction when it has one (exactly-once).
 */
export interface StateChangelog {
  /** Appends are transactional (exactly-once): until the run commits, they may still be dropped. */
  readonly transactional: boolean;
  /** Makes sure the logs exist (created compacted when missing). */
  prepare(logs: readonly string[]): Promise<void>;
  /** Appends entries to a partition of a log, in order; resolves with the log's offset after the last, once it holds them. */
  append(log: string, partition: number, entries: readonly ChangelogEntry[]): Promise<number>;
  /** A partition of a log from offset `from` to its current end (committed entries only), and the offset after it. */
  read(log: string, partition: number, from: number): Promise<{ entries: ChangelogEntry[]; next: number }>;
}

/** The last offset of a source partition whose records a sink holds. */
export interface SourcePosition {
  source: string;
  partition: number;
  offset: number;
}

/** Source positions a sink stored with its output in earlier runs (exactly-once): it skips the records at or below them. */
export interface StoredPositions {
  /** Where the sink keeps them, for messages: `table sensei_offsets`. */
  store: string;
  positions: readonly SourcePosition[];
}

/**
 * The encoding a sink wants its records in; workers produce it, the sink
 * writes bytes. `json`, `text` and `avro` are built in; any other name is a
 * format of the sink's own connector (`ConnectorRuntime.formats`), such as
 * PostgreSQL's binary COPY tuples (`pg-binary`).
 */
export type SinkFormat = string;

/** A connector's own record format, encoded in the workers a chunk of records at a time. */
export interface FormatEncoder {
  /** Starts a new batch. */
  reset(): void;
  /** Appends records (runtime values of the sink schema); calls `reject(i, e)` for record i when it cannot be encoded and keeps the others. */
  append(values: unknown[], reject: (i: number, e: Error) => void): void;
  /** The end of each record appended since `reset`. */
  ends(): Uint32Array;
  /** The bytes appended since `reset`. */
  bytes(): Uint8Array;
}

/** Makes an encoder for a sink's schema and its `SinkWriter.formatOptions`. */
export type FormatEncoderFactory = (schema: AvroSchemaJson, options: Constant | undefined) => FormatEncoder;

/** Output of one source batch for one sink: records back to back in the sink's format. */
export interface EncodedBatch {
  /** Source name and partition the records derive from. */
  source: string;
  partition: number;
  count: number;
  /** json/text: newline-terminated lines; avro: Avro binary of the sink schema. */
  data: Uint8Array;
  /** Record i is `data[ends[i-1] ?? 0 .. ends[i]]`. */
  ends: Uint32Array;
  /** The source offset each record derives from. */
  offsets: Float64Array;
  /** Avro-encoded keys (sink key schema), for `avro` sinks whose key schema is not null. */
  keys?: { data: Uint8Array; ends: Uint32Array };
}

export interface SinkWriter {
  readonly format: SinkFormat;
  /** What the workers' encoder of this format needs besides the schema (JSON). */
  readonly formatOptions?: Constant;
  /**
   * Set when the workers write this sink's records themselves: each worker
   * opens the connector's `openWorkerSink` with this setup (JSON), and
   * `write` is never called. The coordinator still opens (prepares) and
   * closes the sink.
   */
  readonly inWorkers?: Constant;
  /** Set when earlier runs of the pipeline left positions with this sink: the runtime reports them when the run starts. */
  readonly resumesAfter?: StoredPositions;
  /**
   * Resolves once the sink has durably accepted the records. Calls for one
   * partition come in offset order and must be applied in call order.
   */
  write(batch: EncodedBatch): Promise<void>;
  close(): Promise<void>;
}

/** A record rejected by an operator (or a source), as dead-letter targets receive it. */
export interface DeadLetter {
  pipeline: string;
  source: string;
  partition: number;
  offset: number;
  operator: string;
  reason: string;
  key: unknown;
  /** The record as the rejecting operator saw it, in JSON form. */
  value: unknown;
  /** When it was rejected, ISO-8601. */
  time: string;
}

export interface SourceContext {
  pipeline: string;
  /** Source name, as declared in the pipeline. */
  name: string;
  options: Options;
  schema: AvroSchemaJson;
  keySchema: AvroSchemaJson;
  /** Aborts when the run stops; pending reads then resolve `undefined`. */
  signal: AbortSignal;
  /** Reports a record the source itself cannot read (a malformed line); resolves once written. */
  reject(letter: Omit<DeadLetter, 'pipeline' | 'source' | 'time'>): Promise<void>;
  /** Reports that the partitions this process owns changed (a consumer group's rebalance). */
  assigned?(change: AssignmentChange): void;
  /** As `SinkContext.outage`. */
  outage?(outage: Outage | undefined): void;
  /**
   * The runtime's assignor, for a source whose consumer group lets one
   * member assign partitions to all (Kafka's group leader): the same sticky,
   * balanced placement the runtime uses for its worker threads.
   */
  assignor: GroupAssignor;
}

/** A partition a consumer group places on one member, and who holds it now. */
export interface GroupSlot {
  id: string;
  owner: string | undefined;
  /** The members that may take it (those subscribed to its topic). */
  eligible: readonly string[];
}

/** Every slot that some member may take → its member: fewest moves from the current owners, balanced by count. */
export type GroupAssignor = (slots: readonly GroupSlot[], members: readonly string[]) => Map<string, string>;

/** A change of the partitions a source owns in this process. */
export interface AssignmentChange {
  kept: number[];
  gained: number[];
  lost: number[];
  /** How long the kept partitions handed out nothing while the change happened. */
  pauseMs: number;
}

/** A server a connector cannot reach or that keeps failing, while the connector waits it out and retries. */
export interface Outage {
  /** What is unreachable, e.g. `postgres orders`. */
  what: string;
  /** The last error. */
  error: string;
  /** When the outage began (epoch ms). */
  since: number;
  /** Failed attempts so far. */
  attempts: number;
}

export interface SinkContext {
  pipeline: string;
  /** Sink id (`sink:<stream>:<n>`) or `dead-letter`. */
  id: string;
  role: 'sink' | 'dead-letter';
  options: Options;
  /** Schemas of the records (for dead letters: none, the lines are JSON). */
  schema?: AvroSchemaJson;
  keySchema?: AvroSchemaJson;
  signal: AbortSignal;
  /** Forget the source positions earlier runs stored (`SinkWriter.resumesAfter`): every record is written again. */
  fromStart?: boolean;
  /** Sends records the sink's target rejected to the dead-letter target; resolves once written. */
  reject?(letters: DeadLetter[]): Promise<void>;
  /** Reports an outage being waited out (again after each failed attempt), and `undefined` once the server answers again. */
  outage?(outage: Outage | undefined): void;
  /** Its share of the process's connection budget (`ConnectorRuntime.connections`): the most connections it may hold open. */
  connections?: number;
}

/** The source records an output batch derives from (record i of the source batch), for sinks that pass keys, headers and timestamps through. */
export interface SourceRecords {
  offsets: ArrayLike<number>;
  timestamps: ArrayLike<number>;
  rawKeys?: (Uint8Array | null)[];
  headers?: (RecordHeaders | undefined)[];
}

export interface WorkerSinkContext {
  pipeline: string;
  /** Sink id (`sink:<stream>:<n>`). */
  id: string;
  /** The coordinator's `SinkWriter.inWorkers`. */
  setup: Constant;
  schema: AvroSchemaJson;
  keySchema: AvroSchemaJson;
}

/** A sink's writer in one worker thread. */
export interface WorkerSinkWriter {
  /**
   * Resolves once the records are durably accepted; calls for one partition
   * come in offset order and must be applied in call order.
   */
  write(batch: EncodedBatch, from: SourceRecords): Promise<void>;
  /** Waits for the writes in flight, then disconnects. */
  close(): Promise<void>;
}

export interface LookupContext {
  pipeline: string;
  /** The `lookup` operator's id. */
  id: string;
  options: Options;
  /** Schema of the result records. */
  schema: AvroSchemaJson;
  /** Schema of the keys. */
  keySchema: AvroSchemaJson;
  /** Its share of the process's connection budget in this worker (`ConnectorRuntime.connections`). */
  connections?: number;
}

/** A `lookup` operator's connection in one worker: the results for the keys of a batch, fetched at once. */
/** What a lookup client measures, for the status and metrics. */
export interface LookupStats {
  /** A read replica's replay lag (ms; Infinity while unknown or unreachable). */
  replicaLagMs?: number;
  /** Queries sent to the primary because the replica was too far behind or away. */
  primaryQueries?: number;
}

export interface LookupClient {
  /** Result records (runtime values of the result schema) in key order; null where a key has none, and for a null key. */
  lookup(keys: readonly unknown[]): Promise<unknown[]>;
  stats?(): LookupStats;
  close(): Promise<void>;
}

/** The runtime half of a connector; the spec is the other half. */
export interface ConnectorRuntime {
  openSource?(ctx: SourceContext): Promise<SourceReader>;
  /** Used for both the `sink` and the `dead-letter` roles. */
  openSink?(ctx: SinkContext): Promise<SinkWriter>;
  /** Opened in each worker that runs a chain with a `lookup` of this connector. */
  openLookup?(ctx: LookupContext): Promise<LookupClient>;
  /** Opened in each worker for a sink whose `SinkWriter.inWorkers` is set. */
  openWorkerSink?(ctx: WorkerSinkContext): Promise<WorkerSinkWriter>;
  /** Record formats of this connector's sinks, by `SinkFormat` name; workers encode with them. */
  formats?: Readonly<Record<string, FormatEncoderFactory>>;
  /**
   * The connections a sink or a lookup (in each worker) of this connector asks
   * for, when the process budgets them (`RunOptions.connectionBudgets`): it is
   * then opened with its share as `connections`.
   */
  connections?(use: { role: 'sink' | 'lookup'; options: Options }): ConnectionDemand;
}

/** At least `min` connections, and no use for more than `wanted`. */
export interface ConnectionDemand {
  min: number;
  wanted: number;
}

export interface Connector {
  spec: ConnectorSpec;
  runtime: ConnectorRuntime;
  /**
   * Packages the workers load from node_modules instead of their bundle, so
   * they get the very module the main thread has (a connector that patches
   * a package in the module cache needs that).
   */
  sharedPackages?: readonly string[];
}
