import test from 'ava';
import { ArraySource, type ArrayRecord } from '../../connectors/array-source.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { byPartition, expectedMap, LIB, makePlan, MAP_CHAIN, ORDER_SCHEMA, orders, testEnv } from './helpers.ts';

test('records a source hands over as unchecked bytes are decoded by the workers; one that does not decode becomes a dead letter and the rest go on', async (t) => {
  const parts = orders(400, 2);
  const type = avroType(ORDER_SCHEMA);
  const encoded: ArrayRecord[][] = parts.map((list) => list.map((r) => ({ ...r, value: type.toBuffer(r.value) })));
  // A record cut short, and bytes that claim a string longer than the batch.
  const truncated = (encoded[0]![5]!.value as Buffer).subarray(0, 3);
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]);
  encoded[0]![5] = { ...encoded[0]![5]!, value: truncated };
  encoded[1]![70] = { ...encoded[1]![70]!, value: garbage };
  const { env, out, dead } = testEnv(() => new ArraySource(encoded, true));
  const summary = await runPipeline(makePlan({ code: MAP_CHAIN }), { workers: 2, env, libModule: LIB, batchSize: 50 });

  t.is(summary.deadLetters, 2);
  const letters = dead.map((d) => d.line).sort((a, b) => a.partition - b.partition);
  t.deepEqual(letters.map((l) => [l.partition, l.offset, l.operator]), [[0, 5, 'source:orders'], [1, 70, 'source:orders']]);
  for (const l of letters) t.regex(l.reason, /^undecodable Avro: not a record of the source schema/);
  t.deepEqual(letters.map((l) => Buffer.from(l.value.base64, 'base64')), [truncated, garbage]);

  // Everything else, in order: what the chain makes of the records without the two bad ones.
  const good = parts.map((list, p) => list.filter((_, i) => !(p === 0 && i === 5) && !(p === 1 && i === 70)));
  const got = new Map([...byPartition(out)].map(([p, rs]) => [p, rs.map((r) => r.line)]));
  t.deepEqual(got, expectedMap(good));
});
