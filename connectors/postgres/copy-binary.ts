/**
 * PostgreSQL's binary COPY format for records (tuples only: the sink adds the
 * header and trailer per COPY). Binary rather than text because the server
 * parses it about 1.7× faster on this workload, and the server is the
 * bottleneck of a bulk load (BENCHMARKS.md). Workers encode with
 * `CopyEncoder`, so the coordinator only concatenates bytes; `decodeRow`
 * turns a tuple back into JSON for a dead letter.
 */
import { decimalFromText, type DecimalOperand, unscaledAt } from '../../src/plan/decimal.ts';
import { toJson } from '../../src/formats/json-codec.ts';
import { unwrapNullable, type RecordNode, type SchemaNode } from '../../src/formats/schema.ts';
import type { ColumnCodec, WireType } from './types.ts';
import type { FormatEncoder } from '../../src/spi/connector.ts';
import { rawNumber, stringifyJson } from '../../src/formats/json-text.ts';
import { longValue } from '../../src/formats/long.ts';

/** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix milliseconds and days. */
const PG_EPOCH_MS = 946_684_800_000;
const PG_EPOCH_DAYS = 10_957;
const TWO_32 = 4_294_967_296;

/** `PGCOPY\n\377\r\n\0`, flags 0, header extension length 0. */
export const COPY_HEADER = Uint8Array.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** A field count of -1 ends the data. */
export const COPY_TRAILER = Uint8Array.from([0xff, 0xff]);

type FieldWriter = (e: CopyEncoder, v: any) => void;

/**
 * Encodes records into one reusable scratch buffer, like the runtime's
 * RecordEncoder: the caller copies the bytes out before the next call. A
 * record that cannot be encoded (a uuid that is not one) goes to `onError`
 * and is left out.
 */
export class CopyEncoder implements FormatEncoder {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;
  private endsBuf = new Uint32Array(1024);
  private readonly fields: { name: string; write: FieldWriter }[];

  constructor(schema: RecordNode, codecs: readonly ColumnCodec[]) {
    if (codecs.length !== schema.fields.length) throw new Error(`postgres: ${codecs.length} column codecs for ${schema.fields.length} fields`);
    this.fields = schema.fields.map((f, i) => ({ name: f.name, write: nullable(fieldWriter(unwrapNullable(f.type).node, codecs[i]!)) }));
  }

  encode(values: readonly unknown[], onError?: (index: number, error: Error) => void): { bytes: number; ends: Uint32Array; count: number } {
    this.reset();
    this.append(values, onError);
    return { bytes: this.pos, ends: this.ends(), count: this.count };
  }

  private count = 0;

  /** Starts a batch that `append` adds to chunk by chunk (as the workers encode). */
  reset(): void {
    this.pos = 0;
    this.count = 0;
  }

  /** Adds records after those already encoded. */
  append(values: readonly unknown[], onError?: (index: number, error: Error) => void): void {
    if (this.endsBuf.length < this.count + values.length) {
      const next = new Uint32Array((this.count + values.length) * 2);
      next.set(this.endsBuf.subarray(0, this.count));
      this.endsBuf = next;
    }
    const fields = this.fields;
    for (let i = 0; i < values.length; i++) {
      const start = this.pos;
      const record = values[i] as Record<string, unknown>;
      try {
        this.ensure(2);
        this.buf.writeInt16BE(fields.length, this.pos);
        this.pos += 2;
        for (const f of fields) f.write(this, record[f.name]);
      } catch (e) {
        this.pos = start;
        if (!onError) throw e;
        onError(i, e as Error);
        continue;
      }
      this.endsBuf[this.count++] = this.pos;
    }
  }

  /** Record boundaries of everything encoded since `reset`. */
  ends(): Uint32Array {
    return this.endsBuf.subarray(0, this.count);
  }

