/**
 * Avro binary encoding with the runtime representation of values
 * (src/types/avro-type.ts): avsc already maps timestamps, dates, times and
 * uuids to numbers and strings; decimals need a logical type of their own
 * (avsc leaves them as Buffers), and longs a type of their own: avsc's
 * reads through doubles and refuses what is past 2^53. Shared by the
 * workers, the coordinator and connectors that speak Avro (file, Kafka).
 */
import avro from 'avsc';
import type { AvroSchemaJson } from '../plan/plan.ts';
import { decimalOf, type DecimalValue, isPlainDecimal, unscaledAt } from '../plan/decimal.ts';
import { setOwn } from './own-keys.ts';
import { longValue, MAX_LONG, MIN_LONG } from './long.ts';

export type AvroType = avro.Type;

/** decimal(p, s) ↔ its run-time value (decimal.ts): two's-complement big-endian unscaled integer in bytes or fixed. */
class DecimalType extends avro.types.LogicalType {
  private readonly precision: number;
  private readonly scale: number;
  private readonly factor: number;
  /** 10^precision, the first unscaled value that does not fit: as a number for six-byte values (exact to 10^22), a bigint for longer ones. */
  private readonly limit: number;
  private readonly bigLimit: bigint;
  private readonly size: number | undefined;

  constructor(schema: any, opts?: any) {
    super(schema, opts);
    this.precision = Number(schema.precision);
    this.scale = Number(schema.scale ?? 0);
    if (!Number.isInteger(this.precision) || this.precision < 1 || this.scale < 0 || this.scale > this.precision) {
      throw new Error(`invalid decimal(${schema.precision}, ${schema.scale})`);
    }
    this.factor = 10 ** this.scale;
    this.limit = 10 ** this.precision;
    this.bigLimit = 10n ** BigInt(this.precision);
    this.size = schema.type === 'fixed' ? Number(schema.size) : undefined;
  }

  protected override _fromValue(buf: Buffer): DecimalValue {
    if (buf.length === 0) return 0;
    // Bytes can hold more digits than the schema allows: such a value is the record's error, not a wrong number.
    const n = buf.length <= 6 ? buf.readIntBE(0, buf.length) : BigInt.asIntN(buf.length * 8, BigInt('0x' + buf.toString('hex')));
    const limit = typeof n === 'number' ? this.limit : this.bigLimit;
    if (n >= limit || n <= -limit) throw new Error(`a decimal with unscaled value ${n} does not fit decimal(${this.precision}, ${this.scale})`);
    // Six bytes hold at most 15 digits: a number, as decimal.ts keeps such values.
    return typeof n === 'number' && this.scale <= 22 ? n / this.factor + 0 : decimalOf(BigInt(n), this.scale);
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    // Returning undefined (not throwing) tells avsc the value is not a decimal, which unions rely on.
    // A bigint is a long that reached a decimal field (`if c then a_long else a_decimal`).
    if (!(typeof value === 'number' ? Number.isFinite(value) : typeof value === 'bigint' || (typeof value === 'string' && isPlainDecimal(value)))) return undefined;
    const unscaled = unscaledAt(value as number | string | bigint, this.scale);
    if (unscaled >= this.bigLimit || unscaled <= -this.bigLimit) {
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

function twosComplement(n: bigint, size: number | undefined): Buffer {
  // Bytes for the magnitude's bits (of −n−1 when negative) and a sign bit.
  const hex = (n < 0n ? -n - 1n : n).toString(16);
  let bytes = (((hex.length - 1) * 4 + 32 - Math.clz32(parseInt(hex[0]!, 16))) >> 3) + 1;
  if (size !== undefined) {
    if (bytes > size) throw new Error(`decimal does not fit fixed(${size})`);
    bytes = size;
  }
  if (bytes <= 6) {
    const buf = Buffer.alloc(bytes);
    buf.writeIntBE(Number(n), 0, bytes);
    return buf;
  }
  return Buffer.from(BigInt.asUintN(bytes * 8, n).toString(16).padStart(bytes * 2, '0'), 'hex');
}


interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
}

/** The base avsc gives custom long types (not exported by itself). */
const AbstractLongType = Object.getPrototypeOf(
  avro.types.LongType.__with({ fromBuffer: noLong, toBuffer: noLong, fromJSON: noLong, toJSON: noLong, isValid: noLong, compare: noLong }),
).constructor as new (noUnpack: boolean) => object;

function noLong(): never {
  throw new Error('not used: ExactLongType reads and writes itself');
}

/**
 * long ↔ a number while it is a safe integer, a bigint beyond: exact over
 * all 64 bits. Zigzag varints are read with integer operations up to 28
 * bits, doubles up to 49, bigints beyond; written through avsc's own writer
 * up to 2^52, where its doubles are still exact.
 */
class ExactLongType extends AbstractLongType {
  constructor() {
    super(true);
  }

  _read(tap: Tap): number | bigint {
    const buf = tap.buf;
    let pos = tap.pos;
    let b = 0;
    let n = 0;
    let k = 0;
    do {
      b = buf[pos++]!;
      n |= (b & 0x7f) << k;
      k += 7;
    } while (b & 0x80 && k < 28);
    if (!(b & 0x80)) {
      tap.pos = pos;
      return (n >>> 1) ^ -(n & 1);
    }
    let f = n >>> 0;
    let scale = 268435456; // 2^28
    do {
      b = buf[pos++]!;
      f += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80 && scale < 2 ** 49);
    if (!(b & 0x80)) {
      tap.pos = pos;
      return f % 2 ? -(f + 1) / 2 : f / 2;
    }
    let z = BigInt(f);
    let shift = 49n;
    do {
      b = buf[pos++]!;
      z |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b & 0x80);
    tap.pos = pos;
    return longValue(BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n)))!;
  }

