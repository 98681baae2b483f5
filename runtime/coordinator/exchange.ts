/**
 * The in-process exchange of a repartition (`PlanExchange`), for sources
 * that are not Kafka's: the upstream chain's exchange sink hands each record
 * (Avro bytes, keyed by its exchange partition) to a queue per partition,
 * which the exchange source reads in order. Records stay bytes: the workers
 * decode them, as they decode a Kafka source's.
 *
 * A partition ends (a bounded run) once every upstream partition has sent
 * it its end: a record whose watermark `w` is +Infinity. Writes wait while
 * the queues hold more than `limit` records, so a fast upstream cannot
 * outrun the groups; reading the exchange is never held back in turn (the
 * data path exempts it from the buffered-records bound), so the wait ends.
 */
import type { EncodedBatch, SinkWriter, SourceBatch, SourceReader } from '../../src/spi/connector.ts';
import { exchangeEnd } from '../../src/formats/exchange-record.ts';
import { VarintCursor } from '../../src/formats/varint.ts';

const DEFAULT_LIMIT = 100_000;

interface Queue {
  values: Uint8Array[];
  /** The offset of `values[0]`. */
  first: number;
  /** Upstream partitions whose end reached this partition. */
  ended: Set<number>;
  wake: (() => void) | undefined;
}

export class MemoryExchange {
  readonly writer: SinkWriter;
  readonly reader: SourceReader;
  private readonly queues: Queue[];
  private queued = 0;
  private room: (() => void)[] = [];

  /** `partitions`: the exchange's, which are its upstream source's: each partition ends once that many ends reached it. */
  constructor(
    private readonly partitions: number,
    private readonly signal: AbortSignal,
    private readonly limit = DEFAULT_LIMIT,
  ) {
    this.queues = Array.from({ length: partitions }, () => ({ values: [], first: 0, ended: new Set<number>(), wake: undefined }));
    signal.addEventListener('abort', () => {
      for (const q of this.queues) q.wake?.();
      for (const r of this.room.splice(0)) r();
    }, { once: true });
    this.writer = { format: 'avro', write: (batch) => this.write(batch), close: async () => {} };
    this.reader = {
      partitions,
      read: (partition, max) => this.read(partition, max),
      backlog: (partition) => this.queues[partition]!.values.length,
      close: async () => {},
    };
  }

  private write(batch: EncodedBatch): Promise<void> {
    const keys = batch.keys;
    if (!keys) throw new Error('exchange: records without their exchange partition');
    // The keys (exchange partitions, Avro ints) lie back to back.
    const partitions = new VarintCursor(keys.data, 0);
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const partition = partitions.int();
      const q = this.queues[partition];
      if (!q) throw new Error(`exchange: record for partition ${partition} of ${this.queues.length}`);
      const value = batch.data.slice(start, batch.ends[i]);
      start = batch.ends[i]!;
      const upstream = exchangeEnd(value);
      if (upstream !== undefined) q.ended.add(upstream);
      q.values.push(value);
      this.queued++;
      q.wake?.();
    }
    if (this.queued <= this.limit || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.room.push(resolve));
  }

  private async read(partition: number, max: number): Promise<SourceBatch | undefined> {
    const q = this.queues[partition]!;
    while (q.values.length === 0) {
      if (this.signal.aborted || q.ended.size >= this.partitions) return undefined;
      await new Promise<void>((resolve) => (q.wake = resolve));
      q.wake = undefined;
    }
    const encoded = q.values.splice(0, max);
    const offsets = encoded.map((_, i) => q.first + i);
    q.first += encoded.length;
    this.queued -= encoded.length;
    if (this.queued <= this.limit) for (const r of this.room.splice(0)) r();
    return { offsets, timestamps: new Array<number>(encoded.length).fill(0), keys: new Array<null>(encoded.length).fill(null), encoded };
  }
}
