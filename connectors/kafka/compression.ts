/**
 * Record-batch compression. kafkajs 2.2 has gzip built in and takes lz4 and
 * zstd only as pluggable codecs; ours are napi-rs packages whose prebuilt
 * binaries come as optional dependencies (nothing compiles or downloads at
 * install) and whose work runs on the libuv thread pool, off the event loop.
 * Kafka's lz4 is the LZ4 frame format (magic 0x184D2204), as is lz4-napi's
 * `compressFrame`; a zstd batch is one or more standard zstd frames.
 */
import { Decoder, Encoder } from '@toondepauw/node-zstd';
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';

const { CompressionCodecs, CompressionTypes } = kafkajs;

export const COMPRESSIONS = ['none', 'gzip', 'lz4', 'zstd'] as const;

export type Compression = (typeof COMPRESSIONS)[number];

export const CODECS: Record<Compression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
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
 * Puts the lz4 and zstd codecs into kafkajs's codec table (one per module
 * instance, so per thread). Idempotent; called before any client exists.
 */
export function registerCodecs(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstd;
}
