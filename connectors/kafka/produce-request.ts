/**
 * A faster encoder for kafkajs's Produce request (v3, which v4–v7 extend).
 *
 * kafkajs 2.2 encodes every record through an object spread with extra
 * properties (`{ ...message, offsetDelta, timestampDelta }`, which V8 runs
 * on its slow path, ~2.5 µs), a fresh growable Encoder per record and per
 * header, and a sort of the timestamps as strings: together several
 * microseconds per record, on the thread that produces (see
 * BENCHMARKS.md, Kafka → Kafka). This module writes a partition's records
 * in two passes (sizes, then bytes) into one buffer and builds the record
 * batch around them exactly as kafkajs does — same fields, same CRC-32C,
 * same compression codecs — so the bytes on the wire are kafkajs's own
 * (test/kafka/produce-request.test.ts compares them). Timestamps are
 * compared as numbers (kafkajs compares their strings, which differs only
 * for timestamps of different lengths).
 *
 * kafkajs requires the module of a Produce request version when it builds a
 * request; `useFastProduceRequest` (called by `kafkaClient`) puts this
 * encoder in those modules' cache entries. Workers import kafkajs from
 * node_modules (not bundled) so that the module cache is Node's
 * (runtime/worker-bundle.ts).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkaEncoder {
  buffer: Buffer;
  size(): number;
  writeInt8(v: number): KafkaEncoder;
  writeInt16(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeUInt32(v: number): KafkaEncoder;
  writeInt64(v: unknown): KafkaEncoder;
  writeString(v: string | null): KafkaEncoder;
  writeBytes(v: Buffer): KafkaEncoder;
  writeBuffer(v: Buffer): KafkaEncoder;
  writeEncoder(v: KafkaEncoder): KafkaEncoder;
  writeArray(v: KafkaEncoder[]): KafkaEncoder;
}
type EncoderClass = new () => KafkaEncoder;
type Codec = { compress(encoder: { buffer: Buffer }): Promise<Buffer> };

const KAFKAJS = 'kafkajs/src/protocol';
const Encoder = require(`${KAFKAJS}/encoder.js`) as EncoderClass;
const crc32C = require(`${KAFKAJS}/recordBatch/crc32C/index.js`) as (b: Buffer) => number;
const { lookupCodec, COMPRESSION_CODEC_MASK } = require(`${KAFKAJS}/message/compression/index.js`) as {
  lookupCodec(type: number): Codec | null;
  COMPRESSION_CODEC_MASK: number;
};
const { Produce: PRODUCE_API_KEY } = require(`${KAFKAJS}/requests/apiKeys.js`) as { Produce: number };

type Bytes = Buffer | string | null | undefined;
type HeaderValue = Bytes | Bytes[];

/** A message as kafkajs's producer hands it to the request (after partitioning). */
export interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  timestamp?: string | number;
  headers?: Record<string, HeaderValue>;
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[] }[];
}

export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<KafkaEncoder>;
}

const TRANSACTIONAL_MASK = 16;
const MAGIC_BYTE = 2;

/** kafkajs's v3 Produce request, with the records encoded here. */
export function produceRequestV3({ acks, timeout, transactionalId = null, producerId = -1, producerEpoch = 0, compression = 0, topicData }: ProduceRequestArgs): ProduceRequest {
  return {
    apiKey: PRODUCE_API_KEY,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const topics: KafkaEncoder[] = [];
      for (const { topic, partitions } of topicData) {
        const encoded: KafkaEncoder[] = [];
        for (const p of partitions) {
          const batch = await recordBatch(p.messages, { compression, transactional: transactionalId !== null, producerId, producerEpoch, firstSequence: p.firstSequence ?? 0 });
          encoded.push(new Encoder().writeInt32(p.partition).writeInt32(batch.size()).writeEncoder(batch));
        }
        topics.push(new Encoder().writeString(topic).writeArray(encoded));
      }
      return new Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(topics);
    },
  };
}

interface BatchArgs {
  compression: number;
  transactional: boolean;
  producerId: unknown;
  producerEpoch: number;
  firstSequence: number;
}

async function recordBatch(messages: ProduceMessage[], a: BatchArgs): Promise<KafkaEncoder> {
  const now = Date.now();
  let first = Infinity;
  let max = -Infinity;
  for (const m of messages) {
    if (m.timestamp == null) continue;
    const t = Number(m.timestamp);
    if (t < first) first = t;
    if (t > max) max = t;
  }
  if (first === Infinity) first = max = now;
  const records = encodeRecords(messages, first, now);
  const codec = a.compression & COMPRESSION_CODEC_MASK;
  const body = new Encoder()
    .writeInt16(codec | (a.transactional ? TRANSACTIONAL_MASK : 0))
    .writeInt32(messages.length - 1)
    .writeInt64(first)
    .writeInt64(max)
    .writeInt64(a.producerId)
    .writeInt16(a.producerEpoch)
    .writeInt32(a.firstSequence)
    .writeInt32(messages.length);
  body.writeBuffer(codec === 0 ? records : await lookupCodec(codec)!.compress({ buffer: records }));
  const batch = new Encoder().writeInt32(0).writeInt8(MAGIC_BYTE).writeUInt32(crc32C(body.buffer)).writeEncoder(body);
  return new Encoder().writeInt64(0).writeBytes(batch.buffer);
}

