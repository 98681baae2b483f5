// Record-batch compression on the real broker: the sink writes gzip, snappy, lz4 and zstd
// batches (checked record by record and, through a raw Fetch, batch by batch), and a Sensei
// source reads snappy, lz4 and zstd batches that the broker's own (Java) codecs compressed.
import { connect } from 'node:net';
import test from 'ava';
import kafkajs from 'kafkajs';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import { kafkaClient } from '../../connectors/kafka/client.ts';
import { COMPRESSIONS, registerCodecs } from '../../connectors/kafka/compression.ts';
import { kafkaSpec } from '../../connectors/kafka/spec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, kafka, produce, readTopic, unique } from './helpers.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

const { CompressionCodecs, CompressionTypes } = kafkajs;

const brokers = () => kafkaBrokers().join(',');

/** Kafka's codec ids, as in the low three bits of a record batch's attributes. */
const CODEC_IDS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** snappy-java's stream header magic, which Kafka's Java clients and broker write. */
const XERIAL_MAGIC = Buffer.from('\x82SNAPPY\0', 'latin1');

/**
 * The codec id of every record batch of one partition, as the leader stores
 * it: a hand-written Fetch v4 request, so nothing of kafkajs's decoding (nor
 * our codecs) stands between the test and the bytes on the broker. Each
 * batch's (compressed) records also go to `payloads` when given.
 */
async function batchCodecs(topic: string, partition: number, payloads?: Buffer[]): Promise<number[]> {
  const admin = kafka().admin();
  await admin.connect();
  let host: string;
  let port: number;
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader;
    ({ host, port } = (await admin.describeCluster()).brokers.find((b) => b.nodeId === leader)!);
  } finally {
    await admin.disconnect();
  }
  const socket = connect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let pending = Buffer.alloc(0);
  const waiters: ((b: Buffer) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = pending.readInt32BE(0);
      waiters.shift()!(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  });
  const fetch = (offset: bigint): Promise<Buffer> => {
    const name = Buffer.from(topic);
    const clientId = Buffer.from('sensei-test');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + name.length + 4 + 4 + 8 + 4);
    let at = 0;
    at = body.writeInt16BE(1, at); // api key: Fetch
    at = body.writeInt16BE(4, at); // version 4: record batches, not flexible
    at = body.writeInt32BE(1, at); // correlation id
    at = body.writeInt16BE(clientId.length, at);
    at += clientId.copy(body, at);
    at = body.writeInt32BE(-1, at); // replica id: a consumer
    at = body.writeInt32BE(500, at); // max wait ms
    at = body.writeInt32BE(1, at); // min bytes
    at = body.writeInt32BE(64 << 20, at); // max bytes
    at = body.writeInt8(0, at); // read uncommitted
    at = body.writeInt32BE(1, at);
    at = body.writeInt16BE(name.length, at);
    at += name.copy(body, at);
    at = body.writeInt32BE(1, at);
    at = body.writeInt32BE(partition, at);
    at = body.writeBigInt64BE(offset, at);
    body.writeInt32BE(16 << 20, at); // partition max bytes
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    socket.write(Buffer.concat([size, body]));
    return new Promise((resolve) => waiters.push(resolve));
  };
  try {
    const codecs: number[] = [];
    for (let next = 0n; ; ) {
      const r = await fetch(next);
      // correlation id, throttle ms, 1 topic (name), 1 partition: id, error, high watermark, last stable offset
      let at = 4 + 4 + 4;
      at += 2 + r.readInt16BE(at) + 4 + 4;
      const error = r.readInt16BE(at);
      if (error !== 0) throw new Error(`fetch ${topic}/${partition}: error code ${error}`);
      const high = r.readBigInt64BE(at + 2);
      at += 2 + 8 + 8;
      const aborted = r.readInt32BE(at);
      at += 4 + Math.max(aborted, 0) * 16;
      const records = r.subarray(at + 4, at + 4 + Math.max(r.readInt32BE(at), 0));
      // batch: base offset (8), length (4), leader epoch (4), magic (1), crc (4), attributes (2), last offset delta (4)
      for (let b = 0; b + 12 <= records.length && b + 12 + records.readInt32BE(b + 8) <= records.length; b += 12 + records.readInt32BE(b + 8)) {
        codecs.push(records.readInt16BE(b + 21) & 0x07);
        // after the attributes: last offset delta, 2 timestamps, producer id and epoch, base sequence, record count
        payloads?.push(records.subarray(b + 23 + 4 + 16 + 10 + 4 + 4, b + 12 + records.readInt32BE(b + 8)));
        next = records.readBigInt64BE(b) + BigInt(records.readInt32BE(b + 23)) + 1n;
      }
      if (next >= high) return codecs;
    }
  } finally {
    socket.destroy();
  }
}

