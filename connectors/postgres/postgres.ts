/** The PostgreSQL connector: a sink (sink.ts) writing binary COPY tuples (copy-binary.ts) and a lookup (lookup.ts). */
import type { Connector } from '../../src/spi/connector.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { CopyEncoder } from './copy-binary.ts';
import { openPostgresLookup } from './lookup.ts';
import { openPostgresSink } from './sink.ts';
import { postgresSpec } from './spec.ts';
import { OptionReader } from '../options.ts';
import type { ColumnCodec } from './types.ts';

export const postgresConnector: Connector = {
  spec: postgresSpec,
  runtime: {
    openSink: openPostgresSink,
    openLookup: openPostgresLookup,
    // `pool_size` each; a lookup with a read replica keeps a pool on each server.
    connections: ({ role, options }) => {
      const wanted = new OptionReader(postgresSpec, options).number('pool_size');
      return role === 'lookup' && options.replica_url !== undefined ? { min: 2, wanted: 2 * wanted } : { min: 1, wanted };
    },
    // The sink's format: the workers encode COPY tuples with the column codecs the sink matched against the table.
    formats: { 'pg-binary': (schema, options) => new CopyEncoder(recordNode(schema), options as unknown as ColumnCodec[]) },
  },
};
