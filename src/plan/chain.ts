/**
 * The contract between generated operator chains and the runtime.
 *
 * Code generation emits, per source, the body of a JavaScript function
 * `(lib) => ChainFunction`. The runtime instantiates it once per worker with
 * `new Function('lib', code)(stdlib)` and calls it once per batch: all
 * per-record work happens in one generated loop, nothing is decided per record
 * that could be decided at compile time.
 *
 * `lib` provides the functions of src/check/functions.ts by name, `like` and
 * `matches` (for patterns that are not literals), and
 * `fail(message, operator, offset)`, which returns a ChainFailure (the chain
 * throws it). A chain checks at creation that the functions it calls exist.
 */

/** A batch of records from one source partition, as parallel arrays. */
export interface ChainBatch {
  partition: number;
  keys: unknown[];
  values: unknown[];
  offsets: number[];
  /** Record timestamps, epoch milliseconds. */
  timestamps: number[];
}

/** Output for one sink; `out[i]` belongs to `chain.sinks[i]`. */
export interface ChainOutput {
  keys: unknown[];
  values: unknown[];
  /** Source offset each output record derives from (for dead letters and tracing). */
  offsets: number[];
}

/** A record an operator rejected under `on error dead_letter` or `skip`; `key` and `value` are the source record's. */
export interface Rejection {
  action: 'dead_letter' | 'skip';
  operator: string;
  reason: string;
  offset: number;
  key: unknown;
  value: unknown;
}

/** A task's state as it moves between workers or is restored. Survives structured clone. */
export interface PartitionState {
  /** Per stateful operator id, per store name, the store's contents. */
  stores: Record<string, Record<string, Map<unknown, unknown>>>;
  /** The task's event time, so that where it moves no window closes twice. */
  time?: TimeState;
}

/** Event time as it moves: the largest time seen per input, and the watermark. */
export interface TimeState {
  highest: number[];
  watermark: number;
}

export interface ChainContext {
  /**
   * The task's stateful operators, by index in `PlanChain.operators`. The
   * chain calls the methods of each kind (runtime/operators/): dedupe's
   * `admit(key, timestamp)`, aggregate's `windows(group, time, definition)`. Time reaches them from the runtime, not the
   * chain: `onWatermark` after each batch that moved the watermark.
   */
  operators: unknown[];
  /** One buffer per `lookup` of the chain (plan `lookups`), empty before each call; the runtime fills them in. */
  lookups?: LookupPending[];
  /**
   * The largest event time among the records the chain has read since the
   * runtime last set it (to −Infinity): what moves the watermark. A chain
   * with stateful operators raises it; a source's `event time` field, or
   * else the record timestamps, give the times.
   */
  maxTime: number;
  /** A chain reading an exchange: the watermark of each upstream partition, as its records carried them (the chain raises them). */
  inputs?: number[];
  /** A chain writing to an exchange: what its records carry (`PlanExchange`). */
  exchange?: ExchangeContext;
}

/** What a task writes to an exchange with its records. */
export interface ExchangeContext {
  /** The task's partition (the records' `f`). */
  partition: number;
  /** The exchange's partition count. */
  partitions: number;
  /** The task's watermark before the batch (the records' `w`). */
  watermark: number;
}

/**
 * One result of an `aggregate` (a group's window, or a group without
 * window), as the runtime's operator keeps it and hands it to the chain's
 * emitter: its bounds (null without window), the latest event time added,
 * the group's key values (as the chain set them) and its accumulator (as
 * the chain's definition built it).
 */
export interface WindowResult {
  s: number | null;
  e: number | null;
  t: number;
  k: unknown[] | null;
  a: Record<string, unknown>;
}

/** How an aggregate's accumulators open and merge (sessions), generated per operator. */
export interface AccumulatorDefinition {
  init(): Record<string, unknown>;
  merge(into: Record<string, unknown>, from: Record<string, unknown>): void;
}

/**
 * The rest of the stream after aggregate operator i (the chain's
 * `operators[i]`), for its results: each becomes a record (keys, window,
 * aggregates) and goes on through the operators after the `group by`.
 * `offset` stands for the source offset of every result (the last of the
 * batch that produced them).
 */
export type EmitFunction = (results: WindowResult[], offset: number, out: ChainOutput[], rejected: Rejection[], ctx: ChainContext) => void;

/**
 * Records waiting at a `lookup`, as parallel arrays: the chain (or a
 * continuation) stops there and appends them. The runtime fetches the
 * results of all `keys` at once and calls the lookup's continuation.
 */
export interface LookupPending {
  keys: unknown[];
  records: unknown[];
  recordKeys: unknown[];
  offsets: number[];
  timestamps: number[];
  /** The source record and key each derives from (what a rejection reports). */
  sourceValues: unknown[];
  sourceKeys: unknown[];
}

export function emptyLookupPending(): LookupPending {
  return { keys: [], records: [], recordKeys: [], offsets: [], timestamps: [], sourceValues: [], sourceKeys: [] };
}

/**
 * The rest of the chain after lookup i, for the records waiting there;
 * `results[j]` is the result record for `pending.keys[j]` (null when none).
 * It only appends to the buffers of later lookups (index > i), so the
 * runtime resolves lookups in index order, each once per batch.
 */
export type ContinuationFunction = (pending: LookupPending, results: unknown[], out: ChainOutput[], rejected: Rejection[], ctx: ChainContext) => void;

/** A chain with lookups carries their continuations, by lookup index. */
export type ChainFunction = ((batch: ChainBatch, out: ChainOutput[], rejected: Rejection[], ctx: ChainContext) => void) & {
  continuations?: ContinuationFunction[];
  /** By stateful operator index: the emitter of each aggregate (null for other kinds). */
  emitters?: (EmitFunction | null)[];
};

/** Thrown by a chain under `on error fail`: the pipeline stops with this error. */
export class ChainFailure extends Error {
  constructor(
    message: string,
    readonly operator: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ChainFailure';
  }
}
