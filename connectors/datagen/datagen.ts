/**
 * The datagen source. Records form one global sequence 0, 1, 2… (record i is
 * a pure function of the seed and i, see generate.ts); record i goes to the
 * partition of its key (murmur2, as Kafka) or to i mod partitions without a
 * key. Each partition walks the sequence on its own, so a slow or moving
 * partition never holds the others back, and the output does not depend on
 * the order in which partitions are read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isNullSchema } from '../../src/formats/avro-codec.ts';
import { recordNode, type SchemaNode } from '../../src/formats/schema.ts';
import type { Connector, SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { partitionOf } from '../../src/formats/partitioner.ts';
import { recordGenerator, type RecordGenerator } from './generate.ts';
import { datagenSpec } from './spec.ts';

export const datagenConnector: Connector = {
  spec: datagenSpec,
  runtime: {
    async openSource(ctx) {
      const options = new OptionReader(datagenSpec, ctx.options);
      const schema = recordNode(ctx.schema);
      const keyField = options.optionalString('key');
      const keyNode = keyField === undefined ? undefined : schema.fields.find((f) => f.name === keyField)?.type;
      return new DatagenReader(ctx, {
        partitions: options.number('partitions'),
        rate: options.number('rate'),
        count: options.number('count') || Infinity,
        generator: recordGenerator(schema, options.number('seed'), keyField),
        keyNode,
      });
    },
  },
};

interface DatagenSettings {
  partitions: number;
  /** Records per second; 0 = as fast as read. */
  rate: number;
  count: number;
  generator: RecordGenerator;
  keyNode: SchemaNode | undefined;
}

const CHUNK = 4096;

export class DatagenReader implements SourceReader {
  readonly partitions: number;
  /** Next global index each partition looks at. */
  private readonly cursor: number[];
  private readonly nextOffset: number[];
  /** Partition of each global index, in chunks, computed once for all partitions (keyed only). */
  private readonly chunks = new Map<number, Uint16Array>();
  private readonly emitKeys: boolean;
  private start = 0;

  constructor(
    private readonly ctx: SourceContext,
    private readonly s: DatagenSettings,
  ) {
    this.partitions = s.partitions;
    this.cursor = Array.from({ length: s.partitions }, (_, p) => (s.keyNode ? 0 : p));
    this.nextOffset = new Array<number>(s.partitions).fill(0);
    this.emitKeys = !isNullSchema(ctx.keySchema) && s.keyNode !== undefined;
  }

  /** Global indices generated so far (the rate limit) and in total. */
  private limit(): number {
    if (this.s.rate <= 0) return this.s.count;
    if (this.start === 0) this.start = performance.now();
    return Math.min(this.s.count, Math.floor((this.s.rate * (performance.now() - this.start)) / 1000));
  }

  async read(partition: number, max: number): Promise<SourceBatch | undefined> {
    const { signal } = this.ctx;
    for (;;) {
      if (signal.aborted) return undefined;
      const limit = this.limit();
      const indices = this.s.keyNode ? this.scanKeyed(partition, limit, max) : this.scanRoundRobin(partition, limit, max);
      if (indices.length > 0) return this.batch(partition, indices);
      if (this.cursor[partition]! >= this.s.count) return undefined;
      try {
        if (this.cursor[partition]! >= limit) {
          // Wait until the rate allows the next record.
          const due = ((limit + 1) * 1000) / this.s.rate - (performance.now() - this.start);
          await sleep(Math.max(1, due), undefined, { signal });
        } else {
          // Scanned a stretch with no record of this partition: yield, then go on.
          await sleep(0, undefined, { signal });
        }
      } catch {
        return undefined;
      }
    }
  }

  private scanRoundRobin(p: number, limit: number, max: number): number[] {
    const out: number[] = [];
    let i = this.cursor[p]!;
    for (; i < limit && out.length < max; i += this.partitions) out.push(i);
    this.cursor[p] = i;
    return out;
  }

  private scanKeyed(p: number, limit: number, max: number): number[] {
    const out: number[] = [];
    let i = this.cursor[p]!;
    const budget = i + Math.max(max * this.partitions * 4, CHUNK);
    for (; i < limit && out.length < max && i < budget; i++) if (this.partitionOf(i) === p) out.push(i);
    this.cursor[p] = i;
    this.evict();
    return out;
  }

  private partitionOf(i: number): number {
    const n = Math.floor(i / CHUNK);
    let chunk = this.chunks.get(n);
    if (!chunk) {
      chunk = new Uint16Array(CHUNK);
      for (let k = 0; k < CHUNK; k++) chunk[k] = partitionOf(this.s.generator.key(n * CHUNK + k), this.s.keyNode!, this.partitions);
      this.chunks.set(n, chunk);
    }
    return chunk[i - n * CHUNK]!;
  }

  private evict(): void {
    const below = Math.floor(Math.min(...this.cursor) / CHUNK);
    for (const n of this.chunks.keys()) if (n < below) this.chunks.delete(n);
  }

  private batch(p: number, indices: number[]): SourceBatch {
    const g = this.s.generator;
    const offsets = indices.map(() => this.nextOffset[p]!++);
    return {
      offsets,
      timestamps: indices.map((i) => g.timestamp(i)),
      keys: indices.map((i) => (this.emitKeys ? g.key(i) : null)),
      values: indices.map((i) => g.record(i)),
    };
  }

  backlog(p: number): number {
    const limit = this.limit();
    if (!Number.isFinite(limit)) return Infinity;
    return Math.max(0, Math.ceil((limit - this.cursor[p]!) / this.partitions));
  }

  /** Offsets count each partition's records from 0: `20000 generated records` up to them, over the partitions given. */
  describeOffsets(offsets: ReadonlyMap<number, number>): string {
    let records = 0;
    for (const offset of offsets.values()) records += offset + 1;
    return `${records} generated records`;
  }

  async close(): Promise<void> {
    this.chunks.clear();
  }
}
