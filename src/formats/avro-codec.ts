/**
 * Avro binary encoding with the runtime representation of values
 * (src/types/avro-type.ts): avsc already maps timestamps, dates, times and
 * uuids to numbers and strings; decimals need a logical type of their own
 * (avsc leaves them as Buffers). Shared by the workers, the coordinator and
 * connectors that speak Avro (file, later Kafka).
 */
import avro from 'avsc';
import type { AvroSchemaJson } from '../plan/plan.ts';

export type AvroType = avro.Type;

/** decimal(p, s) ↔ number: two's-complement big-endian unscaled integer in bytes or fixed. */
class DecimalType extends avro.types.LogicalType {
  private readonly precision: number;
  private readonly scale: number;
  private readonly factor: number;
  private readonly size: number | undefined;

  constructor(schema: any, opts?: any) {
    super(schema, opts);
    this.precision = Number(schema.precision);
    this.scale = Number(schema.scale ?? 0);
    if (!Number.isInteger(this.precision) || this.precision < 1 || this.scale < 0 || this.scale > this.precision) {
      throw new Error(`invalid decimal(${schema.precision}, ${schema.scale})`);
    }
    this.factor = 10 ** this.scale;
    this.size = schema.type === 'fixed' ? Number(schema.size) : undefined;
  }

  protected override _fromValue(buf: Buffer): number {
    if (buf.length === 0) return 0;
    if (buf.length <= 6) return buf.readIntBE(0, buf.length) / this.factor;
    const n = BigInt.asIntN(buf.length * 8, BigInt('0x' + buf.toString('hex')));
    return Number(n) / this.factor;
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    // Returning undefined (not throwing) tells avsc the value is not a decimal, which unions rely on.
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    const unscaled = toUnscaled(value, this.scale, this.factor);
    const limit = 10n ** BigInt(this.precision);
    if (unscaled >= limit || unscaled <= -limit) {
      throw new Error(`${value} does not fit decimal(${this.precision}, ${this.scale})`);
    }
    return twosComplement(unscaled, this.size);
  }

  protected override _resolve(type: avro.Type): ((v: unknown) => unknown) | undefined {
    // A decimal writer already read the value as a number; plain bytes or fixed still need converting.
    if (avro.Type.isType(type, 'logical:decimal')) return (v) => v;
    if (type.typeName === 'bytes' || type.typeName === 'fixed') return (v) => this._fromValue(v as Buffer);
    return undefined;
  }

  protected override _export(schema: any): void {
    schema.precision = this.precision;
    schema.scale = this.scale;
  }
}

/** round(value × 10^scale), exact: from the shortest decimal string of the double when the fast path is not exact. */
export function toUnscaled(value: number, scale: number, factor = 10 ** scale): bigint {
  const fast = Math.round(value * factor);
  if (Math.abs(fast) < Number.MAX_SAFE_INTEGER && fast / factor === value) return BigInt(fast);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!m) throw new Error(`not a decimal: ${value}`);
  const frac = m[3] ?? '';
  const digits = BigInt(m[2]! + frac);
  const shift = Number(m[4] ?? 0) - frac.length + scale;
  let n: bigint;
  if (shift >= 0) {
    n = digits * 10n ** BigInt(shift);
  } else {
    // Half away from zero, as SQL rounds decimals.
    const div = 10n ** BigInt(-shift);
    n = digits / div;
    if ((digits % div) * 2n >= div) n += 1n;
  }
  return m[1] ? -n : n;
}