  _write(tap: Tap, v: number | bigint): void {
    if (typeof v === 'number' && v >= -4503599627370496 && v <= 4503599627370496 && Number.isInteger(v)) {
      tap.writeLong(v);
      return;
    }
    if (!this._check(v)) throw new Error(`invalid "long": ${String(v)}`);
    let z = BigInt(v);
    z = z < 0n ? (-z << 1n) - 1n : z << 1n;
    // The zigzag value in two 32-bit halves: the varint is then written with integer operations.
    let lo = Number(BigInt.asUintN(32, z));
    let hi = Number(z >> 32n);
    const buf = tap.buf;
    let pos = tap.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    tap.pos = pos;
  }

  _check(v: unknown, _flags?: unknown, hook?: (v: unknown, t: unknown) => void): boolean {
    const ok = typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'bigint' && v >= MIN_LONG && v <= MAX_LONG;
    if (!ok && hook) hook(v, this);
    return ok;
  }

  _copy(v: unknown): unknown {
    return v;
  }

  _fromJSON(v: unknown): unknown {
    return typeof v === 'bigint' ? (longValue(v) ?? v) : v;
  }

  _toJSON(v: unknown): unknown {
    return v;
  }

  compare(a: number | bigint, b: number | bigint): number {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

const NUMBER_KINDS = new Set(['int', 'long', 'float', 'double']);

/** Whether a union branch holds numbers at run time (decimals aside, which avsc tells apart by value). */
function numeric(branch: unknown): boolean {
  if (typeof branch === 'string') return NUMBER_KINDS.has(branch);
  const b = branch as { type?: unknown; logicalType?: unknown } | null;
  return typeof b?.type === 'string' && NUMBER_KINDS.has(b.type) && b.logicalType !== 'decimal';
}

/**
 * Longs written `{ "type": "long", "logicalType": … }` (timestamps) are the
 * exact long too: avsc would build its own for them, not the registry's.
 * Unions with two number branches are wrapped, as src/formats/schema.ts
 * expects: avsc would no longer see the ambiguity, since custom longs are
 * told apart by value.
 */
function typeHook(schema: avro.Schema, opts: avro.ForSchemaOptions): avro.Type | undefined {
  if (Array.isArray(schema)) return schema.filter(numeric).length > 1 ? new avro.types.WrappedUnionType(schema, opts) : undefined;
  const s = schema as { type?: unknown; logicalType?: unknown } | null;
  return s?.type === 'long' && s.logicalType !== undefined ? (opts.registry as Record<string, avro.Type>).long : undefined;
}

interface AvscRecordType {
  fields: { name: string; defaultValue(): unknown }[];
  _createConstructor(errorStack: boolean, plainRecords: boolean): unknown;
}

/**
 * avsc builds records with `this.<field> = value` and maps with
 * `map[key] = value`, which for the name `__proto__` (a valid Avro field
 * name, and any map key) set the object's prototype instead. Records with
 * such a field get a constructor that defines their fields as own
 * properties, and maps are read with own keys; `checkOwnKeys` below proves
 * at load that both are in place.
 */
const recordType = (avro.types as unknown as { RecordType: { prototype: AvscRecordType } }).RecordType.prototype;
const createConstructor = recordType._createConstructor;
recordType._createConstructor = function (this: AvscRecordType, errorStack: boolean, plainRecords: boolean) {
  if (!this.fields.some((f) => f.name === '__proto__')) return createConstructor.call(this, errorStack, plainRecords);
  const fields = this.fields.map((f) => ({ name: f.name, defaultValue: f.defaultValue }));
  return function Record(this: Record<string, unknown>, ...values: unknown[]) {
    fields.forEach((f, i) => setOwn(this, f.name, values[i] === undefined ? f.defaultValue() : values[i]));
  };
};

interface AvscMapType {
  valuesType: { _read(tap: Tap & { readLong(): number; skipLong(): void; readString(): string }): unknown };
  _read(tap: unknown): unknown;
}
const mapType = (avro.types as unknown as { MapType: { prototype: AvscMapType } }).MapType.prototype;
mapType._read = function (this: AvscMapType, tap: Tap & { readLong(): number; skipLong(): void; readString(): string }) {
  const map: Record<string, unknown> = {};
  // Blocks of entries; a negative count is followed by the block's size in bytes.
  for (let n = tap.readLong(); n !== 0; n = tap.readLong()) {
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    for (; n > 0; n--) {
      const key = tap.readString();
      setOwn(map, key, this.valuesType._read(tap));
    }
  }
  return map;
};

const types = new Map<string, avro.Type>();

/** The avsc type of a schema (cached by schema text). Ambiguous unions stay wrapped, see schema.ts. */
export function avroType(schema: AvroSchemaJson): avro.Type {
  const text = JSON.stringify(schema);
  let type = types.get(text);
  if (!type) {
    type = avro.Type.forSchema(schema as avro.Schema, {
      logicalTypes: { decimal: DecimalType },
      wrapUnions: 'auto',
      registry: { long: new ExactLongType() as unknown as avro.Type },
      typeHook,
      // Records are plain data here; their convenience methods would also shadow fields such as `toString`.
      omitRecordMethods: true,
    });
    types.set(text, type);
  }
  return type;
}

function checkOwnKeys(): void {
  const type = avroType({ type: 'record', name: 'OwnKeysCheck', fields: [{ name: '__proto__', type: { type: 'map', values: 'string' } }] });
  const map = {};
  setOwn(map, '__proto__', 'key');
  const value = {};
  setOwn(value, '__proto__', map);
  const back = Object.getOwnPropertyDescriptor(type.fromBuffer(type.toBuffer(value)), '__proto__')?.value as object | undefined;
  if (back === undefined || Object.getOwnPropertyDescriptor(back, '__proto__')?.value !== 'key') {
    throw new Error('avro-codec: records and maps do not keep __proto__ as their own key (has avsc changed?)');
  }
}
checkOwnKeys();

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
