// The producer's grouping of a request's messages by partition
// (connectors/kafka/producer.ts, `groupedOnce`): kafkajs's own
// groupMessagesPerPartition, given a list that carries it, returns the same
// groups in the same order as over a plain array, with kafkajs's default
// partitioner; a list with a message that names no partition gets kafkajs's
// own grouping.
import test from 'ava';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import type { Message } from 'kafkajs';
import { groupedOnce } from '../../connectors/kafka/producer.ts';

const require = createRequire(import.meta.url);
const group = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (a: { topic: string; partitionMetadata: unknown[]; messages: Message[]; partitioner: unknown }) => Record<string, Message[]>;
const partitionMetadata = Array.from({ length: 12 }, (_, p) => ({ partitionId: p, leader: 1, replicas: [1], isr: [1] }));
const partitioner = kafkajs.Partitioners.DefaultPartitioner();
const grouped = (messages: Message[]) => group({ topic: 't', partitionMetadata, messages, partitioner });

test('messages that name their partitions: the same groups as kafkajs makes, in one pass', (t) => {
  const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: (i * 7) % 12 }));
  const want = grouped([...messages]);
  const got = grouped(groupedOnce([...messages]));
  t.deepEqual(Object.keys(got), Object.keys(want));
  for (const p of Object.keys(want)) t.true(got[p]!.length === want[p]!.length && got[p]!.every((m, i) => m === want[p]![i]), `partition ${p}: the same messages in the same order`);
});

test('a message without a partition: kafkajs\'s own grouping, keyed by its partitioner', (t) => {
  const messages: Message[] = [{ key: 'a', value: '1', partition: 3 }, { key: 'b', value: '2' }, { key: 'c', value: '3', partition: 3 }];
  t.deepEqual(grouped(groupedOnce([...messages])), grouped([...messages]));
});
