/**
 * Record-batch compression. kafkajs 2.2 has gzip built in and takes snappy,
 * lz4 and zstd only as pluggable codecs; ours are napi-rs packages whose
 * prebuilt binaries come as optional dependencies (nothing compiles or
 * downloads at install) and whose work runs on the libuv thread pool, off the
 * event loop. Kafka's lz4 is the LZ4 frame format (magic 0x184D2204), as is
 * lz4-napi's `compressFrame`; a zstd batch is one or more standard zstd
 * frames; a snappy batch is snappy-java's stream framing (see below) or, from
 * some non-Java clients, one raw snappy block.
 */
import { Decoder, Encoder } from '@toondepauw/node-zstd';
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';

const { CompressionCodecs, CompressionTypes } = kafkajs;

export const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export type Compression = (typeof COMPRESSIONS)[number];

export const CODECS: Record<Compression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** What kafkajs hands a codec to compress: the encoded records of one batch. */
interface Encoded {
  buffer: Buffer;
}

// Level 3 is the Java client's default (compression.zstd.level).
const zstdEncoder = new Encoder(3);
const zstdDecoder = new Decoder();

const lz4 = {
  compress: (encoder: Encoded): Promise<Buffer> => compressFrame(encoder.buffer),
  decompress: (buffer: Buffer): Promise<Buffer> => decompressFrame(buffer),
};

const zstd = {
  compress: (encoder: Encoded): Promise<Buffer> => zstdEncoder.encode(encoder.buffer),
  decompress: (buffer: Buffer): Promise<Buffer> => zstdDecoder.decode(buffer),
};

/**
 * snappy-java's stream framing, which Kafka's Java clients and brokers write:
 * this 8-byte magic, int32 version 1, int32 compatible version 1, then blocks
 * of [int32 BE compressed length][raw snappy block], each block at most
 * 32 KiB uncompressed (snappy-java's default, which Java consumers expect).
 */
const XERIAL_MAGIC = Buffer.from('\x82SNAPPY\0', 'latin1');
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK = 32 * 1024;

// `asBuffer: true` (the default) makes the result a Buffer; the typings only say string | Buffer.
const unsnap = (block: Buffer): Promise<Buffer> => snappyUncompress(block, { asBuffer: true }) as Promise<Buffer>;

const snappy = {
  async compress(encoder: Encoded): Promise<Buffer> {
    const data = encoder.buffer;
    const blocks: Promise<Buffer>[] = [];
    for (let at = 0; at < data.length; at += XERIAL_BLOCK) blocks.push(snappyCompress(data.subarray(at, at + XERIAL_BLOCK)));
    const parts: Buffer[] = [XERIAL_HEADER];
    for (const block of await Promise.all(blocks)) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(block.length);
      parts.push(length, block);
    }
    return Buffer.concat(parts);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    if (buffer.length < XERIAL_HEADER.length || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) return unsnap(buffer);
    const blocks: Promise<Buffer>[] = [];
    for (let at = XERIAL_HEADER.length; at < buffer.length; ) {
      const end = at + 4 <= buffer.length ? at + 4 + buffer.readInt32BE(at) : -1;
      if (end < at + 4 || end > buffer.length) throw new Error(`snappy: bad xerial block length at byte ${at} of ${buffer.length}`);
      blocks.push(unsnap(buffer.subarray(at + 4, end)));
      at = end;
    }
    return Buffer.concat(await Promise.all(blocks));
  },
};

/**
 * Puts the snappy, lz4 and zstd codecs into kafkajs's codec table (one per
 * module instance, so per thread). Idempotent; called before any client exists.
 */
export function registerCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => snappy;
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstd;
}
