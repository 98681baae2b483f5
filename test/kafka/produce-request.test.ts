import test from 'ava';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { registerCodecs } from '../../connectors/kafka/compression.ts';
import { produceRequestV3, type ProduceRequestArgs } from '../../connectors/kafka/produce-request.ts';

// kafkajs's own v3 encoder, loaded here without the replacement (this test never creates a client).
const require = createRequire(import.meta.url);
const kafkajsV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (args: ProduceRequestArgs) => { encode(): Promise<{ buffer: Buffer }> };
const { CompressionTypes } = kafkajs;
registerCodecs();

const big = Buffer.alloc(300, 7);
const messages = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: '1764200000000' },
  { key: null, value: Buffer.from([0, 1, 2]), timestamp: '1764200000123', headers: { a: Buffer.from('x'), b: 'text', many: [Buffer.from('1'), '2'] } },
  { key: 'a string key', value: null, timestamp: '1764199990000' },
  { key: Buffer.from('ü'), value: big, timestamp: '1764200000000', headers: { 'ключ': 'значение' } },
  ...Array.from({ length: 200 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.alloc(i, i), timestamp: String(1764200000000 + i * 1000) })),
];

function args(compression: number, transactionalId: string | null = null): ProduceRequestArgs {
  return {
    acks: -1, timeout: 30_000, transactionalId, producerId: 4711, producerEpoch: 3, compression,
    topicData: [
      { topic: 'orders', partitions: [{ partition: 0, firstSequence: 17, messages }, { partition: 5, firstSequence: 0, messages: messages.slice(1, 3) }] },
      { topic: 'other', partitions: [{ partition: 2, messages: messages.slice(0, 1) }] },
    ],
  };
}

const CODECS = [['no', CompressionTypes.None], ['gzip', CompressionTypes.GZIP], ['snappy', CompressionTypes.Snappy], ['lz4', CompressionTypes.LZ4], ['zstd', CompressionTypes.ZSTD]] as const;
for (const [name, compression] of CODECS) {
  test(`the Produce request with ${name} compression is byte for byte kafkajs's own`, async (t) => {
    for (const txn of [null, 'sensei-txn']) {
      const ours = (await produceRequestV3(args(compression, txn)).encode()).buffer;
      const theirs = (await kafkajsV3(args(compression, txn)).encode()).buffer;
      t.deepEqual(ours, theirs, `transactional id ${txn}`);
    }
  });
}

test('records without timestamps take the time of the request, like kafkajs', async (t) => {
  const plain = [{ key: null, value: Buffer.from('a') }, { key: null, value: Buffer.from('b') }];
  const a: ProduceRequestArgs = { acks: -1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: plain }] }] };
  const before = Date.now();
  const ours = Buffer.from((await produceRequestV3(a).encode()).buffer);
  const after = Date.now();
  const theirs = Buffer.from((await kafkajsV3(a).encode()).buffer);
  // The record set starts at byte 27 (no transactional id, one topic "t", one partition); in its batch
  // the CRC is at +17, the first and the max timestamp at +27 and +35.
  const set = 27;
  const first = Number(ours.readBigInt64BE(set + 27));
  t.true(first >= before && first <= after);
  t.is(Number(ours.readBigInt64BE(set + 35)), first);
  for (const b of [ours, theirs]) b.fill(0, set + 17, set + 21).fill(0, set + 27, set + 43);
  t.deepEqual(ours, theirs);
});
