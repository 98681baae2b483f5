import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const stdinSpec: ConnectorSpec = {
  name: 'stdin',
  doc: 'Reads records from standard input, one per line, into a single partition; the source ends with the input.',
  roles: ['source'],
  options: [
    { name: 'format', type: 'enum', values: ['json', 'text'], doc: 'JSON lines, or plain text lines for a schema with one string field.', default: 'json' },
  ],
};
