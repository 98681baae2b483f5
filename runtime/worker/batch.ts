/**
 * One batch through a chain: decode, run the generated chain, encode each
 * output for its sink, collect dead letters. The worker threads run it on
 * the batches they are sent; `sensei test` (testing.ts) runs the very same
 * code in process, so a pipeline test sees what a real run would write.
 *
 * A batch is processed in chunks small enough to stay in the CPU cache
 * (decode a chunk, run the chain on it, encode its output, next chunk): a
 * thousand decoded 1 KB records would not fit, and every pass over them
 * would go to memory. Chains do not depend on batch boundaries.
 */
import { emptyLookupPending, type ChainBatch, type ChainContext, type ChainFunction, type ChainOutput, type Rejection } from '../../src/plan/chain.ts';
import type { PlanEventTime, PlanLookup, PlanOperator } from '../../src/plan/plan.ts';
import type { EmitResults, TaskOperators, TaskTimeOptions } from '../operators/task-operators.ts';
import type { DeadLetter, FormatEncoder, FormatEncoderFactory } from '../../src/spi/connector.ts';
import { avroType, isNullSchema, RecordEncoder, type AvroType } from '../../src/formats/avro-codec.ts';
import { genericJson, jsonLineEncoder, textLineEncoder } from '../../src/formats/json-codec.ts';
import { schemaNode } from '../../src/formats/schema.ts';
import { packOutput, type ChainSetupEntry, type EncodedOutput, type InitMessage, type OperatorErrors } from './wire.ts';
import { stringifyJson } from '../../src/formats/json-text.ts';

export interface Chain {
  source: string;
  run: ChainFunction;
  /** Sink indices, in the order of the chain's outputs. */
  sinks: number[];
  /** The chain's stateful operators (plan `operators`); each task builds its own from them. */
  operators: PlanOperator[];
  valueType: AvroType;
  keyType: AvroType | undefined;
  /** The chain's `lookup` operators (plan `lookups`); such a chain runs through `runWithLookups`. */
  lookups: PlanLookup[] | undefined;
  /** The source's event time (plan `eventTime`); absent: record timestamps. */
  eventTime: PlanEventTime | undefined;
  /** It reads an exchange (its tasks' time comes from the upstream partitions). */
  reads: ChainSetupEntry['reads'];
  /** It writes exchanges. */
  writes: ChainSetupEntry['writes'];
}

/** Results for the keys waiting at lookup `index` of the chain, in key order (null where none). */
export type LookupFetch = (index: number, keys: unknown[]) => Promise<unknown[]>;

/** A batch's records, decoded a range at a time. */
export interface BatchInput {
  count: number;
  /** Records [from, to) as runtime values; throws when one of them does not decode. */
  values(from: number, to: number): unknown[];
  /** Record i as the bytes it arrived in, for a dead letter when it does not decode (absent when the records came decoded). */
  bytes?(i: number): Uint8Array;
  keys(from: number, to: number): unknown[];
  offsets: ArrayLike<number>;
  timestamps: ArrayLike<number>;
  /** Records per chain call. */
  chunk: number;
}

export interface BatchResult {
  outputs: (EncodedOutput | null)[];
  /** JSON lines of DeadLetter objects. */
  deadLetters: EncodedOutput | null;
  skipped: number;
  /** Records each operator rejected in this batch, by action (sink encoding failures count as `sink:<id>`). */
  errors: OperatorErrors;
  /** Records that came after their windows closed (dead letters with reason `late: …`). */
  late: number;
}

export type ChainSetup = Pick<InitMessage, 'pipeline' | 'chains' | 'sinks'>;

/** Finds a connector's own record format (`ConnectorRuntime.formats`); the built-in ones (json, text, avro) need none. */
export type FormatLookup = (sink: ChainSetup['sinks'][number]) => FormatEncoderFactory | undefined;

