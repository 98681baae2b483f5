// A Kafka → Kafka pipeline on the real broker, run in-process by the runtime.
import test from 'ava';
import { toPositive } from '../../src/formats/partitioner.ts';
import { murmur2 } from '../../src/formats/murmur2.ts';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { avroType } from '../../src/formats/avro-codec.ts';
import { runPipeline } from '../../runtime/index.ts';
import { kafkaBrokers } from '../support/services.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { avroValues, createTopics, deleteTopics, produce, readTopic, unique } from './helpers.ts';
import { compilePlan } from '../support/compile.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';

const ORDER = {
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'seq', type: 'long' },
  ],
};

interface Order { id: string; customer: string; amount: number; seq: number }

function orders(n: number, customers: number): Order[] {
  const next = new Map<string, number>();
  return Array.from({ length: n }, (_, i) => {
    const customer = `c${(i * 7) % customers}`;
    const seq = next.get(customer) ?? 0;
    next.set(customer, seq + 1);
    return { id: `o${i}`, customer, amount: (i % 40) + 0.25, seq };
  });
}

function pipeline(input: string, output: string, registry: string, group: string): string {
  return `
pipeline kafka_e2e
schema Order { id: string, customer: string, amount: decimal(12, 2), seq: long }
source orders: Order from kafka { topic: "${input}", brokers: "${kafkaBrokers().join(',')}", registry: "${registry}", group: "${group}", bounded: true }
stream big = orders
  | where amount > 10
  | select { id, customer, cents: long(amount * 100), seq }
  | key by customer
sink big to kafka { topic: "${output}", brokers: "${kafkaBrokers().join(',')}", registry: "${registry}" }
`;
}

test('12 partitions end to end: exactly the expected records, keys placed as Kafka places them, per-key order kept, headers passed through', async (t) => {
  const registry = await startSchemaRegistry();
  const client = new RegistryClient(registry.url);
  const input = unique('orders');
  const output = unique('big');
  try {
    await createTopics([input, 12], [output, 12]);
    const all = orders(6000, 50);
    const values = await avroValues(client, `${input}-value`, ORDER, all);
    await produce(input, all.map((o, i) => ({ key: o.customer, value: values[i]!, headers: { trace: o.id } })));

    const summary = await runPipeline(compilePlan(pipeline(input, output, registry.url, unique('g'))), { env: builtinEnvironment(), workers: 2 });
    t.is(summary.recordsIn, all.length);

    const got = await readTopic(output);
    const expected = all.filter((o) => o.amount > 10);
    t.is(got.length, expected.length);
    const types = new Map<number, ReturnType<typeof avroType>>();
    const byCustomer = new Map<string, number[]>();
    for (const m of got) {
      const id = m.value!.readInt32BE(1);
      if (!types.has(id)) types.set(id, avroType(await client.schemaById(id)));
      const v = types.get(id)!.fromBuffer(m.value!.subarray(5)) as { id: string; customer: string; cents: number; seq: number };
      t.is(m.key!.toString(), v.customer);
      t.is(m.partition, toPositive(murmur2(Buffer.from(v.customer))) % 12);
      t.is(m.headers.trace!.toString(), v.id);
      byCustomer.set(v.customer, [...(byCustomer.get(v.customer) ?? []), v.seq]);
    }
    const want = new Map<string, number[]>();
    for (const o of expected) want.set(o.customer, [...(want.get(o.customer) ?? []), o.seq]);
    const sorted = (m: Map<string, number[]>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    t.deepEqual(sorted(byCustomer), sorted(want));
    t.deepEqual((await client.latest(`${output}-value`))?.schema, [...types.values()][0]!.schema());
  } finally {
    await deleteTopics(input, output);
    await registry.close();
  }
});
