/**
 * The benchmark workload: rows of ~100 B and ~1 KB, pre-generated and
 * Avro-encoded, and one pipeline over them (decode → where → select with
 * computed fields → encode), compiled by the real compiler.
 */
import { builtinConnectors, builtinEnvironment } from '../connectors/registry.ts';
import { connectorSpecs, createEnvironment } from '../src/spi/environment.ts';
import { ArraySource, type ArrayRecord } from '../connectors/array-source.ts';
import type { Connector, EncodedBatch } from '../src/spi/connector.ts';
import { recordGenerator } from '../connectors/datagen/generate.ts';
import { avroType } from '../src/formats/avro-codec.ts';
import { recordNode } from '../src/formats/schema.ts';
import { compile } from '../src/compile.ts';
import type { Plan } from '../src/plan/plan.ts';

const COMMON = [
  { name: 'id', type: 'string' },
  { name: 'customer_id', type: 'string' },
  { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['PAID', 'PENDING', 'FAILED', 'REFUNDED'] } },
  { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
  { name: 'quantity', type: 'int' },
  { name: 'price', type: 'double' },
  { name: 'country', type: ['null', 'string'], default: null },
  { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  { name: 'email', type: 'string' },
  { name: 'sku', type: 'string' },
  { name: 'channel', type: 'string' },
  { name: 'session_id', type: 'string' },
];

export const SCHEMAS = {
  /** About 100 bytes per row in Avro. */
  small: { type: 'record', name: 'Row', fields: COMMON },
  /** About 1 KB per row: the same fields plus a payload the pipeline passes over. */
  large: {
    type: 'record',
    name: 'Row',
    fields: [
      ...COMMON,
      { name: 'description', type: 'string' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
      { name: 'attributes', type: { type: 'map', values: 'string' } },
      { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'street', type: 'string' }, { name: 'city', type: 'string' }, { name: 'zip', type: ['null', 'string'] }] } },
      { name: 'notes', type: { type: 'array', items: { type: 'record', name: 'Note', fields: [{ name: 'author', type: 'string' }, { name: 'text', type: 'string' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }] } } },
    ],
  },
} as const;

export type RowSize = keyof typeof SCHEMAS;

export const PIPELINE = `
pipeline bench
schema Row = avro "row.avsc"
source rows: Row from bench {}
stream out = rows
  | where status == "PAID" and amount > 0
  | select {
      id,
      customer_id,
      amount_cents: long(amount * 100),
      quantity,
      line_total: price * quantity,
      country: upper(country ?? "zz"),
      big: amount > 500,
      tier: if amount > 500 then "gold" else "standard",
      hour: hour(created_at),
      placed_at: created_at
    }
sink out to discard {}
`;

/** The same map, written by hand, for the baseline loop. */
export function handMap(r: any): unknown | undefined {
  if (!(r.status === 'PAID' && r.amount > 0)) return undefined;
  return {
    id: r.id,
    customer_id: r.customer_id,
    amount_cents: Math.round(r.amount * 100),
    quantity: r.quantity,
    line_total: r.price * r.quantity,
    country: (r.country ?? 'zz').toUpperCase(),
    big: r.amount > 500,
    tier: r.amount > 500 ? 'gold' : 'standard',
    hour: new Date(r.created_at).getUTCHours(),
    placed_at: r.created_at,
  };
}

/**
 * Generated rows, Avro-encoded, spread round robin over partitions. Each
 * partition's rows lie back to back in one buffer and every row is a view
 * into it, as a Kafka client hands out the values of a fetch response.
 */
export function generateRows(size: RowSize, count: number, partitions: number): { parts: ArrayRecord[][]; all: Buffer[]; bytes: number } {
  const schema = SCHEMAS[size];
  const gen = recordGenerator(recordNode(schema), 1);
  const type = avroType(schema);
  const encoded: Buffer[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i++) {
    const value = gen.record(i);
    if (size === 'large') value.description = `${value.description} `.repeat(80).slice(0, 820);
    encoded[i % partitions]!.push(type.toBuffer(value));
  }
  const parts: ArrayRecord[][] = [];
  const views: Buffer[][] = [];
  let bytes = 0;
  encoded.forEach((list, p) => {
    const block = Buffer.concat(list);
    bytes += block.length;
    let at = 0;
    views[p] = list.map((b) => block.subarray(at, (at += b.length)));
    parts[p] = views[p]!.map((value, j) => ({ key: null, value, timestamp: gen.timestamp(j * partitions + p) }));
  });
  // In generation order, for the baseline loop.
  const all = Array.from({ length: count }, (_, i) => views[i % partitions]![Math.floor(i / partitions)]!);
  return { parts, all, bytes };
}

export interface SinkCounter {
  records: number;
  bytes: number;
}

/** The `bench` source (the given partitions, already encoded) and the `discard` sink (counts, keeps nothing). */
export function benchEnvironment(parts: ArrayRecord[][], counter: SinkCounter) {
  const bench: Connector = {
    spec: { name: 'bench', doc: 'Pre-generated Avro rows (benchmark).', roles: ['source'], options: [] },
    runtime: { openSource: async () => new ArraySource(parts, true) },
  };
  const discard: Connector = {
    spec: { name: 'discard', doc: 'Counts records and drops them (benchmark).', roles: ['sink', 'dead-letter'], options: [] },
    runtime: {
      openSink: async () => ({
        format: 'avro',
        async write(batch: EncodedBatch) {
          counter.records += batch.count;
          counter.bytes += batch.data.byteLength;
        },
        async close() {},
      }),
    },
  };
  // Workers need only the built-in connectors (lookups, sink formats): the bench's own run on the coordinator.
  return createEnvironment([...builtinConnectors(), bench, discard], builtinEnvironment().workerModule);
}

/** The pipeline compiled with the real compiler, for a row size. */
export function benchPlan(size: RowSize): Plan {
  const env = benchEnvironment([], { records: 0, bytes: 0 });
  const result = compile({
    entry: 'bench.sensei',
    files: new Map([['bench.sensei', PIPELINE], ['row.avsc', JSON.stringify(SCHEMAS[size])]]),
    connectors: connectorSpecs(env),
  });
  if (!result.plan) throw new Error(`the benchmark pipeline does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return { ...result.plan, deadLetter: { connector: 'discard', options: {} } };
}
