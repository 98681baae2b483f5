// Sensei's Fetch v11 decoder (connectors/kafka/fetch-response.ts) against
// kafkajs's own, on the responses of the real broker: every response a
// read_committed consumer gets for records of every kind (keys, null keys
// and values, repeated headers, each compression codec, committed and
// aborted transactions with their control batches, a log-append-time topic)
// decodes to exactly what kafkajs's module makes of it, and the consumer
// reads exactly the committed records.
import { createRequire } from 'node:module';
import test from 'ava';
import kafkajs from 'kafkajs';
import type { Message } from 'kafkajs';
import { kafkaClient } from '../../connectors/kafka/client.ts';
import { decodeFetchV11 } from '../../connectors/kafka/fetch-response.ts';
import { kafkaBrokers } from '../support/services.ts';
import { createTopics, deleteTopics, unique } from './helpers.ts';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
const V11 = require.resolve('kafkajs/src/protocol/requests/fetch/v11/response.js');

/** kafkajs's own v11 response module, loaded apart from the cache entry Sensei's decoder holds. */
function stockFetchV11(): { decode(raw: Buffer): Promise<object> } {
  const ours = require.cache[V11]!;
  delete require.cache[V11];
  try {
    return require(V11) as { decode(raw: Buffer): Promise<object> };
  } finally {
    require.cache[V11] = ours;
  }
}

for (const timestampType of ['CreateTime', 'LogAppendTime'] as const) {
  test.serial(`Fetch v11 responses (${timestampType}) decode as kafkajs decodes them, and the consumer reads the committed records`, async (t) => {
    const topic = unique('fetch-v11');
    const kafka = kafkaClient({ brokers: kafkaBrokers().join(',') });
    const stock = stockFetchV11();
    const module = require.cache[V11]!;
    const raws: Buffer[] = [];
    module.exports = { ...(module.exports as object), decode: (raw: Buffer) => (raws.push(raw), decodeFetchV11(raw)) };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const txn = kafka.producer({ transactionalId: unique('fetch-txn'), idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: unique('fetch-v11'), maxWaitTimeInMs: 100 });
    try {
      await createTopics([topic, 2, { 'message.timestamp.type': timestampType }]);
      await producer.connect();
      await txn.connect();
      const want: string[] = [];
      const send = async (messages: Message[], compression = CompressionTypes.None) => {
        await producer.send({ topic, messages, compression });
        for (const m of messages) want.push(`${m.key ?? null}=${m.value ?? null}`);
      };
      await send([
        { key: 'a', value: 'one', headers: { trace: 'x', twice: ['1', '2'] }, timestamp: '1714521600000' },
        { key: null, value: 'no key' },
        { key: 'tombstone', value: null },
        { key: 'empty', value: '' },
      ]);
      for (const codec of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
        await send(Array.from({ length: 50 }, (_, i) => ({ key: `k${codec}-${i}`, value: `value ${i} `.repeat(10), partition: i % 2 })), codec);
      }
      const committed = await txn.transaction();
      await committed.send({ topic, messages: [{ key: 'txn', value: 'committed' }] });
      await committed.commit();
      want.push('txn=committed');
      const aborted = await txn.transaction();
      await aborted.send({ topic, messages: [{ key: 'txn', value: 'aborted' }] });
      await aborted.abort();
      await send([{ key: 'after', value: 'the abort' }]);

      const got: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((done) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            got.push(`${message.key ?? null}=${message.value ?? null}`);
            if (got.length === want.length) done();
          },
        });
      });
      t.deepEqual(got.sort(), want.sort(), 'the committed records, each once; the aborted one and the control records skipped');
      const withRecords = raws.filter((raw) => raw.length > 200);
      t.true(withRecords.length > 0, 'responses with records were decoded');
      for (const raw of raws) t.deepEqual(await decodeFetchV11(raw), await stock.decode(raw));
    } finally {
      module.exports = { ...(module.exports as object), decode: decodeFetchV11 };
      await consumer.disconnect();
      await producer.disconnect();
      await txn.disconnect();
      await deleteTopics(topic);
    }
  });
}