/** As kafkajs takes it: a missing, empty or zero timestamp is the time of the request. */
function timestampOf(m: ProduceMessage, now: number): number {
  return m.timestamp ? Number(m.timestamp) : now;
}

function byteLength(v: Bytes): number {
  if (v == null) return -1;
  return Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v), 'utf8');
}

function headerList(headers: Record<string, HeaderValue> | undefined): [string, Bytes][] | undefined {
  if (!headers) return undefined;
  let list: [string, Bytes][] | undefined;
  for (const key of Object.keys(headers)) {
    const v = headers[key];
    if (Array.isArray(v)) for (const x of v) (list ??= []).push([key, x]);
    else (list ??= []).push([key, v]);
  }
  return list;
}

/** Kafka's zigzag varint size of a signed integer (safe up to 2^53). */
function varSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (z >= 128) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

function encodeRecords(messages: ProduceMessage[], first: number, now: number): Buffer {
  const n = messages.length;
  const bodies = new Array<number>(n);
  const deltas = new Array<number>(n);
  const headers = new Array<[string, Bytes][] | undefined>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const key = byteLength(m.key);
    const value = byteLength(m.value);
    const list = (headers[i] = headerList(m.headers));
    const delta = (deltas[i] = timestampOf(m, now) - first);
    let size = 1 + varSize(delta) + varSize(i) + varSize(key) + Math.max(0, key) + varSize(value) + Math.max(0, value) + varSize(list?.length ?? 0);
    if (list) {
      for (const [k, v] of list) {
        const kl = Buffer.byteLength(k, 'utf8');
        const vl = byteLength(v);
        size += varSize(kl) + kl + varSize(vl) + Math.max(0, vl);
      }
    }
    bodies[i] = size;
    total += varSize(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const varint = (v: number) => {
    let z = v >= 0 ? v * 2 : -v * 2 - 1;
    while (z >= 128) {
      out[at++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    out[at++] = z;
  };
  const bytes = (v: Bytes) => {
    if (v == null) return varint(-1);
    if (Buffer.isBuffer(v)) {
      varint(v.length);
      at += v.copy(out, at);
    } else {
      const s = String(v);
      varint(Buffer.byteLength(s, 'utf8'));
      at += out.write(s, at, 'utf8');
    }
  };
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    varint(bodies[i]!);
    out[at++] = 0;
    varint(deltas[i]!);
    varint(i);
    bytes(m.key);
    bytes(m.value);
    const list = headers[i];
    varint(list?.length ?? 0);
    if (list) {
      for (const [k, v] of list) {
        bytes(k);
        bytes(v);
      }
    }
  }
  return out;
}

let installed = false;
/** Marks the requests this module encodes, for the self-check. */
const OURS = Symbol('sensei produce request');

/** Whether this thread's kafkajs encodes Produce requests here (the Kafka benchmark's baseline must run without). */
export function fastProduceRequestInUse(): boolean {
  return installed;
}

/**
 * Makes kafkajs's producers in this thread use `produceRequestV3`. kafkajs
 * requires the module of the negotiated Produce version at every request, and
 * v4–v7 are v3 with another version number: each cache entry gets this
 * encoder with its version, whether kafkajs loaded them already or not.
 * Then it checks, through kafkajs's own version table, that the swap took:
 * a kafkajs that resolves its modules differently fails here, loudly,
 * instead of quietly running at its own speed.
 */
export function useFastProduceRequest(): void {
  if (installed) return;
  for (const version of PATCHED_VERSIONS) {
    const path = require.resolve(`${KAFKAJS}/requests/produce/v${version}/request.js`);
    require(path);
    require.cache[path]!.exports = (args: ProduceRequestArgs) => ({ ...produceRequestV3(args), apiVersion: version, [OURS]: true });
  }
  checkProduceRequestSwap();
  installed = true;
}

const PATCHED_VERSIONS = [3, 4, 5, 6, 7];

/** Asks kafkajs's Produce version table for a request of each patched version and throws unless this module made it. */
export function checkProduceRequestSwap(): void {
  const { protocol } = require(`${KAFKAJS}/requests/produce/index.js`) as { protocol(v: { version: number }): ((args: ProduceRequestArgs) => { request: object }) | undefined };
  const wrong = PATCHED_VERSIONS.filter((version) => {
    const made = protocol({ version })?.({ acks: 1, timeout: 1, compression: 0, topicData: [] });
    return !made || !(OURS in made.request);
  });
  if (wrong.length > 0) {
    throw new Error(`kafkajs: Sensei's Produce encoder did not replace kafkajs's for request versions ${wrong.join(', ')}; this kafkajs installation (${require.resolve('kafkajs')}) is not supported`);
  }
}
