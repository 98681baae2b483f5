/**
 * Kafka's default partitioner, so embedded sources place keys in the same
 * partitions a Kafka producer would: `toPositive(murmur2(keyBytes)) % n`.
 */
import { genericJson } from '../runtime/json-codec.ts';
import type { SchemaNode } from '../runtime/schema.ts';

/** MurmurHash2, 32-bit, seed 0x9747b28c, as in org.apache.kafka.common.utils.Utils.murmur2. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * The bytes a key hashes as, matching Kafka's serializers for the plain
 * types: UTF-8 for strings (StringSerializer), raw for bytes and fixed
 * (ByteArraySerializer), 4-byte big-endian for int (IntegerSerializer),
 * 8-byte big-endian for long (LongSerializer), UTF-8 JSON text otherwise.
 */
export function keyBytes(key: unknown, node: SchemaNode): Uint8Array {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (Buffer.isBuffer(key)) return key;
  const kind = node.kind === 'union' ? node.branches.find((b) => b.kind !== 'null')?.kind : node.kind;
  if (typeof key === 'number' && Number.isInteger(key)) {
    if (kind === 'int' || kind === 'date' || kind === 'time-millis') {
      const b = Buffer.alloc(4);
      b.writeInt32BE(key);
      return b;
    }
    if (kind === 'long' || kind === 'timestamp-millis' || kind === 'timestamp-micros' || kind === 'time-micros') {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(key));
      return b;
    }
  }
  return Buffer.from(JSON.stringify(genericJson(key)), 'utf8');
}

/** Partition of a key among `partitions`; null keys go to partition 0. */
export function partitionOf(key: unknown, node: SchemaNode, partitions: number): number {
  if (key === null || key === undefined || partitions <= 1) return 0;
  return toPositive(murmur2(keyBytes(key, node))) % partitions;
}
