/**
 * Zig-zag varints, as Avro writes its ints and longs and Kafka the fields of
 * a record: read from a byte array at a position that moves past them.
 */
export class VarintCursor {
  constructor(
    readonly data: Uint8Array,
    public pos: number,
  ) {}

  /** A 32-bit zig-zag varint. */
  int(): number {
    const data = this.data;
    let n = 0;
    let shift = 0;
    let b: number;
    do {
      b = data[this.pos++]!;
      n |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return (n >>> 1) ^ -(n & 1);
  }

  /** A 64-bit zig-zag varint in double arithmetic (the sign bit taken first): exact while |x| < 2^53. */
  long(): number {
    const data = this.data;
    let b = data[this.pos++]!;
    const negative = b & 1;
    let n = (b & 0x7f) >>> 1;
    let scale = 64;
    while (b & 0x80) {
      b = data[this.pos++]!;
      n += (b & 0x7f) * scale;
      scale *= 128;
    }
    return negative ? -n - 1 : n;
  }
}
