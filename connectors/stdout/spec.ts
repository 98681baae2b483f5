import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const stdoutSpec: ConnectorSpec = {
  name: 'stdout',
  doc: 'Writes records to standard output, one per line.',
  roles: ['sink', 'dead-letter'],
  options: [
    { name: 'format', type: 'enum', values: ['json', 'text'], doc: 'JSON lines, or `field=value` text lines.', default: 'json' },
    { name: 'order', type: 'enum', values: ['arrival', 'partition'], doc: '`arrival` writes as records come; `partition` holds them until the end and writes partition by partition, the same for any number of workers (for tests).', default: 'arrival' },
  ],
};
