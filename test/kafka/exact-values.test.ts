// Longs over 64 bits and decimals to precision 38 through the real broker: Avro records in the Confluent
// format in, arithmetic on 2 workers, Avro and JSON out; the Avro output is read back here with the decimal
// taken as plain bytes (its two's-complement unscaled value), and the JSON output as text, both compared
// with a BigInt reference.
import test from 'ava';
import fc from 'fast-check';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { frameHeader } from '../../connectors/kafka/wire-format.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { kafkaBrokers } from '../support/services.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, produce, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const LIMIT = 10n ** 38n - 1n;
const runtimeLong = (n: bigint): number | bigint => (n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n);

/** unscaled × 10^-scale as text without trailing fractional zeros. */
function text(u: bigint, scale: number): string {
  let digits = (u < 0n ? -u : u).toString().padStart(scale + 1, '0');
  let places = scale;
  while (places > 0 && digits.endsWith('0')) [digits, places] = [digits.slice(0, -1), places - 1];
  const t = places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  return u < 0n ? `-${t}` : t;
}

/** A decimal as the runtime holds it: a number up to 15 significant digits, its text beyond. */
function runtimeDecimal(u: bigint, scale: number): number | string {
  const t = text(u, scale);
  return t.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length <= 15 ? Number(t) : t;
}

/** n / d rounded half away from zero. */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  return (r < 0n ? -r : r) * 2n >= d ? q + (n < 0n ? -1n : 1n) : q;
}

const brokers = () => kafkaBrokers().join(',');

test('longs and decimal(38, 10) values cross the broker exactly, in Avro and in JSON', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, avroOut, jsonOut] = [unique('exact-in'), unique('exact-avro'), unique('exact-json')];
  try {
    await createTopics([input, 2], [avroOut, 2], [jsonOut, 2]);
    const decimal = { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 };
    const schema = { type: 'record', name: 'Payment', fields: [{ name: 'k', type: 'int' }, { name: 'id', type: 'long' }, { name: 'amount', type: decimal }] };
    const ids = [MIN, MAX, MIN + 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 0n, ...fc.sample(fc.bigInt({ min: MIN, max: MAX }), 34)];
    // Halved, every amount fits decimal(38, 10) doubled.
    const amounts = [LIMIT / 2n, -LIMIT / 2n, 1n, -1n, 5n, 10n ** 15n + 1n, ...fc.sample(fc.bigInt({ min: -LIMIT / 2n, max: LIMIT / 2n }), 34)];
    const header = frameHeader(await client.register(`${input}-value`, schema));
    await produce(input, ids.map((id, k) => ({ key: `k${k}`, value: Buffer.concat([header, avroType(schema).toBuffer({ k, id: runtimeLong(id), amount: runtimeDecimal(amounts[k]!, 10) })]) })));
    const plan = compilePlan(`
pipeline exact
schema Payment { k: int, id: long, amount: decimal(38, 10) }
source payments: Payment from kafka { topic: "${input}", brokers: "${brokers()}", registry: "${registry.url}", group: "${unique('g')}", bounded: true }
stream out = payments | select { k, id, amount, doubled: amount * 2, half_id: id / 2 }
sink out to kafka { topic: "${avroOut}", brokers: "${brokers()}", registry: "${registry.url}" }
sink out to kafka { topic: "${jsonOut}", brokers: "${brokers()}", format: json }
`);
    await runPipeline(plan, { env: builtinEnvironment(), workers: 2 });
    // decimal(38, 10) × int is decimal(38, 6) (precision capped at 38): the doubled amount is rounded to 6 places.
    const expected = ids.map((id, k) => ({ k, id, amount: amounts[k]!, doubled: divideRounded(amounts[k]! * 2n, 10n ** 4n), half: id / 2n }));

    const avro = await readTopic(avroOut);
    t.is(avro.length, ids.length);
    const written = await client.schemaById(avro[0]!.value!.readInt32BE(1)) as { fields: { name: string; type: unknown }[] };
    // An independent reading of the decimals: the bytes themselves, as two's-complement unscaled integers.
    const plain = avroType({ ...written, fields: written.fields.map((f) => ({ ...f, type: typeof f.type === 'object' && (f.type as { logicalType?: string }).logicalType === 'decimal' ? 'bytes' : f.type })) });
    const unscaled = (b: Buffer) => BigInt.asIntN(b.length * 8, BigInt(`0x${b.toString('hex') || '0'}`));
    const fromAvro = avro.map((m) => plain.fromBuffer(m.value!.subarray(5)) as { k: number; id: number | bigint; amount: Buffer; doubled: Buffer; half_id: number | bigint })
      .sort((a, b) => a.k - b.k)
      .map((r) => ({ k: r.k, id: BigInt(r.id), amount: unscaled(r.amount), doubled: unscaled(r.doubled), half: BigInt(r.half_id) }));
    t.deepEqual(fromAvro, expected);

    const json = (await readTopic(jsonOut)).map((m) => m.value!.toString()).sort((a, b) => Number(/"k":(\d+)/.exec(a)![1]) - Number(/"k":(\d+)/.exec(b)![1]));
    t.deepEqual(json, expected.map((e) => `{"k":${e.k},"id":${e.id},"amount":${jsonNumber(e.amount, 10)},"doubled":${jsonNumber(e.doubled, 6)},"half_id":${e.half}}`));
  } finally {
    await deleteTopics(input, avroOut, jsonOut);
    await registry.close();
  }
});

/** A decimal as JSON text: all its digits past 15, as JSON.stringify writes the double below. */
function jsonNumber(u: bigint, scale: number): string {
  const v = runtimeDecimal(u, scale);
  return typeof v === 'string' ? v : JSON.stringify(v);
}
