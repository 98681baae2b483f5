// A bounded run whose group holds offsets outside the partitions' logs (the topic was
// recreated, or retention deleted what they point at) reads from `reset`, as the broker
// makes the consumer do, instead of taking the partitions as finished and reading nothing.
import test from 'ava';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, kafka, produce, readTopic, unique } from './helpers.ts';

test('committed offsets past the end of the log: a bounded run reads every record from the earliest offset', async (t) => {
  const [input, output, group] = [unique('stale-in'), unique('stale-out'), unique('stale')];
  const brokers = kafkaBrokers().join(',');
  try {
    await createTopics([input, 3], [output, 3]);
    await produce(input, Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ id: `r${i}` }) })));
    const admin = kafka().admin();
    await admin.connect();
    await admin.setOffsets({ groupId: group, topic: input, partitions: [0, 1, 2].map((partition) => ({ partition, offset: '100000' })) });
    await admin.disconnect();
    const summary = await runPipeline(compilePlan(`
pipeline stale_offsets
schema Rec { id: string }
source recs: Rec from kafka { topic: "${input}", brokers: "${brokers}", format: json, group: "${group}", bounded: true }
sink recs to kafka { topic: "${output}", brokers: "${brokers}", format: json }
`), { env: builtinEnvironment(), workers: 2 });
    t.is(summary.recordsIn, 300);
    t.deepEqual(new Set((await readTopic(output)).map((m) => (JSON.parse(m.value!.toString()) as { id: string }).id)).size, 300);
  } finally {
    await deleteTopics(input, output);
  }
});
