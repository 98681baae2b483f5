/** The Redis connector: a sink (sink.ts) and a lookup (lookup.ts). */
import type { Connector } from '../../src/spi/connector.ts';
import { openRedisLookup } from './lookup.ts';
import { openRedisSink } from './sink.ts';
import { redisSpec } from './spec.ts';

export const redisConnector: Connector = {
  spec: redisSpec,
  runtime: { openSink: openRedisSink, openLookup: openRedisLookup },
};
