import test from 'ava';
import { keyBytes, partitionOf, toPositive } from '../../src/formats/partitioner.ts';
import { murmur2 } from '../../src/formats/murmur2.ts';

// Expected values from Kafka's UtilsTest.testMurmur2 and the Kafka-compatible vectors in Akka's Murmur2Spec.
const vectors: [string | number[], number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  [[0x61, 0x62, 0x63], 479470107],
  ['1', -1993445489],
  ['12', 126087238],
  ['123', -267702483],
  ['1234', -1614185708],
  ['12345', -1188365604],
];

for (const [input, expected] of vectors) {
  test(`murmur2 of ${JSON.stringify(input)} matches Kafka's Java value`, (t) => {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Uint8Array.from(input);
    t.is(murmur2(bytes), expected);
  });
}

test('toPositive clears the sign bit as Kafka does', (t) => {
  t.is(toPositive(-973932308), -973932308 & 0x7fffffff);
  t.is(toPositive(479470107), 479470107);
});

test('partitionOf hashes string keys as UTF-8 and sends null keys to partition 0', (t) => {
  const node = { kind: 'string' } as const;
  t.is(partitionOf('21', node, 12), toPositive(-973932308) % 12);
  t.is(partitionOf(null, node, 12), 0);
});

test('int and long keys hash as Kafka IntegerSerializer and LongSerializer bytes', (t) => {
  t.deepEqual([...keyBytes(1, { kind: 'int' })], [0, 0, 0, 1]);
  t.deepEqual([...keyBytes(-2, { kind: 'long' })], [255, 255, 255, 255, 255, 255, 255, 254]);
});
