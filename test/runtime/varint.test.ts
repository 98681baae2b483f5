// Zig-zag varints (src/formats/varint.ts) read back what avsc writes for
// Avro ints and longs (Kafka's record fields use the same encoding).
import test from 'ava';
import avro from 'avsc';
import { VarintCursor } from '../../src/formats/varint.ts';

test('ints and longs read back as avsc encodes them, the cursor moving past each', (t) => {
  const ints = [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31)];
  const longs = [0, -1, 1, 2 ** 32, -(2 ** 32) - 5, 1_714_521_600_000, -1_714_521_600_000, 2 ** 51 + 3, -(2 ** 51) - 3];
  const int = avro.Type.forSchema('int');
  const long = avro.Type.forSchema('long');
  const data = Buffer.concat([...ints.map((v) => int.toBuffer(v)), ...longs.map((v) => long.toBuffer(v))]);
  const cursor = new VarintCursor(data, 0);
  t.deepEqual(ints.map(() => cursor.int()), ints);
  t.deepEqual(longs.map(() => cursor.long()), longs);
  t.is(cursor.pos, data.length, 'every byte read, none past the end');
});
