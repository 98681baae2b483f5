// Dead letters respect the size limits of the target: many of them into one
// partition are split into requests the broker takes, and one too large for the
// target arrives cut to size with headers saying so; the run never fails on them.
import test from 'ava';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { runPipeline } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, produce, readTopic, unique } from './helpers.ts';

const brokers = () => kafkaBrokers().join(',');

function pipeline(input: string, output: string, dlq: string, deadLetterOptions = ''): string {
  return `
pipeline dead_letter_size
schema Rec { id: string }
source recs: Rec from kafka { topic: "${input}", brokers: "${brokers()}", format: json, group: "${unique('g')}", bounded: true }
dead letter to kafka { topic: "${dlq}", brokers: "${brokers()}"${deadLetterOptions} }
sink recs to kafka { topic: "${output}", brokers: "${brokers()}", format: json }
`;
}

test('20,000 dead letters with their headers into a one-partition topic all arrive; the run succeeds', async (t) => {
  const [input, output, dlq] = [unique('dl-many-in'), unique('dl-many-out'), unique('dl-many-dlq')];
  const count = 20_000;
  try {
    await createTopics([input, 12], [output, 12], [dlq, 1]);
    // ~100-byte values that are not JSON; each dead letter adds ~300 bytes of headers.
    await produce(input, Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `not json ${i} ${'x'.repeat(80)}` })));
    const summary = await runPipeline(compilePlan(pipeline(input, output, dlq)), { env: builtinEnvironment(), workers: 2 });
    t.is(summary.deadLetters, count);
    const letters = await readTopic(dlq);
    t.is(new Set(letters.map((m) => m.key!.toString())).size, count, 'every poison record has its dead letter');
    t.true(letters.every((m) => m.headers['sensei.value']?.toString() === 'original'), 'values are the original bytes');
  } finally {
    await deleteTopics(input, output, dlq);
  }
});

test('a dead letter larger than the target takes is cut to size, with headers giving the original size', async (t) => {
  const [input, output, dlq] = [unique('dl-big-in'), unique('dl-big-out'), unique('dl-big-dlq')];
  const big = `not json ${'y'.repeat(50_000)}`;
  try {
    await createTopics([input, 1], [output, 1], [dlq, 1]);
    await produce(input, [{ key: 'small', value: 'not json' }, { key: 'big', value: big }, { key: 'good', value: '{"id":"ok"}' }]);
    const summary = await runPipeline(compilePlan(pipeline(input, output, dlq, ', batch_bytes: 20000')), { env: builtinEnvironment(), workers: 1 });
    t.is(summary.deadLetters, 2);
    t.is(summary.recordsOut, 1);
    const letters = await readTopic(dlq);
    const small = letters.find((m) => m.key?.toString() === 'small')!;
    const cut = letters.find((m) => m.key?.toString() === 'big')!;
    t.is(small.value!.toString(), 'not json');
    t.is(small.headers['sensei.value']?.toString(), 'original');
    t.is(cut.headers['sensei.value']?.toString(), 'truncated');
    t.is(cut.headers['sensei.value.bytes']?.toString(), String(Buffer.byteLength(big)));
    t.true(cut.value!.length > 10_000 && cut.value!.length < 20_000, `${cut.value!.length} bytes kept`);
    t.is(cut.value!.toString(), big.slice(0, cut.value!.length), 'the start of the original value');
    t.regex(cut.headers['sensei.error']!.toString(), /JSON/i);
  } finally {
    await deleteTopics(input, output, dlq);
  }
});
