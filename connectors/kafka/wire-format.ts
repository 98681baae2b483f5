/**
 * The Confluent wire format of a Kafka key or value: magic byte 0, the
 * schema id as a 4-byte big-endian integer, then the Avro binary.
 */
export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

export function frameHeader(id: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = MAGIC_BYTE;
  header.writeInt32BE(id, 1);
  return header;
}

/** The schema id of a framed value, or why it is not one. */
export function frameId(value: Buffer): number | { error: string } {
  if (value.length < HEADER_BYTES) return { error: `not in the Confluent wire format: ${value.length} bytes, shorter than the 5-byte header` };
  if (value[0] !== MAGIC_BYTE) return { error: `not in the Confluent wire format: magic byte ${value[0]}, expected 0` };
  return value.readInt32BE(1);
}

/**
 * Frames records packed back to back (`data`, record i ends at `ends[i]`)
 * into one buffer, each record behind its header; returns a view per record.
 */
export function frameRecords(header: Buffer, data: Uint8Array, ends: ArrayLike<number>, count = ends.length): Buffer[] {
  const out = Buffer.allocUnsafe(data.length + count * header.length);
  const records = new Array<Buffer>(count);
  let from = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const end = ends[i]!;
    const start = at;
    header.copy(out, at);
    at += header.length;
    out.set(data.subarray(from, end), at);
    at += end - from;
    records[i] = out.subarray(start, at);
    from = end;
  }
  return records;
}