/** Decoded bytes per chunk: a chunk's records, decoded, stay well inside a 1 MB L2 cache. */
const CHUNK_BYTES = 48 * 1024;

/** Records per chunk for records of this average encoded size. */
export function chunkFor(count: number, bytes: number): number {
  return Math.max(16, Math.min(count, Math.floor(CHUNK_BYTES / Math.max(1, bytes / Math.max(1, count)))));
}

/** One sink's output of a batch, encoded chunk by chunk. */
class SinkEncoder {
  private readonly values = new RecordEncoder();
  private readonly keys = new RecordEncoder();
  private offsets: number[] = [];
  private readonly withKeys: boolean;
  /** For a connector's own format: its encoder instead of `values`. */
  private own: FormatEncoder | undefined;
  private readonly add: (values: unknown[], keys: unknown[], offsets: number[], reject: (i: number, e: Error) => void) => void;

  constructor(
    readonly id: string,
    sink: ChainSetup['sinks'][number],
    formats: FormatLookup,
  ) {
    if (sink.format === 'avro') {
      const type = avroType(sink.schema);
      const keyType = sink.withKeys ? avroType(sink.keySchema) : undefined;
      this.add = (values, keys, offsets, reject) => {
        let failed: Set<number> | undefined;
        this.values.append(type, values, (i, e) => ((failed ??= new Set()).add(i), reject(i, e)));
        for (let i = 0; i < offsets.length; i++) if (!failed?.has(i)) this.offsets.push(offsets[i]!);
        if (keyType) this.keys.append(keyType, failed ? keys.filter((_, i) => !failed!.has(i)) : keys);
      };
      this.withKeys = keyType !== undefined;
    } else if (sink.format !== 'json' && sink.format !== 'text') {
      this.withKeys = false;
      const factory = formats(sink);
      if (!factory) throw new Error(`sink ${id}: no encoder for its format ${sink.format}`);
      const own = factory(sink.schema, sink.formatOptions);
      this.own = own;
      this.add = (values, _keys, offsets, reject) => {
        let failed: Set<number> | undefined;
        own.append(values, (i, e) => ((failed ??= new Set()).add(i), reject(i, e)));
        for (let i = 0; i < offsets.length; i++) if (!failed?.has(i)) this.offsets.push(offsets[i]!);
      };
    } else {
      this.withKeys = false;
      const line = sink.format === 'json' ? jsonLineEncoder(schemaNode(sink.schema)) : textLineEncoder(schemaNode(sink.schema));
      this.add = (values, _keys, offsets, reject) => {
        const lines: string[] = [];
        for (let i = 0; i < values.length; i++) {
          try {
            lines.push(line(values[i]));
            this.offsets.push(offsets[i]!);
          } catch (e) {
            reject(i, e as Error);
          }
        }
        this.values.appendLines(lines);
      };
    }
  }

  begin(): void {
    this.own?.reset();
    this.values.reset();
    this.keys.reset();
    this.offsets = [];
  }

  append(o: ChainOutput, reject: (i: number, e: Error) => void): void {
    if (o.values.length > 0) this.add(o.values, o.keys, o.offsets, reject);
  }

  finish(): EncodedOutput | null {
    if (this.own) {
      const ends = this.own.ends();
      return ends.length === 0 ? null : packOutput(this.own.bytes(), ends, this.offsets);
    }
    const r = this.values.result;
    if (r.count === 0) return null;
    const keys = this.withKeys ? { data: this.keys.bytes(), ends: this.keys.result.ends } : undefined;
    return packOutput(this.values.bytes(), r.ends, this.offsets, keys);
  }
}

export class BatchRunner {
  readonly chains: Chain[];
  private readonly sinks: SinkEncoder[];
  private readonly letterEncoder = new RecordEncoder();

