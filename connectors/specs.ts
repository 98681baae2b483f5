/**
 * The option specs of the built-in connectors, without their code: what the
 * compiler and the language server need. Importing it loads no client
 * library (kafkajs, pg, ioredis), so the editor extension's bundled server
 * stays small. `registry.ts` builds the environment with the code; a test
 * keeps the two lists the same.
 */
import type { ConnectorSpec, ConnectorSpecs } from '../src/spi/spec.ts';
import { datagenSpec } from './datagen/spec.ts';
import { fileSpec } from './file/spec.ts';
import { kafkaSpec } from './kafka/spec.ts';
import { postgresSpec } from './postgres/spec.ts';
import { redisSpec } from './redis/spec.ts';
import { stderrSpec } from './stderr/spec.ts';
import { stdinSpec } from './stdin/spec.ts';
import { stdoutSpec } from './stdout/spec.ts';

const BUILTIN_SPECS: readonly ConnectorSpec[] = [datagenSpec, fileSpec, stdinSpec, stdoutSpec, stderrSpec, kafkaSpec, postgresSpec, redisSpec];

export function builtinConnectorSpecs(): ConnectorSpecs {
  return new Map(BUILTIN_SPECS.map((s) => [s.name, s]));
}
