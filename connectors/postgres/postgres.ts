/** The PostgreSQL connector: a sink (sink.ts) and a lookup (lookup.ts). */
import type { Connector } from '../connector.ts';
import { openPostgresLookup } from './lookup.ts';
import { openPostgresSink } from './sink.ts';
import { postgresSpec } from './spec.ts';

export const postgresConnector: Connector = {
  spec: postgresSpec,
  runtime: { openSink: openPostgresSink, openLookup: openPostgresLookup },
};
