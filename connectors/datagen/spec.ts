import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const datagenSpec: ConnectorSpec = {
  name: 'datagen',
  doc: 'Generates realistic records for the source schema, deterministically from a seed. Records are placed in partitions by key hash (as a Kafka producer would) or round robin without a key.',
  roles: ['source'],
  partitionKeyOption: 'key',
  options: [
    { name: 'partitions', type: 'int', doc: 'Number of partitions.', default: 1, min: 1, max: 4096 },
    { name: 'rate', type: 'number', doc: 'Records per second across all partitions; 0 generates as fast as the pipeline reads.', default: 0, min: 0 },
    { name: 'count', type: 'int', doc: 'Total number of records, after which the source ends; 0 never ends.', default: 0, min: 0 },
    { name: 'seed', type: 'int', doc: 'Seed of the generator: the same seed gives the same records.', default: 0 },
    { name: 'key', type: 'string', doc: 'Field whose value is the record key and decides the partition (murmur2 hash, as Kafka).', fields: 'name' },
  ],
};
