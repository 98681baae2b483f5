/**
 * Record-batch compression. kafkajs 2.2 has gzip built in and takes snappy,
 * lz4 and zstd only as pluggable codecs; ours are napi-rs packages whose
 * prebuilt binaries come as optional dependencies (nothing compiles or
 * downloads at install) and whose work runs on the libuv thread pool, off the
 * event loop. Kafka's lz4 is the LZ4 frame format (magic 0x184D2204), as is
 * lz4-napi's `compressFrame`; a zstd batch is one or more standard zstd
 * frames; a snappy batch is snappy-java's stream framing (see below) or, from
 * some non-Java clients, one raw snappy block.
 *
 * kafkajs looks a codec up when a batch needs it, so each native package is
 * loaded then: a pipeline without that codec never loads it, and bundles of
 * the compiler (the editor's language server) never reach it.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

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

interface Codec {
  compress(encoder: Encoded): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const load = createRequire(import.meta.url);

/** The codec, made on first use. */
function lazily(make: () => Codec): () => Codec {
  let codec: Codec | undefined;
  return () => (codec ??= make());
}

const lz4 = lazily(() => {
  const { compressFrame, decompressFrame } = load('lz4-napi') as typeof import('lz4-napi');
  return {
    compress: (encoder) => compressFrame(encoder.buffer),
    decompress: (buffer) => decompressFrame(buffer),
  };
});

const zstd = lazily(() => {
  const { Decoder, Encoder } = load('@toondepauw/node-zstd') as typeof import('@toondepauw/node-zstd');
  // Level 3 is the Java client's default (compression.zstd.level).
  const encoder = new Encoder(3);
  const decoder = new Decoder();
  return {
    compress: (e) => encoder.encode(e.buffer),
    decompress: (buffer) => decoder.decode(buffer),
  };
});

/**
 * snappy-java's stream framing, which Kafka's Java clients and brokers write:
 * this 8-byte magic, int32 version 1, int32 compatible version 1, then blocks
 * of [int32 BE compressed length][raw snappy block], each block at most
 * 32 KiB uncompressed (snappy-java's default, which Java consumers expect).
 */
const XERIAL_MAGIC = Buffer.from('\x82SNAPPY\0', 'latin1');
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK = 32 * 1024;

const snappy = lazily(() => {
  const { compress, uncompress } = load('snappy') as typeof import('snappy');
  // `asBuffer: true` (the default) makes the result a Buffer; the typings only say string | Buffer.
  const unsnap = (block: Buffer): Promise<Buffer> => uncompress(block, { asBuffer: true }) as Promise<Buffer>;
  return {
    async compress(encoder) {
      const data = encoder.buffer;
      const blocks: Promise<Buffer>[] = [];
      for (let at = 0; at < data.length; at += XERIAL_BLOCK) blocks.push(compress(data.subarray(at, at + XERIAL_BLOCK)));
      const parts: Buffer[] = [XERIAL_HEADER];
      for (const block of await Promise.all(blocks)) {
        const length = Buffer.alloc(4);
        length.writeInt32BE(block.length);
        parts.push(length, block);
      }
      return Buffer.concat(parts);
    },
    async decompress(buffer) {
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
});

/**
 * Puts the snappy, lz4 and zstd codecs into kafkajs's codec table (one per
 * module instance, so per thread). Idempotent; called before any client exists.
 */
export function registerCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = snappy;
  CompressionCodecs[CompressionTypes.LZ4] = lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = zstd;
}
