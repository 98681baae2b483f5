/**
 * Kafka's default partitioner, so embedded sources place keys in the same
 * partitions a Kafka producer would: `toPositive(murmur2(keyBytes)) % n`.
 */
import { genericJson } from './json-codec.ts';
import { murmur2 } from './murmur2.ts';
import type { SchemaNode } from './schema.ts';
import { stringifyJson } from './json-text.ts';

export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner gives these key bytes; `whenNull` for a record without a key. */
export function kafkaPartition(key: Uint8Array | null, partitions: number, whenNull: number): number {
  return key === null ? whenNull : toPositive(murmur2(key)) % partitions;
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
  return Buffer.from(stringifyJson(genericJson(key)), 'utf8');
}

/** Partition of a key among `partitions`; null keys go to partition 0. */
export function partitionOf(key: unknown, node: SchemaNode, partitions: number): number {
  if (key === null || key === undefined || partitions <= 1) return 0;
  return kafkaPartition(keyBytes(key, node), partitions, 0);
}
