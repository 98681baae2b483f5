/** The PostgreSQL connector: a sink (sink.ts) writing binary COPY tuples (copy-binary.ts) and a lookup (lookup.ts). */
import type { Connector } from '../../src/spi/connector.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { CopyEncoder } from './copy-binary.ts';
import { openPostgresLookup } from './lookup.ts';
import { openPostgresSink } from './sink.ts';
import { postgresSpec } from './spec.ts';
import type { ColumnCodec } from './types.ts';

export const postgresConnector: Connector = {
  spec: postgresSpec,
  runtime: {
    openSink: openPostgresSink,
    openLookup: openPostgresLookup,
    // The sink's format: the workers encode COPY tuples with the column codecs the sink matched against the table.
    formats: { 'pg-binary': (schema, options) => new CopyEncoder(recordNode(schema), options as unknown as ColumnCodec[]) },
  },
};
