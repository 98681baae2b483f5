/**
 * The file source: reads a JSON-lines or Avro container file as a stream
 * (records.ts) and deals the records over `partitions`, by the key's hash
 * (murmur2, as Kafka) or round robin, each partition in file order.
 *
 * Memory is bounded whatever the file's size: each partition queues at
 * most `capacity` records read and not yet handed out, and a record whose
 * partition is full stops the reading until the runtime reads that
 * partition. The file has one read position, so a partition that is not
 * read (its sink is slow) holds the others back once they have emptied
 * their queues, rather than letting records pile up. At most partitions ×
 * capacity records, one chunk of the file and the stream's buffer are
 * held at once.
 *
 * Offsets are line numbers (JSON) or record numbers (Avro): they name a
 * record across runs, which is what an exactly-once sink stores. There is
 * no `commit`; every run reads from the start, and such a sink skips what
 * it already holds.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isNullSchema } from '../../src/formats/avro-codec.ts';
import { partitionOf } from '../../src/formats/partitioner.ts';
import { recordNode } from '../../src/formats/schema.ts';
import type { SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { lineParser } from '../lines.ts';
import { OptionReader } from '../options.ts';
import { avroRecords, jsonLineRecords, type FileRecord } from './records.ts';
import { fileSpec } from './spec.ts';

/** Records queued over all partitions, at most (each partition gets its share, never fewer than MIN_CAPACITY). */
const QUEUED_RECORDS = 16_384;
const MIN_CAPACITY = 256;

export async function openFileSource(ctx: SourceContext): Promise<FileSource> {
  const options = new OptionReader(fileSpec, ctx.options);
  const path = options.string('path');
  const format = options.oneOf('format', ['auto', 'json', 'avro'] as const);
  const schema = recordNode(ctx.schema);
  const partitions = options.number('partitions');
  const keyField = options.optionalString('key');
  const keyNode = keyField === undefined ? undefined : schema.fields.find((f) => f.name === keyField)?.type;
  if (keyField !== undefined && !keyNode) throw new Error(`file ${path}: key field ${keyField} is not in record ${schema.name}`);
  const { size, mtimeMs } = await stat(path);
  const isAvro = format === 'avro' || (format === 'auto' && path.endsWith('.avro'));
  const file = createReadStream(path);
  const records = isAvro ? avroRecords(file, ctx.schema) : jsonLineRecords(file, path, lineParser(schema, 'json'), ctx);
  const keyOf = keyNode === undefined ? undefined : (value: unknown) => (value as Record<string, unknown>)[keyField!];
  return new FileSource(ctx, {
    path, size, partitions, keyOf,
    partitionOf: keyNode === undefined ? undefined : (key) => partitionOf(key, keyNode, partitions),
    emitKeys: keyNode !== undefined && !isNullSchema(ctx.keySchema),
    timestamp: mtimeMs,
    unit: isAvro ? 'record' : 'line',
  }, file, records);
}

interface FileSettings {
  path: string;
  /** Bytes in the file when it was opened. */
  size: number;
  partitions: number;
  /** The key of a record (the `key` field), or undefined: round robin. */
  keyOf: ((value: unknown) => unknown) | undefined;
  partitionOf: ((key: unknown) => number) | undefined;
  emitKeys: boolean;
  /** Every record's timestamp: the file's modification time. */
  timestamp: number;
  /** What an offset counts, for messages. */
  unit: 'line' | 'record';
}

interface Queued {
  offset: number;
  key: unknown;
  value: unknown;
}

export class FileSource implements SourceReader {
  readonly partitions: number;
  /** Most records a partition queues before the reading waits for it. */
  readonly capacity: number;
  private readonly queues: Queued[][];
  /** The read waiting for records, per partition. */
  private readonly waiting: ((() => void) | undefined)[];
  /** The reading, waiting for room in a full partition. */
  private full: { partition: number; resume: () => void } | undefined;
  /** Records queued so far (the round-robin position). */
  private dealt = 0;
  private ended = false;
  private stopped = false;
  private failure: Error | undefined;

