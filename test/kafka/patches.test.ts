// Sensei patches two things inside kafkajs 2.2 (its Produce request encoder and ConsumerGroup#joinAndSync);
// each installation checks that the patch reached the module kafkajs really uses, and fails loudly otherwise.
import test from 'ava';
import { createRequire } from 'node:module';
import { checkProduceRequestSwap, useFastProduceRequest } from '../../connectors/kafka/produce-request.ts';
import { checkRebalanceHook, installRebalanceHook } from '../../connectors/kafka/rebalance-hook.ts';

const require = createRequire(import.meta.url);

test.serial('the Produce encoder swap reaches every patched version of kafkajs, and a swap that did not take fails loudly', (t) => {
  useFastProduceRequest();
  t.notThrows(() => checkProduceRequestSwap());
  const path = require.resolve('kafkajs/src/protocol/requests/produce/v5/request.js');
  const ours = require.cache[path]!.exports as unknown;
  // What a kafkajs that loads its own module (not the cached one) would use.
  require.cache[path]!.exports = () => ({ apiKey: 0, apiVersion: 5, encode: async () => Buffer.alloc(0) });
  try {
    const error = t.throws(() => checkProduceRequestSwap());
    t.regex(error!.message, /did not replace kafkajs's for request versions 5;/);
  } finally {
    require.cache[path]!.exports = ours;
  }
  t.notThrows(() => checkProduceRequestSwap());
});

test.serial('the rebalance hook wraps the ConsumerGroup kafkajs uses, and a missing wrap fails loudly', (t) => {
  installRebalanceHook();
  t.notThrows(() => checkRebalanceHook());
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { joinAndSync(): Promise<void> } };
  const wrapped = ConsumerGroup.prototype.joinAndSync;
  ConsumerGroup.prototype.joinAndSync = async () => {};
  try {
    const error = t.throws(() => checkRebalanceHook());
    t.regex(error!.message, /rebalance hook did not reach the ConsumerGroup/);
  } finally {
    ConsumerGroup.prototype.joinAndSync = wrapped;
  }
});