  /** Everything encoded since `reset` (the scratch buffer: copy it before the next batch). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int32(v: number): void {
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  /** A long as int8: a safe integer without BigInt, a bigint (past 2^53) as it is. */
  int64(v: number | bigint): void {
    if (typeof v === 'bigint') {
      this.buf.writeBigInt64BE(v, this.pos);
      this.pos += 8;
      return;
    }
    if (!Number.isSafeInteger(v)) throw new Error(`${v} is not an integer that int8 can hold exactly`);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4);
    this.pos += 8;
  }

  /** A length-prefixed UTF-8 string. */
  text(s: string): void {
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(4 + bytes.length);
    this.int32(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}

function nullable(write: FieldWriter): FieldWriter {
  return (e, v) => {
    if (v === null || v === undefined) {
      e.ensure(4);
      e.int32(-1);
    } else {
      write(e, v);
    }
  };
}

function fieldWriter(node: SchemaNode, codec: ColumnCodec): FieldWriter {
  if (codec.wire === 'array') {
    const item = unwrapNullable((node as { items: SchemaNode }).items).node;
    return arrayWriter(scalarWriter(item, codec.element), codec.elementOid);
  }
  return scalarWriter(node, codec.wire);
}

/** Writes length + value of one non-null value. */
function scalarWriter(node: SchemaNode, wire: WireType): FieldWriter {
  switch (wire) {
    case 'bool':
      return (e, v: boolean) => {
        e.ensure(5);
        e.int32(1);
        e.buf[e.pos++] = v ? 1 : 0;
      };
    case 'int4':
      return (e, v: number) => {
        e.ensure(8);
        e.int32(4);
        e.int32(v);
      };
    case 'int8':
      return (e, v: number | bigint) => {
        e.ensure(12);
        e.int32(8);
        e.int64(v);
      };
    case 'float4':
      return (e, v: number) => {
        e.ensure(8);
        e.int32(4);
        e.pos = e.buf.writeFloatBE(v, e.pos);
      };
    case 'float8':
      return (e, v: number) => {
        e.ensure(12);
        e.int32(8);
        e.pos = e.buf.writeDoubleBE(v, e.pos);
      };
    case 'numeric': {
      const scale = node.kind === 'decimal' ? node.scale : 0;
      return (e, v: DecimalOperand) => e.raw(numeric(v, scale));
    }
    case 'text':
      return (e, v: string) => e.text(v);
    case 'bytea':
      return (e, v: Uint8Array) => e.raw(v);
    case 'uuid':
      return (e, v: string) => e.raw(uuidBytes(v));
    case 'date':
      return (e, v: number) => {
        e.ensure(8);
        e.int32(4);
        e.int32(v - PG_EPOCH_DAYS);
      };
    case 'time': {
      const micros = node.kind === 'time-millis' ? 1000 : 1;
      return (e, v: number) => {
        e.ensure(12);
        e.int32(8);
        e.int64(v * micros);
      };
    }
    case 'timestamp': {
      const millis = node.kind === 'timestamp-millis';
      return (e, v: number | bigint) => {
        e.ensure(12);
        e.int32(8);
        e.int64(pgMicros(v, millis));
      };
    }
    case 'json':
      return (e, v) => e.text(stringifyJson(toJson(node, v)));
    case 'jsonb':
      return (e, v) => {
        const s = stringifyJson(toJson(node, v));
        e.ensure(5 + s.length * 3);
        const n = e.buf.write(s, e.pos + 5, 'utf8');
        e.int32(n + 1);
        e.buf[e.pos++] = 1; // jsonb binary format version
        e.pos += n;
      };
  }
}

/** One-dimensional array: ndim, has-nulls flag, element type, length, lower bound, then the elements. */
function arrayWriter(element: FieldWriter, elementOid: number): FieldWriter {
  return (e, v: unknown[]) => {
    e.ensure(24);
    const lengthAt = e.pos;
    e.pos += 4;
    const start = e.pos;
    const empty = v.length === 0;
    e.int32(empty ? 0 : 1);
    e.int32(v.some((x) => x === null || x === undefined) ? 1 : 0);
    e.int32(elementOid);
    if (!empty) {
      e.int32(v.length);
      e.int32(1);
    }
    for (const x of v) {
      if (x === null || x === undefined) {
        e.ensure(4);
        e.int32(-1);
      } else {
        element(e, x);
      }
    }
    e.buf.writeInt32BE(e.pos - start, lengthAt);
  };
}

/**
 * numeric's binary form: ndigits, weight, sign, dscale, then base-10000
 * digits.
 */
export function numeric(v: DecimalOperand, scale: number): Buffer {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]);
    if (!Number.isFinite(v)) throw new Error(`${v} is not a numeric value`);
    const fast = numericOfSafeInteger(v, scale);
    if (fast) return fast;
  }
  // Exact (a decimal past 15 digits is its text); a double rounded as the Avro encoding rounds decimals (half away from zero, from its shortest text).
  const exact = unscaledAt(v, scale);
  const negative = exact < 0n;
  const unscaled = (negative ? -exact : exact).toString().padStart(scale + 1, '0');
  const int = unscaled.slice(0, unscaled.length - scale);
  const frac = unscaled.slice(unscaled.length - scale);
  const intGroups = Math.ceil(int.length / 4);
  const padded = int.padStart(intGroups * 4, '0') + frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const digits: number[] = [];
  for (let i = 0; i < padded.length; i += 4) digits.push(Number(padded.slice(i, i + 4)));
  let weight = intGroups - 1;
  let first = 0;
  while (first < digits.length && digits[first] === 0) {
    first++;
    weight--;
  }
  let last = digits.length;
  while (last > first && digits[last - 1] === 0) last--;
  const used = digits.slice(first, last);
  const out = Buffer.allocUnsafe(8 + used.length * 2);
  out.writeInt16BE(used.length, 0);
  out.writeInt16BE(used.length === 0 ? 0 : weight, 2);
  out.writeUInt16BE(negative && used.length > 0 ? 0x4000 : 0, 4);
  out.writeInt16BE(scale, 6);
  used.forEach((d, i) => out.writeInt16BE(d, 8 + i * 2));
  return out;
}

