/**
 * The benchmark workload: rows of ~100 B and ~1 KB, pre-generated and
 * Avro-encoded, and one pipeline over them (decode → where → select with
 * computed fields → encode), compiled by the real compiler; and rows of
 * wide values (64-bit ids past 2^53, decimal(38, 10) amounts) with a
 * pipeline of exact arithmetic over them.
 */
import { builtinConnectors, builtinEnvironment } from '../connectors/registry.ts';
import { connectorSpecs, createEnvironment } from '../src/spi/environment.ts';
import { ArraySource, type ArrayRecord } from '../connectors/array-source.ts';
import type { Connector, EncodedBatch } from '../src/spi/connector.ts';
import { recordGenerator } from '../connectors/datagen/generate.ts';
import avro from 'avsc';
import { avroType } from '../src/formats/avro-codec.ts';
import { decimalOf } from '../src/plan/decimal.ts';
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

const decimal38 = { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 };

/** Payments with ids past 2^53 and decimal(38, 10) amounts. */
const WIDE_SCHEMA = {
  type: 'record',
  name: 'Payment',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'account', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['PAID', 'PENDING', 'FAILED', 'REFUNDED'] } },
    { name: 'amount', type: decimal38 },
    { name: 'fee', type: decimal38 },
    { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
} as const;

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
  wide: WIDE_SCHEMA,
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

/**
 * Exact arithmetic on wide values: `amount + fee` is decimal(38, 9) and
 * `fee * 2` decimal(38, 6) by SQL's rules, both rounded half away from zero.
 */
const WIDE_PIPELINE = `
pipeline bench_wide
schema Payment = avro "row.avsc"
source rows: Payment from bench {}
stream out = rows
  | where status == "PAID" and amount > 0
  | select {
      id,
      next_id: id + 1,
      account,
      total: amount + fee,
      fee_twice: fee * 2,
      big: amount > 1000000000000000000d,
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
    const value = size === 'wide' ? widePayment(i) : gen.record(i);
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
    files: new Map([['bench.sensei', size === 'wide' ? WIDE_PIPELINE : PIPELINE], ['row.avsc', JSON.stringify(SCHEMAS[size])]]),
    connectors: connectorSpecs(env),
  });
  if (!result.plan) throw new Error(`the benchmark pipeline does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return { ...result.plan, deadLetter: { connector: 'discard', options: {} } };
}

/** A payment of the wide rows: ids from 2^60, amounts up to 10^20 with 10 places, a deterministic spread. */
function widePayment(i: number): Record<string, unknown> {
  const mix = BigInt(Math.imul(i + 1, 2654435761) >>> 0);
  return {
    id: 2n ** 60n + BigInt(i) * 7919n,
    account: 2n ** 55n + BigInt(i % 1000),
    status: ['PAID', 'PAID', 'PAID', 'PENDING', 'FAILED'][i % 5],
    amount: decimalOf((mix * mix * mix * 12345n) % 10n ** 30n + 1n, 10),
    fee: decimalOf((mix * 104729n) % 10n ** 14n, 10),
    created_at: Date.UTC(2024, 0, 1) + i * 1000,
  };
}

/**
 * A long as bigint, both ways: what the avsc documentation suggests for
 * longs past 2^53 (its own long type reads through doubles).
 */
const BigIntLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** The schema with its decimals as the plain bytes they are (the hand loop reads the unscaled integer itself). */
function withPlainDecimals(schema: any): any {
  return { ...schema, fields: schema.fields.map((f: any) => ({ ...f, type: f.type?.logicalType === 'decimal' ? 'bytes' : f.type })) };
}

function unscaled(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt.asIntN(b.length * 8, BigInt(`0x${b.toString('hex')}`));
}

/** Two's complement in as few bytes as hold the value, as Avro's decimal writers do. */
function unscaledBytes(n: bigint): Buffer {
  let bytes = 1;
  while (n >= 1n << BigInt(bytes * 8 - 1) || n < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  return Buffer.from(BigInt.asUintN(bytes * 8, n).toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** n / d rounded half away from zero, as SQL rounds a decimal to fewer places. */
function roundedDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  return (r < 0n ? -r : r) * 2n >= d ? q + (n < 0n ? -1n : 1n) : q;
}

const BIG_AMOUNT = 10n ** 18n * 10n ** 10n;

/**
 * decode → map → encode, written by hand for a row size: avsc with the
 * map above for the plain rows; for the wide rows, exact as well: longs
 * as bigints, decimals as their unscaled bigints.
 */
export function handLoop(size: RowSize, plan: Plan): (buf: Buffer) => Buffer | undefined {
  if (size !== 'wide') {
    const input = avroType(plan.sources[0]!.schema);
    const output = avroType(plan.sinks[0]!.schema);
    return (buf) => {
      const out = handMap(input.fromBuffer(buf));
      return out === undefined ? undefined : output.toBuffer(out);
    };
  }
  const registry = () => ({ registry: { long: BigIntLong } }) as any;
  const input = avro.Type.forSchema(withPlainDecimals(plan.sources[0]!.schema), registry());
  const output = avro.Type.forSchema(withPlainDecimals(plan.sinks[0]!.schema), registry());
  return (buf) => {
    const r = input.fromBuffer(buf) as { id: bigint; account: bigint; status: string; amount: Buffer; fee: Buffer; created_at: bigint };
    const amount = unscaled(r.amount);
    if (!(r.status === 'PAID' && amount > 0n)) return undefined;
    const fee = unscaled(r.fee);
    return output.toBuffer({
      id: r.id,
      next_id: r.id + 1n,
      account: r.account,
      total: unscaledBytes(roundedDiv(amount + fee, 10n)),
      fee_twice: unscaledBytes(roundedDiv(fee * 2n, 10n ** 4n)),
      big: amount > BIG_AMOUNT,
      placed_at: r.created_at,
    });
  };
}
