/**
 * Fetch responses (version 11, what kafkajs negotiates with current
 * brokers) decoded without kafkajs's per-record costs: kafkajs reads each
 * record through a new Decoder and computes its offset and timestamp with
 * BigInt-backed Longs, which is most of a consumer's time on small records.
 * Here a record batch's offsets and timestamps are numbers (a batch whose
 * offsets do not fit in 2^53 goes to kafkajs), and records are read from
 * the batch's buffer with a varint cursor. The messages are those
 * kafkajs builds (offset and timestamp strings, key and value slices of the
 * response, headers, the batch context its aborted-transaction filter
 * reads), so its Batch, its filters and its runner work on them unchanged.
 * Record sets in the old message format (magic 0 and 1) go to kafkajs.
 *
 * kafkajs requires the response module of the negotiated Fetch version at
 * every request (requests/fetch/index.js), so, as produce-request.ts does
 * for produce requests, `useFastFetchResponse` (called by `kafkaClient`)
 * puts this decoder in that module's cache entry, whether kafkajs loaded it
 * already or not, and checks through kafkajs's version table that it took.
 */
import { createRequire } from 'node:module';
import { VarintCursor } from '../../src/formats/varint.ts';

const require = createRequire(import.meta.url);

interface KafkaDecoder {
  offset: number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readString(): string;
  readArray<T>(reader: (d: KafkaDecoder) => T): T[];
  readArrayAsync<T>(reader: (d: KafkaDecoder) => Promise<T>): Promise<T[]>;
  canReadBytes(n: number): boolean;
  readBytes(n: number): Buffer;
}

interface Codec {
  decompress(data: Buffer): Promise<Buffer>;
}

const KAFKAJS = 'kafkajs/src/protocol';
const Decoder = require(`${KAFKAJS}/decoder.js`) as new (buffer: Buffer) => KafkaDecoder;
const stockDecodeMessages = require(`${KAFKAJS}/requests/fetch/v4/decodeMessages.js`) as (d: KafkaDecoder) => Promise<unknown[]>;
const { lookupCodecByAttributes } = require(`${KAFKAJS}/message/compression/index.js`) as { lookupCodecByAttributes(attributes: number): Codec | null };
const { parse } = require(`${KAFKAJS}/requests/fetch/v1/response.js`) as { parse: unknown };

/** The batch fields kafkajs keeps with each of its records (its aborted-transaction filter reads producerId and inTransaction). */
interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