/**
 * `numeric` without strings, for the common case: |v| × 10^scale is exactly a
 * safe integer. Its base-10000 digits are aligned on the decimal point by
 * padding the scale to a multiple of 4; undefined when that would not be exact.
 */
function numericOfSafeInteger(v: number, scale: number): Buffer | undefined {
  const pad = (4 - (scale % 4)) % 4;
  const factor = 10 ** scale;
  const unscaled = Math.round(Math.abs(v) * factor);
  let m = unscaled * 10 ** pad;
  if (m > Number.MAX_SAFE_INTEGER || unscaled / factor !== Math.abs(v)) return undefined;
  const groups: number[] = []; // least significant first
  while (m > 0) {
    groups.push(m % 10000);
    m = Math.floor(m / 10000);
  }
  let low = 0;
  while (low < groups.length && groups[low] === 0) low++;
  const n = groups.length - low;
  const out = Buffer.allocUnsafe(8 + n * 2);
  out.writeInt16BE(n, 0);
  out.writeInt16BE(n === 0 ? 0 : groups.length - 1 - (scale + pad) / 4, 2);
  out.writeUInt16BE(v < 0 && n > 0 ? 0x4000 : 0, 4);
  out.writeInt16BE(scale, 6);
  for (let i = 0; i < n; i++) out.writeInt16BE(groups[groups.length - 1 - i]!, 8 + i * 2);
  return out;
}

function uuidBytes(s: string): Buffer {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`"${s}" is not a uuid`);
  return Buffer.from(hex, 'hex');
}

/**
 * A tuple back to a JSON object (for dead letters: the row PostgreSQL
 * rejected, as it was sent). Values are in the JSON form of the sinks.
 */