function twosComplement(n: bigint, size: number | undefined): Buffer {
  let bytes = 1;
  while (n >= 1n << BigInt(bytes * 8 - 1) || n < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  if (size !== undefined) {
    if (bytes > size) throw new Error(`decimal does not fit fixed(${size})`);
    bytes = size;
  }
  const buf = Buffer.alloc(bytes);
  if (bytes <= 6) {
    buf.writeIntBE(Number(n), 0, bytes);
  } else {
    let v = BigInt.asUintN(bytes * 8, n);
    for (let i = bytes - 1; i >= 0; i--) {
      buf[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  return buf;
}

const types = new Map<string, avro.Type>();

/** The avsc type of a schema (cached by schema text). Ambiguous unions stay wrapped, see schema.ts. */
export function avroType(schema: AvroSchemaJson): avro.Type {
  const text = JSON.stringify(schema);
  let type = types.get(text);
  if (!type) {
    type = avro.Type.forSchema(schema as avro.Schema, { logicalTypes: { decimal: DecimalType }, wrapUnions: 'auto' });
    types.set(text, type);
  }
  return type;
}

/** Whether values of this schema carry no information (the `null` key of an unkeyed stream). */
export function isNullSchema(schema: AvroSchemaJson): boolean {
  return schema === 'null' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'null');
}

/** Records encoded back to back: record i is `data[ends[i-1] ?? 0 .. ends[i]]`. */
export interface PackedRecords {
  data: Uint8Array;
  ends: Uint32Array;
}

/**
 * Encodes records into one reusable scratch buffer; the caller copies the
 * result out (see wire.ts) before the next `reset`. `append` adds to what is
 * there, so a batch can be encoded in pieces. A record that does not encode
 * is reported to `onError` and left out.
 */
export class RecordEncoder {
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private endsBuf = new Uint32Array(1024);
  private pos = 0;
  private n = 0;

  reset(): void {
    this.pos = 0;
    this.n = 0;
  }

  /** What has been encoded since the last reset. */
  get result(): { bytes: number; ends: Uint32Array; count: number } {
    return { bytes: this.pos, ends: this.endsBuf.subarray(0, this.n), count: this.n };
  }

  append(type: avro.Type, values: readonly unknown[], onError?: (index: number, error: Error) => void): void {
    this.room(values.length);
    let pos = this.pos;
    for (let i = 0; i < values.length; i++) {
      let next: number;
      try {
        next = type.encode(values[i], this.scratch, pos);
        if (next < 0) {
          // avsc returns minus the missing byte count; what this call encoded so far must survive the move.
          this.grow(this.scratch.length - next, pos);
          next = type.encode(values[i], this.scratch, pos);
        }
      } catch (e) {
        if (!onError) throw e;
        onError(i, e as Error);
        continue;
      }
      pos = next;
      this.endsBuf[this.n++] = pos;
    }
    this.pos = pos;
  }

  /** UTF-8 text lines, each followed by a newline. */
  appendLines(lines: readonly string[]): void {
    this.room(lines.length);
    let pos = this.pos;
    for (const line of lines) {
      if (this.scratch.length - pos < line.length * 3 + 1) this.grow(pos + line.length * 3 + 1, pos);
      pos += this.scratch.write(line, pos, 'utf8');
      this.scratch[pos++] = 10;
      this.endsBuf[this.n++] = pos;
    }
    this.pos = pos;
  }

  encode(type: avro.Type, values: readonly unknown[], onError?: (index: number, error: Error) => void): { bytes: number; ends: Uint32Array; count: number } {
    this.reset();
    this.append(type, values, onError);
    return this.result;
  }

  encodeLines(lines: readonly string[]): { bytes: number; ends: Uint32Array; count: number } {
    this.reset();
    this.appendLines(lines);
    return this.result;
  }

  /** The first `length` encoded bytes (a view into the scratch buffer). */
  bytes(length = this.pos): Uint8Array {
    return this.scratch.subarray(0, length);
  }

  private room(more: number): void {
    if (this.endsBuf.length >= this.n + more) return;
    const next = new Uint32Array(Math.max((this.n + more) * 2, 1024));
    next.set(this.endsBuf.subarray(0, this.n));
    this.endsBuf = next;
  }

  /** A larger scratch buffer keeping the first `used` bytes. */
  private grow(min: number, used: number): void {
    const next = Buffer.allocUnsafe(Math.max(min, this.scratch.length * 2));
    this.scratch.copy(next, 0, 0, used);
    this.scratch = next;
  }
}

/** Decodes back-to-back records (see PackedRecords): records `from` up to `count`. */
export function decodeRecords(type: avro.Type, data: Uint8Array, ends: Uint32Array, count = ends.length, from = 0): unknown[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = new Array<unknown>(count - from);
  let pos = from === 0 ? 0 : ends[from - 1]!;
  for (let i = from; i < count; i++) {
    const end = ends[i]!;
    const r = type.decode(buf, pos);
    if (r.offset !== end) throw new Error(`corrupt record ${i}: decoded ${r.offset - pos} of ${end - pos} bytes`);
    out[i - from] = r.value;
    pos = end;
  }
  return out;
}