  constructor(
    private readonly setup: ChainSetup,
    lib: unknown,
    formats: FormatLookup = () => undefined,
  ) {
    this.chains = setup.chains.map((c) => ({
      source: c.source,
      run: new Function('lib', c.code)(lib) as ChainFunction,
      sinks: c.sinks,
      operators: c.operators,
      valueType: avroType(c.schema),
      keyType: isNullSchema(c.keySchema) ? undefined : avroType(c.keySchema),
      lookups: c.lookups && c.lookups.length > 0 ? c.lookups : undefined,
      eventTime: c.eventTime,
      reads: c.reads,
      writes: c.writes,
    }));
    this.sinks = setup.sinks.map((s) => new SinkEncoder(s.id, s, formats));
  }

  /** Runs the chain over the batch; a throw (a `ChainFailure` under `on error fail`, or a bug) propagates. */
  run(chain: Chain, partition: number, ops: TaskOperators, input: BatchInput): BatchResult {
    const ctx = context(chain, partition, ops);
    const batch = this.begin(chain, partition);
    for (let from = 0; from < input.count; from += input.chunk) {
      const to = Math.min(input.count, from + input.chunk);
      const out = batch.outputs();
      const rejected: Rejection[] = [];
      chain.run(chunkOf(chain, input, partition, from, to, rejected), out, rejected, ctx);
      batch.collect(out, rejected);
    }
    ops.afterBatch(ctx.maxTime, performance.now(), this.emitInto(chain, ctx, lastOffset(input), () => {
      const out = batch.outputs();
      const rejected: Rejection[] = [];
      return [out, rejected, () => batch.collect(out, rejected)];
    }));
    const heartbeat = watermarkRecords(chain, partition, ops, lastOffset(input));
    if (heartbeat) batch.collect(heartbeat, []);
    return batch.finish();
  }

  /**
   * The input of a task ended: its stateful operators close every window,
   * and the results run through the rest of the chain (a chain with
   * lookups gets them too). `offset`: the task's last offset. `quiet`:
   * it did not end, only time passed: the watermark moves if an input went idle.
   */
  async endOfInput(chain: Chain, partition: number, ops: TaskOperators, offset: number, fetch: LookupFetch, quiet = false): Promise<BatchResult> {
    const out: ChainOutput[] = chain.sinks.map(() => ({ keys: [], values: [], offsets: [] }));
    const rejected: Rejection[] = [];
    const pending = (chain.lookups ?? []).map(() => emptyLookupPending());
    const ctx = context(chain, partition, ops, pending);
    const emit = this.emitInto(chain, ctx, offset, () => [out, rejected, () => {}]);
    if (quiet) ops.afterBatch(-Infinity, performance.now(), emit);
    else ops.finish(emit);
    await this.resolveLookups(chain, ctx, out, rejected, fetch);
    const batch = this.begin(chain, partition);
    batch.collect(out, rejected);
    // At the end of the input, every exchange partition learns that this one holds nothing back any more.
    const heartbeat = watermarkRecords(chain, partition, ops, offset);
    if (heartbeat) batch.collect(heartbeat, []);
    return batch.finish();
  }

  /** Runs an operator's results through its emitter, into the outputs `target` gives (then calls the function it returns with them). */
  private emitInto(chain: Chain, ctx: ChainContext, offset: number, target: () => [ChainOutput[], Rejection[], () => void]): EmitResults {
    return (i, results) => {
      const emitter = chain.run.emitters?.[i];
      if (!emitter) throw new Error(`chain of ${chain.source}: operator ${chain.operators[i]?.id} has results but no emitter`);
      const [out, rejected, done] = target();
      emitter(results, offset, out, rejected, ctx);
      done();
    };
  }