export function decodeRow(names: readonly string[], codecs: readonly ColumnCodec[], row: Uint8Array): Record<string, unknown> {
  const buf = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  let pos = 2;
  const out: Record<string, unknown> = {};
  names.forEach((name, i) => {
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len < 0) {
      out[name] = null;
      return;
    }
    const value = buf.subarray(pos, pos + len);
    pos += len;
    const codec = codecs[i]!;
    out[name] = codec.wire === 'array' ? decodeArray(codec.element, value) : decodeScalar(codec.wire, value);
  });
  return out;
}

function decodeArray(element: WireType, buf: Buffer): unknown[] {
  if (buf.readInt32BE(0) === 0) return [];
  const n = buf.readInt32BE(12);
  let pos = 20;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const len = buf.readInt32BE(pos);
    pos += 4;
    if (len < 0) {
      out.push(null);
      continue;
    }
    out.push(decodeScalar(element, buf.subarray(pos, pos + len)));
    pos += len;
  }
  return out;
}

/** Microseconds since PostgreSQL's epoch, as a bigint where a double would round them (years before 1685 or after 2255). */
function pgMicros(v: number | bigint, millis: boolean): number | bigint {
  if (typeof v === 'bigint') return millis ? (v - BigInt(PG_EPOCH_MS)) * 1000n : v - BigInt(PG_EPOCH_MS) * 1000n;
  const us = millis ? (v - PG_EPOCH_MS) * 1000 : v - PG_EPOCH_MS * 1000;
  return Number.isSafeInteger(us) ? us : millis ? BigInt(v - PG_EPOCH_MS) * 1000n : BigInt(v) - BigInt(PG_EPOCH_MS) * 1000n;
}

function decodeScalar(wire: WireType, b: Buffer): unknown {
  const int64 = () => b.readInt32BE(0) * TWO_32 + b.readUInt32BE(4);
  switch (wire) {
    case 'bool': return b[0] === 1;
    case 'int4': return b.readInt32BE(0);
    case 'int8': return longValue(b.readBigInt64BE(0));
    case 'float4': return b.readFloatBE(0);
    case 'float8': return b.readDoubleBE(0);
    case 'numeric': {
      // A decimal past 15 digits keeps all of them, as the JSON form of the sinks writes it.
      const text = numericText(b);
      const v = text === 'NaN' ? NaN : decimalFromText(text);
      return typeof v === 'string' ? rawNumber(v) : v;
    }
    case 'text': case 'json': return wire === 'json' ? JSON.parse(b.toString('utf8')) : b.toString('utf8');
    case 'jsonb': return JSON.parse(b.subarray(1).toString('utf8'));
    case 'bytea': return b.toString('hex');
    case 'uuid': {
      const h = b.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case 'date': return new Date((b.readInt32BE(0) + PG_EPOCH_DAYS) * 86_400_000).toISOString().slice(0, 10);
    case 'time': {
      const us = int64();
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${pad(Math.floor(us / 3_600_000_000))}:${pad(Math.floor(us / 60_000_000) % 60)}:${pad(Math.floor(us / 1_000_000) % 60)}.${pad(us % 1_000_000, 6)}`;
    }
    case 'timestamp': return new Date(int64() / 1000 + PG_EPOCH_MS).toISOString();
  }
}

function numericText(b: Buffer): string {
  const n = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const scale = b.readInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  const digit = (i: number) => (i >= 0 && i < n ? String(b.readInt16BE(8 + i * 2)).padStart(4, '0') : '0000');
  let int = '';
  for (let i = 0; i <= weight; i++) int += digit(i);
  let frac = '';
  for (let i = weight + 1; i < n; i++) frac += digit(i);
  return `${sign === 0x4000 ? '-' : ''}${int.replace(/^0+(?=\d)/, '') || '0'}${scale > 0 ? `.${frac.padEnd(scale, '0').slice(0, scale)}` : ''}`;
}
