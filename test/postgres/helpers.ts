/**
 * Test support for the PostgreSQL connector, against the real server of
 * `scripts/services start postgres`: unique table names, a sink opened
 * directly with a context that collects dead letters, batches encoded as
 * the runtime would hand them over, and small query helpers.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter } from '../../src/spi/connector.ts';
import { openPostgresSink } from '../../connectors/postgres/sink.ts';
import { CopyEncoder } from '../../connectors/postgres/copy-binary.ts';
import type { ColumnCodec } from '../../connectors/postgres/types.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { pgUrl } from '../support/services.ts';

/** The orders the sink tests write: a decimal amount, a key per order, seven customers. */
export const ORDER = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'qty', type: 'int' },
  ],
};

export interface Order { id: string; customer: string; amount: number; qty: number }

export const orders = (n: number, from = 0): Order[] =>
  Array.from({ length: n }, (_, i) => ({ id: `o${from + i}`, customer: `c${(from + i) % 7}`, amount: (from + i) / 4, qty: (from + i) % 5 }));

export function unique(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

/** One query on a connection of its own, in UTC (timestamps read back the same on any server). */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[], url = pgUrl()): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface TestSink {
  writer: SinkWriter;
  letters: DeadLetter[];
  /** Writes records of one source partition as one runtime batch (encoded as the workers would); offsets default to consecutive from `from`. */
  write(values: unknown[], at?: { source?: string; partition?: number; from?: number; offsets?: number[] }): Promise<void>;
}

export async function openSink(schema: unknown, options: Record<string, unknown>, settings: { pipeline?: string; id?: string; signal?: AbortSignal; fromStart?: boolean } = {}): Promise<TestSink> {
  const letters: DeadLetter[] = [];
  const ctx: SinkContext & { reject(l: DeadLetter[]): Promise<void> } = {
    pipeline: settings.pipeline ?? unique('p'),
    id: settings.id ?? 'sink:out:0',
    role: 'sink',
    options: { url: pgUrl(), ...options } as SinkContext['options'],
    schema,
    keySchema: 'null',
    signal: settings.signal ?? new AbortController().signal,
    fromStart: settings.fromStart ?? false,
    reject: async (l) => void letters.push(...l),
  };
  const writer = await openPostgresSink(ctx);
  // What the workers send: binary COPY tuples (format pg-binary).
  const encoder = new CopyEncoder(recordNode(schema), writer.formatOptions as unknown as ColumnCodec[]);
  return {
    writer,
    letters,
    write(values, at = {}) {
      const offsets = at.offsets ?? values.map((_, i) => (at.from ?? 0) + i);
      const r = encoder.encode(values);
      const batch: EncodedBatch = {
        source: at.source ?? 'in', partition: at.partition ?? 0, count: r.count,
        data: new Uint8Array(encoder.bytes()), ends: r.ends.slice(), offsets: Float64Array.from(offsets),
      };
      return writer.write(batch);
    },
  };
}
