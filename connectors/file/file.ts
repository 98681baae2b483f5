/**
 * The file connector. As a source it streams a JSON-lines or Avro container
 * file with bounded memory, dealing records over partitions (source.ts,
 * records.ts); as a sink or dead-letter target it writes JSON lines (sink.ts).
 */
import type { Connector } from '../../src/spi/connector.ts';
import { openFileSink } from './sink.ts';
import { openFileSource } from './source.ts';
import { fileSpec } from './spec.ts';

export const fileConnector: Connector = {
  spec: fileSpec,
  runtime: { openSource: openFileSource, openSink: openFileSink },
};
