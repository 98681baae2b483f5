/**
 * A source over records already in memory, split into partitions: what tests
 * and benchmarks feed pipelines with. Offsets are positions within a partition.
 */
import type { SourceBatch, SourceReader } from '../src/spi/connector.ts';

export interface ArrayRecord {
  key: unknown;
  /** A runtime value, or Avro binary of the source schema when `encoded`. */
  value: unknown;
  timestamp: number;
}

export class ArraySource implements SourceReader {
  readonly partitions: number;
  private readonly next: number[];

  constructor(
    private readonly records: readonly ArrayRecord[][],
    private readonly encoded = false,
  ) {
    this.partitions = records.length;
    this.next = records.map(() => 0);
  }

  async read(partition: number, max: number): Promise<SourceBatch | undefined> {
    const all = this.records[partition]!;
    const from = this.next[partition]!;
    if (from >= all.length) return undefined;
    const slice = all.slice(from, from + max);
    this.next[partition] = from + slice.length;
    const values = slice.map((r) => r.value);
    return {
      offsets: slice.map((_, i) => from + i),
      timestamps: slice.map((r) => r.timestamp),
      keys: slice.map((r) => r.key),
      ...(this.encoded ? { encoded: values as Uint8Array[] } : { values }),
    };
  }

  backlog(partition: number): number {
    return this.records[partition]!.length - this.next[partition]!;
  }

  async close(): Promise<void> {}
}