  constructor(
    ctx: SourceContext,
    private readonly s: FileSettings,
    private readonly file: ReadStream,
    records: AsyncIterable<FileRecord[]>,
  ) {
    this.partitions = s.partitions;
    this.capacity = Math.max(MIN_CAPACITY, Math.ceil(QUEUED_RECORDS / s.partitions));
    this.queues = Array.from({ length: s.partitions }, () => []);
    this.waiting = new Array(s.partitions).fill(undefined);
    ctx.signal.addEventListener('abort', () => this.stop(), { once: true });
    void this.fill(records);
  }

  private async fill(records: AsyncIterable<FileRecord[]>): Promise<void> {
    const { keyOf, partitionOf, emitKeys, partitions } = this.s;
    try {
      for await (const chunk of records) {
        for (const r of chunk) {
          const key = keyOf?.(r.value) ?? null;
          const p = partitionOf ? partitionOf(key) : this.dealt % partitions;
          const queue = this.queues[p]!;
          while (queue.length >= this.capacity) {
            await new Promise<void>((resume) => (this.full = { partition: p, resume }));
            if (this.stopped) return;
          }
          queue.push({ offset: r.offset, key: emitKeys ? key : null, value: r.value });
          this.dealt++;
          this.wake(p);
        }
        if (this.stopped) return;
      }
    } catch (e) {
      if (!this.stopped) this.failure = new Error(`file ${this.s.path}: ${(e as Error).message}`);
    } finally {
      this.ended = true;
      for (let p = 0; p < partitions; p++) this.wake(p);
    }
  }

  private wake(partition: number): void {
    const wake = this.waiting[partition];
    this.waiting[partition] = undefined;
    wake?.();
  }

  async read(partition: number, max: number): Promise<SourceBatch | undefined> {
    const queue = this.queues[partition]!;
    while (queue.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended || this.stopped) return undefined;
      await new Promise<void>((resolve) => (this.waiting[partition] = resolve));
    }
    if (this.stopped) return undefined;
    const taken = queue.splice(0, max);
    if (this.full?.partition === partition) {
      const { resume } = this.full;
      this.full = undefined;
      resume();
    }
    return {
      offsets: taken.map((r) => r.offset),
      timestamps: taken.map(() => this.s.timestamp),
      keys: taken.map((r) => r.key),
      values: taken.map((r) => r.value),
    };
  }

  /** Records the partition has queued (read from the file, not yet handed out); never more than `capacity`. */
  queued(partition: number): number {
    return this.queues[partition]!.length;
  }

  /**
   * Records queued for the partition, plus its share of the records
   * estimated in the bytes not read yet (at the mean size of the records
   * read so far): an estimate until the file is read to its end.
   */
  backlog(partition: number): number {
    const queued = this.queues[partition]!.length;
    const read = this.file.bytesRead;
    if (this.ended || this.dealt === 0 || read === 0) return queued;
    const unread = (Math.max(0, this.s.size - read) * this.dealt) / read;
    return queued + Math.round(unread / this.partitions);
  }

  /** `line 20000 of orders.jsonl`, or the range over partitions: `lines 19997–20000 of orders.jsonl`. */
  describeOffsets(offsets: ReadonlyMap<number, number>): string {
    const values = [...offsets.values()];
    const least = Math.min(...values);
    const most = Math.max(...values);
    const { unit, path } = this.s;
    return least === most ? `${unit} ${most} of ${path}` : `${unit}s ${least}–${most} of ${path}`;
  }

  async close(): Promise<void> {
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.file.destroy();
    const full = this.full;
    this.full = undefined;
    full?.resume();
    for (let p = 0; p < this.partitions; p++) this.wake(p);
  }
}
