/**
 * Messages between the coordinator and the workers. Records cross threads
 * as Avro binary in one ArrayBuffer per batch (offsets, timestamps, record
 * boundaries and bytes are views into it) that is transferred, not copied;
 * docs/architecture.md has the measurements behind this choice.
 */
import type { StateChanges } from '../state/codec.ts';
import type { AvroSchemaJson, Constant, PlanEventTime, PlanLookup, PlanOperator } from '../../src/plan/plan.ts';
import type { LookupStats, RecordHeaders, SinkFormat, SourceBatch } from '../../src/spi/connector.ts';
import type { RecordEncoder } from '../../src/formats/avro-codec.ts';
import type { AvroType } from '../../src/formats/avro-codec.ts';

/** Sink formats every worker encodes without a connector's help; any other is the sink connector's own. */
export const BUILTIN_FORMATS: readonly string[] = ['json', 'text', 'avro'];

/** Sent once, when a worker starts. */
/** A chain as workers get it. */
export interface ChainSetupEntry {
  source: string; code: string; sinks: number[]; operators: PlanOperator[]; schema: AvroSchemaJson; keySchema: AvroSchemaJson; lookups?: PlanLookup[]; eventTime?: PlanEventTime;
  /** It reads an exchange: the upstream partitions whose watermarks make its tasks', and when one stops holding them back. */
  reads?: ExchangeInputs;
  /** It writes exchanges: their partition count and its outputs that go to them. */
  writes?: { partitions: number; outputs: number[] };
}

/** The inputs of a task reading an exchange: one per upstream partition. */
export interface ExchangeInputs {
  count: number;
  idleMs: number;
}

export interface InitMessage {
  type: 'init';
  workerId: number;
  pipeline: string;
  /** URL of the module exporting `stdlib`, the `lib` handed to chains. */
  libModule: string;
  /** The connectors in workers (`ConnectorEnvironment.workerModule`) and the packages the worker bundle leaves to node_modules. */
  environment: { module: string | undefined; sharedPackages: string[] };
  chains: ChainSetupEntry[];
  sinks: {
    id: string; connector: string; format: SinkFormat; formatOptions?: Constant; schema: AvroSchemaJson; keySchema: AvroSchemaJson; withKeys: boolean;
    /** The workers write this sink themselves: its connector and `SinkWriter.inWorkers`. */
    inWorkers?: { connector: string; setup: Constant };
  }[];
  /** Lookups' shares of a connection budget (in each worker), by lookup id. */
  lookupConnections: Record<string, number>;
  /** The worker's heap limit (its state lives there): past it the worker stops with ERR_WORKER_OUT_OF_MEMORY, the process goes on. */
  memoryMb: number;
}

export interface AssignMessage {
  type: 'assign';
  task: number;
  chain: number;
  partition: number;
  /** The state it had elsewhere (`PartitionState`, v8-serialized: see `MovedState`). */
  state: MovedState | undefined;
}

/**
 * A task's state on its way between workers: `PartitionState` serialized
 * once (node:v8) by the worker that had it, passed on by the coordinator
 * as transferred bytes, and deserialized once by the next owner. Posting
 * the object graph instead would clone it twice, and the coordinator's
 * thread, which every partition needs, would spend a second per ten
 * megabytes of state on it.
 */
export type MovedState = Uint8Array;

export interface ReleaseMessage {
  type: 'release';
  task: number;
}

export interface BatchMessage {
  type: 'batch';
  task: number;
  seq: number;
  count: number;
  offsets: Float64Array;
  timestamps: Float64Array;
  valueEnds: Uint32Array;
  values: Uint8Array;
  keyEnds?: Uint32Array;
  keys?: Uint8Array;
  /** The source's key bytes (`SourceBatch.rawKeys`): record i's end, -1 for no key. */
  rawKeyEnds?: Int32Array;
  rawKeys?: Uint8Array;
  headers?: (RecordHeaders | undefined)[];
}

/**
 * The task's source partition has no more records: its stateful operators
 * close every window, and the results come back as the `result` of batch
 * `seq` (with no records of its own). `offset`: the partition's last.
 */
/** The end of a task's input; or (`quiet`) nothing came for a while: time passed, an input may have gone idle, nothing ends. */
export interface EndMessage {
  type: 'end';
  task: number;
  seq: number;
  offset: number;
  quiet?: true;
}

/** Finish the writes in flight, close the worker's sinks, answer `closed`. */
export interface CloseMessage {
  type: 'close';
}

