import type { Writable } from 'node:stream';
import type { Connector } from '../../src/spi/connector.ts';
import { streamSinkConnector } from '../stdout/stdout.ts';
import { stderrSpec } from './spec.ts';

export function stderrConnector(output: () => Writable = () => process.stderr): Connector {
  return streamSinkConnector(stderrSpec, output);
}