  /**
   * Runs a chain with lookups over the batch: the chain parks records at its
   * lookups, then each lookup in index order gets the results for all its
   * waiting keys in one `fetch` and its continuation runs them on (a
   * continuation only parks records at later lookups, so one pass ends the batch).
   */
  async runWithLookups(chain: Chain, partition: number, ops: TaskOperators, input: BatchInput, fetch: LookupFetch): Promise<BatchResult> {
    const out: ChainOutput[] = chain.sinks.map(() => ({ keys: [], values: [], offsets: [] }));
    const rejected: Rejection[] = [];
    const pending = (chain.lookups ?? []).map(() => emptyLookupPending());
    const lctx = context(chain, partition, ops, pending);
    for (let from = 0; from < input.count; from += input.chunk) chain.run(chunkOf(chain, input, partition, from, Math.min(input.count, from + input.chunk), rejected), out, rejected, lctx);
    await this.resolveLookups(chain, lctx, out, rejected, fetch);
    // Results of aggregates may wait at later lookups in turn.
    ops.afterBatch(lctx.maxTime, performance.now(), this.emitInto(chain, lctx, lastOffset(input), () => [out, rejected, () => {}]));
    await this.resolveLookups(chain, lctx, out, rejected, fetch);
    // The sink encoders are shared by every task of the worker: they are used only after the last await.
    const batch = this.begin(chain, partition);
    batch.collect(out, rejected);
    const heartbeat = watermarkRecords(chain, partition, ops, lastOffset(input));
    if (heartbeat) batch.collect(heartbeat, []);
    return batch.finish();
  }

  /** Each lookup in index order gets the results for all its waiting keys, and its continuation runs them on. */
  private async resolveLookups(chain: Chain, ctx: ChainContext, out: ChainOutput[], rejected: Rejection[], fetch: LookupFetch): Promise<void> {
    const lookups = chain.lookups ?? [];
    const pending = ctx.lookups!;
    for (let i = 0; i < lookups.length; i++) {
      const p = pending[i]!;
      if (p.keys.length === 0) continue;
      const results = await fetch(i, p.keys);
      if (results.length !== p.keys.length) throw new Error(`lookup ${lookups[i]!.id}: ${results.length} results for ${p.keys.length} keys`);
      chain.run.continuations![i]!(p, results, out, rejected, ctx);
      pending[i] = emptyLookupPending();
    }
  }

  /** The sinks, counters and dead letters of one batch of a chain. */
  private begin(chain: Chain, partition: number) {
    const sinks = chain.sinks.map((i) => this.sinks[i]!);
    for (const s of sinks) s.begin();
    const letters: DeadLetter[] = [];
    let skipped = 0;
    let late = 0;
    const errors = new Map<string, OperatorErrors[number]>();
    const count = (operator: string, action: 'dead_letter' | 'skip') => {
      const key = `${action} ${operator}`;
      const e = errors.get(key);
      if (e) e.count++;
      else errors.set(key, { operator, action, count: 1 });
    };
    const time = new Date().toISOString();
    const letter = (operator: string, reason: string, offset: number, key: unknown, value: unknown) => {
      count(operator, 'dead_letter');
      letters.push({ pipeline: this.setup.pipeline, source: chain.source, partition, offset, operator, reason, key: genericJson(key), value: genericJson(value), time });
    };
    return {
      outputs: (): ChainOutput[] => sinks.map(() => ({ keys: [], values: [], offsets: [] })),
      collect: (out: ChainOutput[], rejected: Rejection[]) => {
        for (const r of rejected) {
          if (r.action === 'skip') {
            skipped++;
            count(r.operator, 'skip');
          } else {
            if (r.reason.startsWith('late:')) late++;
            letter(r.operator, r.reason, r.offset, r.key, r.value);
          }
        }
        out.forEach((o, i) => sinks[i]!.append(o, (j, e) => letter(`sink:${sinks[i]!.id}`, `cannot encode for the sink: ${e.message}`, o.offsets[j]!, o.keys[j], o.values[j])));
      },
      finish: (): BatchResult => this.finish(sinks, letters, skipped, late, errors),
    };
  }

