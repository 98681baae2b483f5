/**
 * The Kafka connector. The spec is loaded with the registry (the compiler
 * and the editor need it); the client code (kafkajs, the registry client)
 * is imported only when a pipeline opens a Kafka source or sink.
 */
import type { Connector } from '../../src/spi/connector.ts';
import { kafkaSpec } from './spec.ts';

export const kafkaConnector: Connector = {
  spec: kafkaSpec,
  runtime: {
    openSource: async (ctx) => (await import('./source.ts')).openKafkaSource(ctx),
    openSink: async (ctx) => (await import('./sink.ts')).openKafkaSink(ctx),
    openWorkerSink: async (ctx) => (await import('./worker-sink.ts')).openKafkaWorkerSink(ctx),
  },
  // produce-request.ts replaces kafkajs's Produce encoder in the module cache: workers must load that very module.
  sharedPackages: ['kafkajs'],
};
