/**
 * Kafka messages from a sink's encoded output, the same in the coordinator
 * (exactly-once sinks) and in the workers (at-least-once sinks, see
 * worker-sink.ts): values framed with the registered schema id (Confluent
 * wire format) or as JSON text; keys serialized as Kafka's plain
 * serializers would (or framed Avro) and placed with Kafka's murmur2
 * partitioner, so they land where a Java producer puts them. Without
 * `key by`, an output record keeps the key of the input record it derives
 * from; its headers and timestamp pass through.
 */
import type avro from 'avsc';
import type { IHeaders, Message } from 'kafkajs';
import { avroType, isNullSchema } from '../../src/formats/avro-codec.ts';
import { jsonLineEncoder } from '../../src/formats/json-codec.ts';
import { schemaNode, type SchemaNode } from '../../src/formats/schema.ts';
import type { AvroSchemaJson, Constant } from '../../src/plan/plan.ts';
import type { EncodedBatch, Options, RecordHeaders, SourceRecords } from '../../src/spi/connector.ts';
import { kafkaPartition, keyBytes } from '../../src/formats/partitioner.ts';
import { VarintCursor } from '../../src/formats/varint.ts';
import type { Compression } from './compression.ts';
import { frameHeader, frameRecords } from './wire-format.ts';

/** What the coordinator resolved when it opened the sink (JSON: it travels to the workers). */
export interface SinkSetup {
  options: Options;
  topic: string;
  partitions: number;
  compression: Compression;
  /** `exchange`: a repartition's records (`PlanExchange`), raw Avro, each to the partition its key names. */
  format: 'avro' | 'json' | 'exchange';
  /** Registered schema ids of the value and (Avro keys) the key. */
  valueId?: number;
  keyId?: number;
  headers: boolean;
}

/** What passes through from the input record an output record derives from. */
export interface PassedThrough {
  key: Buffer | null;
  timestamp: string;
  headers?: IHeaders;
}

export class MessageBuilder {
  private readonly valueHeader: Buffer | undefined;
  private readonly keyHeader: Buffer | undefined;
  private readonly json: { type: avro.Type; line: (value: unknown) => string } | undefined;
  private readonly key: { type: avro.Type; node: SchemaNode } | undefined;

  constructor(
    readonly setup: SinkSetup,
    schema: AvroSchemaJson,
    keySchema: AvroSchemaJson,
  ) {
    this.valueHeader = setup.valueId === undefined ? undefined : frameHeader(setup.valueId);
    this.keyHeader = setup.keyId === undefined ? undefined : frameHeader(setup.keyId);
    this.json = setup.format === 'json' ? { type: avroType(schema), line: jsonLineEncoder(schemaNode(schema)) } : undefined;
    this.key = isNullSchema(keySchema) ? undefined : { type: avroType(keySchema), node: schemaNode(keySchema) };
  }

  /** One message per output record; `inputs[i]` is what output record i passes through. */
  messages(batch: EncodedBatch, inputs: readonly (PassedThrough | undefined)[] | undefined): Message[] {
    if (this.setup.format === 'exchange') return exchangeMessages(batch);
    const n = batch.count;
    const partitions = this.setup.partitions;
    const values = this.json ? jsonValues(this.json, batch) : frameRecords(this.valueHeader!, batch.data, batch.ends, n);
    const keys = batch.keys && this.key ? this.keys(batch.keys.data, batch.keys.ends, n) : undefined;
    const messages = new Array<Message>(n);
    const fallback = batch.partition % partitions;
    for (let i = 0; i < n; i++) {
      const input = inputs?.[i];
      const key = keys ? keys[i]! : input?.key ?? null;
      const m: Message = { key, value: values[i]!, partition: kafkaPartition(key, partitions, fallback) };
      if (input) {
        m.timestamp = input.timestamp;
        if (this.setup.headers && input.headers) m.headers = input.headers;
      }
      messages[i] = m;
    }
    return messages;
  }

  /** Key bytes per record: as Kafka's plain serializers would write the key value, or framed Avro; null for a null key. */
  private keys(data: Uint8Array, ends: Uint32Array, n: number): (Buffer | null)[] {
    const { type, node } = this.key!;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const out = new Array<Buffer | null>(n);
    let from = 0;
    for (let i = 0; i < n; i++) {
      const end = ends[i]!;
      const value = type.decode(buf, from).value;
      if (value === null) out[i] = null;
      else if (this.keyHeader) out[i] = Buffer.concat([this.keyHeader, buf.subarray(from, end)]);
      else out[i] = Buffer.from(keyBytes(value, node));
      from = end;
    }
    return out;
  }
}

/** A repartition's records: the value as the workers encoded it, to the exchange partition its key holds. */
function exchangeMessages(batch: EncodedBatch): Message[] {
  const keys = batch.keys;
  if (!keys) throw new Error('kafka: exchange records without their partition');
  const messages = new Array<Message>(batch.count);
  // The keys (exchange partitions, Avro ints) lie back to back.
  const partitions = new VarintCursor(keys.data, 0);
  for (let i = 0, from = 0; i < batch.count; i++) {
    const end = batch.ends[i]!;
    // A copy: the batch's buffer may be reused while the producer still holds the message.
    messages[i] = { key: null, value: Buffer.from(batch.data.subarray(from, end)), partition: partitions.int() };
    from = end;
  }
  return messages;
}

function jsonValues(json: { type: avro.Type; line: (value: unknown) => string }, batch: EncodedBatch): Buffer[] {
  const buf = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
  const out = new Array<Buffer>(batch.count);
  let from = 0;
  for (let i = 0; i < batch.count; i++) {
    out[i] = Buffer.from(json.line(json.type.decode(buf, from).value), 'utf8');
    from = batch.ends[i]!;
  }
  return out;
}

/**
 * What each output record passes through, from the source records its batch
 * derives from: output offsets are non-decreasing and every one is a source
 * offset of the batch, so one forward walk pairs them.
 */
export function passedThrough(offsets: ArrayLike<number>, from: SourceRecords): PassedThrough[] {
  const out = new Array<PassedThrough>(offsets.length);
  let j = 0;
  for (let i = 0; i < offsets.length; i++) {
    while (j < from.offsets.length - 1 && from.offsets[j]! < offsets[i]!) j++;
    const key = from.rawKeys?.[j];
    const headers = from.headers?.[j];
    out[i] = {
      key: key ? Buffer.from(key.buffer, key.byteOffset, key.byteLength) : null,
      timestamp: String(from.timestamps[j]),
      ...(headers ? { headers: kafkaHeaders(headers) } : {}),
    };
  }
  return out;
}

/** Headers that crossed threads (byte values arrive as Uint8Array) as kafkajs sends them. */
function kafkaHeaders(headers: RecordHeaders): IHeaders {
  const out: IHeaders = {};
  const bytes = (v: Uint8Array | string) => (typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(bytes) : bytes(v);
  }
  return out;
}

/** The setup as the JSON constant that travels in the workers' init message. */
export function setupConstant(setup: SinkSetup): Constant {
  return JSON.parse(JSON.stringify(setup)) as Constant;
}
