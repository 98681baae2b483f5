import type { ConnectorSpec } from '../../src/spi/spec.ts';

export const stderrSpec: ConnectorSpec = {
  name: 'stderr',
  doc: 'Writes records to standard error, one per line; the default dead-letter target.',
  roles: ['sink', 'dead-letter'],
  options: [
    { name: 'format', type: 'enum', values: ['json', 'text'], doc: 'JSON lines, or `field=value` text lines.', default: 'json' },
  ],
};
