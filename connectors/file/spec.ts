import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const fileSpec: ConnectorSpec = {
  name: 'file',
  doc: 'Reads records from a JSON-lines or Avro container file as a stream, with bounded memory (offsets are line numbers, or record numbers in an Avro file), or appends records as JSON lines (also as a dead-letter target).',
  roles: ['source', 'sink', 'dead-letter'],
  partitionKeyOption: 'key',
  options: [
    { name: 'path', type: 'string', doc: 'File path, relative to the working directory.', required: true },
    { name: 'format', type: 'enum', values: ['auto', 'json', 'avro'], doc: 'Source: JSON lines or an Avro container file; `auto` goes by the extension (.avro). Sinks and dead letters write JSON lines.', default: 'auto', roles: ['source'] },
    { name: 'partitions', type: 'int', doc: 'Source: number of partitions the records are spread over.', default: 1, min: 1, max: 4096, roles: ['source'] },
    { name: 'key', type: 'string', doc: 'Source: field whose value is the record key and decides the partition (murmur2 hash, as Kafka).', roles: ['source'], fields: 'name' },
    { name: 'append', type: 'boolean', doc: 'Sink: append to an existing file instead of replacing it.', default: false, roles: ['sink', 'dead-letter'] },
    { name: 'fsync', type: 'boolean', doc: 'Sink: flush every write to disk before acknowledging it.', default: false, roles: ['sink', 'dead-letter'] },
  ],
};
