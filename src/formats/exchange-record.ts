/**
 * What the transports of an exchange (a repartition, `PlanExchange`) read
 * of its records without decoding them: the key (the exchange partition,
 * an Avro int) and the first two fields of the value, `f` (the upstream
 * partition, an int) and `w` (its watermark, a double). A record whose `w`
 * is +Infinity is that upstream partition's end.
 */

import { VarintCursor } from './varint.ts';

/** An Avro int (zig-zag varint) at `pos`, and the position after it. */
export function readAvroInt(data: Uint8Array, pos: number): { value: number; next: number } {
  const cursor = new VarintCursor(data, pos);
  return { value: cursor.int(), next: cursor.pos };
}

/** The upstream partition whose end this exchange record is, or undefined for any other record. */
export function exchangeEnd(record: Uint8Array): number | undefined {
  const f = readAvroInt(record, 0);
  const w = new DataView(record.buffer, record.byteOffset + f.next, 8).getFloat64(0, true);
  return w === Infinity ? f.value : undefined;
}