export type ToWorker = InitMessage | AssignMessage | ReleaseMessage | BatchMessage | EndMessage | CloseMessage;

/** Output of one batch for one sink, in the sink's format. */
export interface EncodedOutput {
  count: number;
  data: Uint8Array;
  ends: Uint32Array;
  offsets: Float64Array;
  keys?: { data: Uint8Array; ends: Uint32Array };
}

export interface ResultMessage {
  type: 'result';
  task: number;
  seq: number;
  /** Time spent on the batch: decode, chain, encode. */
  busyMs: number;
  /** Per chain output (`chain.sinks[i]`); null when empty. */
  outputs: (EncodedOutput | null)[];
  /** JSON lines of DeadLetter objects. */
  deadLetters: EncodedOutput | null;
  skipped: number;
  /** Records that came after their windows closed. */
  late: number;
  errors: OperatorErrors;
  /** What the batch changed in the task's state (stateful tasks). */
  changes?: StateChanges;
  /** The task's state after the batch: entries per stateful operator, and its watermark (null before the first record). */
  stateInfo?: { entries: number[]; watermark: number | null };
  /** The batch's buffer, decoded and no longer needed: back to the coordinator's pool. */
  recycle?: ArrayBuffer;
  /** The worker writes some outputs itself (`outputs[i]` null there); a `written` message follows once they are accepted. */
  writing?: boolean;
}

/** The outputs a worker wrote itself for one batch are durably accepted. */
export interface WrittenMessage {
  type: 'written';
  task: number;
  seq: number;
  /** Records written, per chain output. */
  counts: number[];
  latencyMs: number;
}

/** Records each operator rejected in a batch, by action. */
export type OperatorErrors = { operator: string; action: 'dead_letter' | 'skip'; count: number }[];

export type FromWorker =
  | { type: 'ready'; workerId: number }
  | ResultMessage
  | WrittenMessage
  | { type: 'closed' }
  | { type: 'released'; task: number; state: MovedState }
  | { type: 'lookup-stats'; stats: ({ id: string } & LookupStats)[] }
  | { type: 'failed'; task?: number; offset?: number; operator?: string; message: string; stack?: string };

/**
 * Batch buffers the workers handed back, for the next batches: reusing them
 * spares the kernel mapping and zeroing fresh memory for every batch, and
 * the garbage collectors the external memory.
 */
export class BufferPool {
  private readonly spare: ArrayBuffer[] = [];
  constructor(private readonly max = 64) {}

  take(size: number): ArrayBuffer {
    for (let i = this.spare.length - 1; i >= 0; i--) {
      const b = this.spare[i]!;
      if (b.byteLength >= size && b.byteLength <= size * 4) {
        this.spare.splice(i, 1);
        return b;
      }
    }
    // Room to grow a little, so the next batch of a similar size fits. Every byte that is read gets
    // written first, so skip the zero-filling of `new ArrayBuffer`: a "slow" Buffer owns its
    // ArrayBuffer, which can be transferred.
    return Buffer.allocUnsafeSlow(Math.max(8, Math.ceil((size * 1.25) / 4096) * 4096)).buffer as ArrayBuffer;
  }

  give(buffer: ArrayBuffer): void {
    if (this.spare.length < this.max && buffer.byteLength > 0) this.spare.push(buffer);
  }
}

/** Lays typed arrays out in one ArrayBuffer, each aligned to 8 bytes. */
class Layout {
  private size = 0;
  private readonly parts: { at: number; bytes: number }[] = [];
  add(bytes: number): number {
    const at = Math.ceil(this.size / 8) * 8;
    this.size = at + bytes;
    this.parts.push({ at, bytes });
    return this.parts.length - 1;
  }
  allocate(pool?: BufferPool): { buffer: ArrayBuffer; at: (part: number) => number } {
    const buffer = pool ? pool.take(this.size) : (Buffer.allocUnsafeSlow(Math.max(8, this.size)).buffer as ArrayBuffer);
    return { buffer, at: (part) => this.parts[part]!.at };
  }
}

/**
 * Packs a source batch: Avro-encoded values (re-encoded only when the source
 * gave runtime values) and keys. Runs on the coordinator for every batch, so
 * it does per record only what it must: a copy or an encode.
 */
