/**
 * What the transports of an exchange (a repartition, `PlanExchange`) read
 * of its records without decoding them: the key (the exchange partition,
 * an Avro int) and the first two fields of the value, `f` (the upstream
 * partition, an int) and `w` (its watermark, a double). A record whose `w`
 * is +Infinity is that upstream partition's end.
 */
import { VarintCursor } from './varint.ts';

/** The upstream partition whose end this exchange record is, or undefined for any other record. */
export function exchangeEnd(record: Uint8Array): number | undefined {
  const cursor = new VarintCursor(record, 0);
  const f = cursor.int();
  const w = new DataView(record.buffer, record.byteOffset + cursor.pos, 8).getFloat64(0, true);
  return w === Infinity ? f : undefined;
}