// Serial tests run before the concurrent ones, so nothing has registered the codecs yet.
test.serial('kafkaClient registers the snappy, lz4 (frame format) and zstd codecs with kafkajs', async (t) => {
  t.throws(() => CompressionCodecs[CompressionTypes.Snappy](), { message: /not implemented/i }, 'kafkajs has no snappy of its own');
  t.throws(() => CompressionCodecs[CompressionTypes.LZ4](), { message: /not implemented/i }, 'kafkajs has no lz4 of its own');
  t.throws(() => CompressionCodecs[CompressionTypes.ZSTD](), { message: /not implemented/i });
  kafkaClient({ brokers: brokers() });
  const data = Buffer.from('sensei '.repeat(1000));
  const lz4 = CompressionCodecs[CompressionTypes.LZ4]() as { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
  const zstd = CompressionCodecs[CompressionTypes.ZSTD]() as typeof lz4;
  const lz4Bytes = await lz4.compress({ buffer: data });
  const zstdBytes = await zstd.compress({ buffer: data });
  t.is(lz4Bytes.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic');
  t.is(zstdBytes.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
  t.true(lz4Bytes.length < data.length / 10 && zstdBytes.length < data.length / 10);
  t.deepEqual(await lz4.decompress(lz4Bytes), data);
  t.deepEqual(await zstd.decompress(zstdBytes), data);
  t.deepEqual(await (CompressionCodecs[CompressionTypes.Snappy]() as typeof lz4).decompress(await snappyCompress(data)), data, 'snappy is registered');
});

test('snappy writes snappy-java framing in 32 KiB blocks and reads it and raw snappy', async (t) => {
  registerCodecs();
  const snappy = CompressionCodecs[CompressionTypes.Snappy]() as { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> };
  const data = Buffer.from(Array.from({ length: 8000 }, (_, n) => `sensei ${n} `).join('')); // ~85 KiB: three blocks
  const framed = await snappy.compress({ buffer: data });
  t.deepEqual(framed.subarray(0, 8), XERIAL_MAGIC);
  t.deepEqual([framed.readInt32BE(8), framed.readInt32BE(12)], [1, 1], 'version 1, compatible version 1');
  const blocks: Buffer[] = [];
  for (let at = 16; at < framed.length; at += 4 + framed.readInt32BE(at)) blocks.push((await snappyUncompress(framed.subarray(at + 4, at + 4 + framed.readInt32BE(at)))) as Buffer);
  t.deepEqual(blocks.map((b) => b.length), [32768, 32768, data.length - 65536], 'each block a raw snappy block of at most 32 KiB');
  t.deepEqual(Buffer.concat(blocks), data);
  t.deepEqual(await snappy.decompress(framed), data);
  t.deepEqual(await snappy.decompress(await snappyCompress(data)), data, 'one raw snappy block, as some non-Java clients write');
  await t.throwsAsync(snappy.decompress(framed.subarray(0, framed.length - 10)), { message: /xerial block/ }, 'a truncated stream is an error');
});

// spec.ts lists the values itself so that the compiler never loads the native codecs.
test('the spec offers exactly the compressions the sink writes', (t) => {
  t.deepEqual(kafkaSpec.options.find((o) => o.name === 'compression')?.values, [...COMPRESSIONS]);
});

for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`sink: ${codec} batches, every record read back`, async (t) => {
    const [packed, plain] = [unique(`compressed-${codec}`), unique('compressed-ref')];
    try {
      // One pipeline, two sinks of the same stream: the compressed topic must hold exactly what the plain one does.
      await runPipeline(compilePlan(`
pipeline compressed
schema Event { id: string, customer: string, amount: long, note: string }
source events: Event from datagen { count: 3000, seed: 11, partitions: 2 }
stream out = events | key by customer
sink out to kafka { topic: "${packed}", brokers: "${brokers()}", format: json, compression: ${codec}, partitions: 2 }
sink out to kafka { topic: "${plain}", brokers: "${brokers()}", format: json, partitions: 2 }
`), { env: builtinEnvironment(), workers: 1 });
      const got = await readTopic(packed);
      const want = await readTopic(plain);
      t.is(got.length, 3000);
      const records = (ms: typeof got) => ms.map((m) => `${m.partition} ${m.key?.toString()} ${m.value?.toString()}`).sort();
      t.deepEqual(records(got), records(want));
      for (const partition of [0, 1]) {
        const payloads: Buffer[] = [];
        const codecs = await batchCodecs(packed, partition, payloads);
        t.true(codecs.length > 0);
        t.deepEqual([...new Set(codecs)], [CODEC_IDS[codec]], `partition ${partition}: every batch is ${codec}`);
        if (codec === 'snappy') t.true(payloads.every((p) => p.subarray(0, 8).equals(XERIAL_MAGIC)), 'snappy-java framing');
        t.deepEqual([...new Set(await batchCodecs(plain, partition))], [CODEC_IDS.none], 'the reference topic is not compressed');
      }
    } finally {
      await deleteTopics(packed, plain);
    }
  });
}

for (const codec of ['snappy', 'lz4', 'zstd'] as const) {
  test(`source: reads ${codec} batches the broker compressed (topic compression.type=${codec})`, async (t) => {
    const [input, output] = [unique(`broker-${codec}`), unique(`broker-${codec}-out`)];
    try {
      // Set at creation: a config altered afterwards reaches the partition logs a moment later, and records produced before that stay uncompressed.
      await createTopics([input, 2, { 'compression.type': codec }], [output, 1]);
      const values = Array.from({ length: 1000 }, (_, n) => ({ n, text: `record ${n} `.repeat(5) }));
      await produce(input, values.map((v) => ({ key: `k${v.n % 17}`, value: JSON.stringify(v) })));
      for (const partition of [0, 1]) {
        const payloads: Buffer[] = [];
        t.deepEqual([...new Set(await batchCodecs(input, partition, payloads))], [CODEC_IDS[codec]], `partition ${partition} stored as ${codec}`);
        // The broker's snappy-java writes its framing, so the source below reads that, not raw snappy.
        if (codec === 'snappy') t.true(payloads.every((p) => p.subarray(0, 8).equals(XERIAL_MAGIC)), 'snappy-java framing');
      }
      await runPipeline(compilePlan(`
pipeline broker_compressed
schema E { n: long, text: string }
source e: E from kafka { topic: "${input}", brokers: "${brokers()}", format: json, group: "${unique('g')}", start: "earliest", bounded: true }
stream out = e | select { n, text }
sink out to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`), { env: builtinEnvironment(), workers: 1 });
      const got = (await readTopic(output)).map((m) => JSON.parse(m.value!.toString()) as { n: number; text: string });
      t.deepEqual(got.sort((a, b) => a.n - b.n), values);
    } finally {
      await deleteTopics(input, output);
    }
  });
}