interface FetchedMessage {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

// Record batch layout (magic 2): offsets of its fields from the batch start.
const LENGTH = 8;
const MAGIC = 16;
const ATTRIBUTES = 21;
const LAST_OFFSET_DELTA = 23;
const FIRST_TIMESTAMP = 27;
const MAX_TIMESTAMP = 35;
const PRODUCER_ID = 43;
const PRODUCER_EPOCH = 51;
const FIRST_SEQUENCE = 53;
const RECORD_COUNT = 57;
const RECORDS = 61;
const LOG_OVERHEAD = 12;
const TIMESTAMP_TYPE_FLAG = 0x8;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;
/** Offsets and times past these go to kafkajs: a number holds them exactly only within. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function bytes(c: VarintCursor, data: Buffer): Buffer | null {
  const n = c.int();
  if (n < 0) return null;
  const out = data.subarray(c.pos, c.pos + n);
  c.pos += n;
  return out;
}

function headers(c: VarintCursor, data: Buffer): FetchedMessage['headers'] {
  const out: FetchedMessage['headers'] = {};
  for (let n = c.int(); n > 0; n--) {
    const keyLength = c.int();
    const key = keyLength < 0 ? 'null' : data.toString('utf8', c.pos, c.pos + keyLength);
    if (keyLength > 0) c.pos += keyLength;
    const value = bytes(c, data);
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/** `count` records from `data` at `from`, appended to `out`. */
function readRecords(data: Buffer, from: number, count: number, first: { offset: number; timestamp: number }, context: BatchContext, out: FetchedMessage[]): void {
  const c = new VarintCursor(data, from);
  const appendTime = context.timestampType === LOG_APPEND_TIME;
  for (let i = 0; i < count; i++) {
    const length = c.int();
    const end = c.pos + length;
    const attributes = data.readInt8(c.pos++);
    const timestampDelta = c.long();
    const offsetDelta = c.int();
    const key = bytes(c, data);
    const value = bytes(c, data);
    out.push({
      magicByte: 2,
      attributes,
      timestamp: appendTime ? context.maxTimestamp : String(first.timestamp + timestampDelta),
      offset: String(first.offset + offsetDelta),
      key,
      value,
      headers: headers(c, data),
      isControlRecord: context.isControlBatch,
      batchContext: context,
    });
    c.pos = end;
  }
}

/**
 * The messages of a partition's record set, or undefined when kafkajs must
 * decode it (the old message format, offsets past 2^53).
 */
async function decodeRecordSet(set: Buffer): Promise<FetchedMessage[] | undefined> {
  const out: FetchedMessage[] = [];
  for (let at = 0; set.length - at >= RECORDS; ) {
    const end = at + LOG_OVERHEAD + set.readInt32BE(at + LENGTH);
    // The tail of a fetch may hold part of a batch (the fetch's byte limit cut it).
    if (end > set.length) break;
    if (set.readInt8(at + MAGIC) !== 2) return undefined;
    const firstOffset = set.readBigInt64BE(at);
    const firstTimestamp = set.readBigInt64BE(at + FIRST_TIMESTAMP);
    if (firstOffset > MAX_SAFE || firstTimestamp > MAX_SAFE || firstTimestamp < MIN_SAFE) return undefined;
    const attributes = set.readInt16BE(at + ATTRIBUTES);
    const context: BatchContext = {
      firstOffset: firstOffset.toString(),
      firstTimestamp: firstTimestamp.toString(),
      partitionLeaderEpoch: set.readInt32BE(at + LOG_OVERHEAD),
      inTransaction: (attributes & TRANSACTIONAL_FLAG) !== 0,
      isControlBatch: (attributes & CONTROL_FLAG) !== 0,
      lastOffsetDelta: set.readInt32BE(at + LAST_OFFSET_DELTA),
      producerId: set.readBigInt64BE(at + PRODUCER_ID).toString(),
      producerEpoch: set.readInt16BE(at + PRODUCER_EPOCH),
      firstSequence: set.readInt32BE(at + FIRST_SEQUENCE),
      maxTimestamp: set.readBigInt64BE(at + MAX_TIMESTAMP).toString(),
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG) !== 0 ? LOG_APPEND_TIME : CREATE_TIME,
      magicByte: 2,
    };
    const count = set.readInt32BE(at + RECORD_COUNT);
    const first = { offset: Number(firstOffset), timestamp: Number(firstTimestamp) };
    const codec = lookupCodecByAttributes(attributes);
    if (count > 0) {
      if (codec) readRecords(await codec.decompress(set.subarray(at + RECORDS, end)), 0, count, first, context, out);
      else readRecords(set, at + RECORDS, count, first, context, out);
    }
    at = end;
  }
  return out;
}

/** A partition's record set, as kafkajs's `decodeMessages` reads it from the response. */
async function messages(d: KafkaDecoder): Promise<unknown[]> {
  const start = d.offset;
  const size = d.readInt32();
  if (size <= 0 || !d.canReadBytes(size)) return [];
  const decoded = await decodeRecordSet(d.readBytes(size));
  if (decoded) return decoded;
  d.offset = start;
  return stockDecodeMessages(d);
}

const decodePartition = async (d: KafkaDecoder) => ({
  partition: d.readInt32(),
  errorCode: d.readInt16(),
  highWatermark: d.readInt64().toString(),
  lastStableOffset: d.readInt64().toString(),
  lastStartOffset: d.readInt64().toString(),
  abortedTransactions: d.readArray((t) => ({ producerId: t.readInt64().toString(), firstOffset: t.readInt64().toString() })),
  preferredReadReplica: d.readInt32(),
  messages: await messages(d),
});

/** A Fetch v11 response, as kafkajs's v11 module decodes it. */
export async function decodeFetchV11(raw: Buffer): Promise<object> {
  const d = new Decoder(raw);
  const clientSideThrottleTime = d.readInt32();
  const errorCode = d.readInt16();
  const sessionId = d.readInt32();
  const responses = await d.readArrayAsync(async (t) => ({ topicName: t.readString(), partitions: await t.readArrayAsync(decodePartition) }));
  // As kafkajs: the broker did not throttle this request; a client-side throttle time asks the client to wait.
  return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
}

let installed = false;

export function useFastFetchResponse(): void {
  if (installed) return;
  const path = require.resolve(`${KAFKAJS}/requests/fetch/v11/response.js`);
  require(path);
  require.cache[path]!.exports = { decode: decodeFetchV11, parse };
  const { protocol } = require(`${KAFKAJS}/requests/fetch/index.js`) as { protocol(v: { version: number }): ((args: object) => { response: { decode: unknown } }) | undefined };
  if (protocol({ version: 11 })?.({ topics: [] }).response.decode !== decodeFetchV11) {
    throw new Error(`kafkajs: Sensei's Fetch decoder did not replace kafkajs's; this kafkajs installation (${require.resolve('kafkajs')}) is not supported`);
  }
  installed = true;
}
