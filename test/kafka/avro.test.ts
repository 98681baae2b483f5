// Reading Avro in the Confluent wire format: schema evolution both ways, and poison
// records sent to a dead-letter topic while the pipeline keeps going.
import test from 'ava';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { frameHeader } from '../../connectors/kafka/wire-format.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { kafkaBrokers } from '../support/services.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, produce, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

const brokers = () => kafkaBrokers().join(',');

test('records written with an older or a newer writer schema are resolved to the reader schema', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output] = [unique('evolve-in'), unique('evolve-out')];
  try {
    await createTopics([input, 3], [output, 3]);
    // v1 (older): amount is an int and there is no country; v3 (newer): an extra field the reader does not know.
    const v1 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'int' }] };
    const v2 = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'long' }, { name: 'country', type: ['null', 'string'], default: null }] };
    const v3 = { ...v2, fields: [...v2.fields, { name: 'channel', type: 'string', default: 'web' }] };
    const subject = `${input}-value`;
    const frame = async (schema: unknown, value: unknown) => Buffer.concat([frameHeader(await client.register(subject, schema)), avroType(schema).toBuffer(value)]);
    await produce(input, [
      { key: 'a', value: await frame(v1, { id: 'old', amount: 7 }) },
      { key: 'b', value: await frame(v2, { id: 'same', amount: 2 ** 40, country: 'DE' }) },
      { key: 'c', value: await frame(v3, { id: 'new', amount: 9, country: null, channel: 'app' }) },
    ]);
    const plan = compilePlan(`
pipeline evolve
schema Order { id: string, amount: long, country: string? = null }
source orders: Order from kafka { topic: "${input}", brokers: "${brokers()}", registry: "${registry.url}", group: "${unique('g')}", bounded: true }
stream out = orders | select { id, amount, country: country ?? "??" }
sink out to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`);
    await runPipeline(plan, { env: builtinEnvironment(), workers: 1 });
    const got = (await readTopic(output)).map((m) => JSON.parse(m.value!.toString()) as unknown).sort((a: any, b: any) => a.id.localeCompare(b.id));
    t.deepEqual(got, [
      { id: 'new', amount: 9, country: '??' },
      { id: 'old', amount: 7, country: '??' },
      { id: 'same', amount: 2 ** 40, country: 'DE' },
    ]);
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});

test('poison records and expression errors go to the dead-letter topic with headers; the pipeline keeps running', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const [input, output, dlq] = [unique('poison-in'), unique('poison-out'), unique('poison-dlq')];
  try {
    await createTopics([input, 1], [output, 1], [dlq, 1]);
    const schema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'divisor', type: 'int' }] };
    const header = frameHeader(await client.register(`${input}-value`, schema));
    const good = (id: string, divisor: number) => Buffer.concat([header, avroType(schema).toBuffer({ id, divisor })]);
    const poison: [string, Buffer | null, RegExp][] = [
      ['bad-magic', Buffer.concat([Buffer.from([1]), good('x', 1).subarray(1)]), /magic byte 1/],
      ['unknown-id', Buffer.concat([frameHeader(9999), good('x', 1).subarray(5)]), /unknown schema id 9999/],
      ['truncated', good('truncated', 1).subarray(0, 8), /undecodable Avro/],
      ['tombstone', null, /null \(a tombstone\)/],
      ['zero', good('zero', 0), /division by zero/i],
    ];
    const messages = [];
    for (let i = 0; i < 10; i++) {
      messages.push({ key: `k${i}`, value: good(`g${i}`, i + 1) });
      const p = poison[i % 2 === 0 ? i / 2 : -1];
      if (p) messages.push({ key: p[0], value: p[1] });
    }
    await produce(input, messages);
    const plan = compilePlan(`
pipeline poison
schema Order { id: string, divisor: int }
source orders: Order from kafka { topic: "${input}", brokers: "${brokers()}", registry: "${registry.url}", group: "${unique('g')}", bounded: true }
dead letter to kafka { topic: "${dlq}", brokers: "${brokers()}" }
stream out = orders | select { id, q: 100 / divisor }
sink out to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`);
    const summary = await runPipeline(plan, { env: builtinEnvironment(), workers: 1 });
    t.is(summary.deadLetters, 5);
    t.deepEqual((await readTopic(output)).map((m) => JSON.parse(m.value!.toString()).id), Array.from({ length: 10 }, (_, i) => `g${i}`));

    const letters = await readTopic(dlq);
    t.is(letters.length, 5);
    const inputs = await readTopic(input);
    for (const [key, value, reason] of poison) {
      const letter = letters.find((m) => m.key?.toString() === key);
      const original = inputs.find((m) => m.key?.toString() === key)!;
      if (!letter) {
        t.fail(`no dead letter for ${key}`);
        continue;
      }
      const h = Object.fromEntries(Object.entries(letter.headers).map(([k, v]) => [k, v?.toString()]));
      t.regex(h['sensei.error']!, reason, key);
      t.is(h['sensei.source.topic'], input);
      t.is(h['sensei.source.partition'], '0');
      t.is(h['sensei.source.offset'], String(original.offset));
      t.is(h['sensei.pipeline'], 'poison');
      t.is(h['sensei.value'], 'original');
      t.deepEqual(letter.value, value, `${key}: the dead letter carries the original bytes`);
    }
  } finally {
    await deleteTopics(input, output, dlq);
    await registry.close();
  }
});