  private finish(sinks: SinkEncoder[], letters: DeadLetter[], skipped: number, late: number, errors: Map<string, OperatorErrors[number]>): BatchResult {
    let deadLetters: EncodedOutput | null = null;
    if (letters.length > 0) {
      const r = this.letterEncoder.encodeLines(letters.map((l) => stringifyJson(l)));
      deadLetters = packOutput(this.letterEncoder.bytes(r.bytes), r.ends, letters.map((l) => l.offset));
    }
    return { outputs: sinks.map((s) => s.finish()), deadLetters, skipped, late, errors: [...errors.values()] };
  }
}

/** How a task of the chain keeps time, when it reads or writes an exchange. */
export function taskTime(chain: Chain): TaskTimeOptions {
  return { writesExchange: chain.writes !== undefined, ...(chain.reads ? { inputs: chain.reads } : {}) };
}

/** A chain call's context: the task's operators, and what reading or writing an exchange needs. */
function context(chain: Chain, partition: number, ops: TaskOperators, lookups?: ChainContext['lookups']): ChainContext {
  const ctx: ChainContext = { operators: ops.instances, maxTime: -Infinity };
  if (lookups) ctx.lookups = lookups;
  if (ops.inputs) ctx.inputs = ops.inputs;
  if (chain.writes) ctx.exchange = { partition, partitions: chain.writes.partitions, watermark: ops.currentWatermark };
  return ctx;
}

/**
 * When the task's watermark moved since it last told them, a record without
 * data to every partition of each exchange it writes (`PlanExchange`):
 * the tasks reading them then move on without waiting for a record of this
 * partition. At the end of the input it is +Infinity.
 */
function watermarkRecords(chain: Chain, partition: number, ops: TaskOperators, offset: number): ChainOutput[] | undefined {
  const w = ops.currentWatermark;
  if (!chain.writes || w <= ops.sentWatermark) return undefined;
  ops.sentWatermark = w;
  const out = chain.sinks.map((): ChainOutput => ({ keys: [], values: [], offsets: [] }));
  for (const i of chain.writes.outputs) {
    const o = out[i]!;
    for (let q = 0; q < chain.writes.partitions; q++) {
      o.keys.push(q);
      o.values.push({ f: partition, w, t: 0, r: null });
      o.offsets.push(offset);
    }
  }
  return out;
}

/** The offset results of this batch stand for: its last. */
function lastOffset(input: BatchInput): number {
  return input.offsets[input.count - 1] ?? -1;
}

/**
 * Records [from, to) of the batch for one chain call. Sources may hand over
 * values as the bytes they received, unchecked (the Kafka source does, so
 * its thread does not decode every value twice): a record that does not
 * decode in the source schema is left out and becomes a dead letter.
 */
function chunkOf(chain: Chain, input: BatchInput, partition: number, from: number, to: number, rejected: Rejection[]): ChainBatch {
  const keys = input.keys(from, to);
  const offsets = Array.prototype.slice.call(input.offsets, from, to) as number[];
  const timestamps = Array.prototype.slice.call(input.timestamps, from, to) as number[];
  let values: unknown[];
  try {
    values = input.values(from, to);
  } catch {
    values = [];
    let kept = 0;
    for (let i = from; i < to; i++) {
      const j = i - from;
      try {
        values.push(input.values(i, i + 1)[0]);
      } catch (e) {
        const bytes = input.bytes?.(i);
        rejected.push({
          action: 'dead_letter', operator: `source:${chain.source}`, offset: offsets[j]!, key: keys[j],
          reason: `undecodable Avro: not a record of the source schema (${(e as Error).message})`,
          value: bytes ? { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } : null,
        });
        continue;
      }
      keys[kept] = keys[j];
      offsets[kept] = offsets[j]!;
      timestamps[kept] = timestamps[j]!;
      kept++;
    }
    keys.length = offsets.length = timestamps.length = kept;
  }
  return { partition, keys, values, offsets, timestamps };
}