export function packSourceBatch(
  batch: SourceBatch,
  valueType: AvroType,
  keyType: AvroType | undefined,
  valueEncoder: RecordEncoder,
  keyEncoder: RecordEncoder,
  pool?: BufferPool,
): Omit<BatchMessage, 'task' | 'seq'> {
  const n = batch.offsets.length;
  const parts = batch.encoded;
  let valueBytes = 0;
  let encoded: { bytes: number; ends: Uint32Array } | undefined;
  if (parts) for (let i = 0; i < n; i++) valueBytes += parts[i]!.length;
  else valueBytes = (encoded = valueEncoder.encode(valueType, batch.values!)).bytes;
  // Sources without keys give nulls; then no key bytes travel and the worker fills in nulls.
  const k = keyType && batch.keys.some((key) => key !== null) ? keyEncoder.encode(keyType, batch.keys) : undefined;

  const layout = new Layout();
  const pOffsets = layout.add(n * 8);
  const pTimestamps = layout.add(n * 8);
  const pValueEnds = layout.add(n * 4);
  const pValues = layout.add(valueBytes);
  const pKeyEnds = k ? layout.add(n * 4) : -1;
  const pKeys = k ? layout.add(k.bytes) : -1;
  const raw = batch.rawKeys;
  let rawBytes = 0;
  if (raw) for (let i = 0; i < n; i++) rawBytes += raw[i]?.length ?? 0;
  const pRawKeyEnds = raw ? layout.add(n * 4) : -1;
  const pRawKeys = raw ? layout.add(rawBytes) : -1;
  const { buffer, at } = layout.allocate(pool);
  const offsets = new Float64Array(buffer, at(pOffsets), n);
  offsets.set(batch.offsets);
  const timestamps = new Float64Array(buffer, at(pTimestamps), n);
  timestamps.set(batch.timestamps);
  const ends = new Uint32Array(buffer, at(pValueEnds), n);
  const values = new Uint8Array(buffer, at(pValues), valueBytes);
  if (parts) {
    // Straight into the message: one copy per record, nothing else.
    for (let i = 0, pos = 0; i < n; i++) {
      values.set(parts[i]!, pos);
      ends[i] = pos += parts[i]!.length;
    }
  } else {
    ends.set(encoded!.ends);
    values.set(valueEncoder.bytes(valueBytes));
  }
  const msg: Omit<BatchMessage, 'task' | 'seq'> = { type: 'batch', count: n, offsets, timestamps, valueEnds: ends, values };
  if (k) {
    msg.keyEnds = new Uint32Array(buffer, at(pKeyEnds), n);
    msg.keyEnds.set(k.ends);
    msg.keys = new Uint8Array(buffer, at(pKeys), k.bytes);
    msg.keys.set(keyEncoder.bytes(k.bytes));
  }
  if (raw) {
    const ends = (msg.rawKeyEnds = new Int32Array(buffer, at(pRawKeyEnds), n));
    const bytes = (msg.rawKeys = new Uint8Array(buffer, at(pRawKeys), rawBytes));
    for (let i = 0, pos = 0; i < n; i++) {
      const key = raw[i];
      if (key) {
        bytes.set(key, pos);
        ends[i] = pos += key.length;
      } else ends[i] = -1;
    }
  }
  if (batch.headers) msg.headers = batch.headers;
  return msg;
}

/** Packs encoded records (from RecordEncoder's scratch) with their source offsets into one transferable buffer. */
export function packOutput(
  data: Uint8Array,
  ends: Uint32Array,
  offsets: ArrayLike<number>,
  keys?: { data: Uint8Array; ends: Uint32Array },
): EncodedOutput {
  const n = ends.length;
  const layout = new Layout();
  const pEnds = layout.add(n * 4);
  const pOffsets = layout.add(n * 8);
  const pData = layout.add(data.length);
  const pKeyEnds = keys ? layout.add(n * 4) : -1;
  const pKeys = keys ? layout.add(keys.data.length) : -1;
  const { buffer, at } = layout.allocate();
  const out: EncodedOutput = {
    count: n,
    ends: new Uint32Array(buffer, at(pEnds), n),
    offsets: new Float64Array(buffer, at(pOffsets), n),
    data: new Uint8Array(buffer, at(pData), data.length),
  };
  out.ends.set(ends);
  out.offsets.set(offsets);
  out.data.set(data);
  if (keys) {
    out.keys = { ends: new Uint32Array(buffer, at(pKeyEnds), n), data: new Uint8Array(buffer, at(pKeys), keys.data.length) };
    out.keys.ends.set(keys.ends);
    out.keys.data.set(keys.data);
  }
  return out;
}

/** The buffers to transfer with a message carrying these outputs. */
export function transferList(outputs: readonly (EncodedOutput | null | undefined)[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const o of outputs) if (o) list.push(o.data.buffer as ArrayBuffer);
  return list;
}
