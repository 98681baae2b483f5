/**
 * The connectors built into Sensei. Kafka, PostgreSQL or Redis connectors
 * of one's own are added with `registerConnector` (src/spi/environment.ts),
 * without touching the compiler or the runtime.
 */
import { createEnvironment, type MutableEnvironment } from '../src/spi/environment.ts';
import type { Connector } from '../src/spi/connector.ts';
import { datagenConnector } from './datagen/datagen.ts';
import { fileConnector } from './file/file.ts';
import { kafkaConnector } from './kafka/kafka.ts';
import { postgresConnector } from './postgres/postgres.ts';
import { redisConnector } from './redis/redis.ts';
import { stderrConnector } from './stderr/stderr.ts';
import { stdinConnector } from './stdin/stdin.ts';
import { stdoutConnector } from './stdout/stdout.ts';

/** The connectors built into Sensei: the embedded ones (datagen, file, stdin, stdout, stderr), Kafka, PostgreSQL and Redis. */
export function builtinConnectors(): Connector[] {
  return [datagenConnector, fileConnector, stdinConnector(), stdoutConnector(), stderrConnector(), kafkaConnector, postgresConnector, redisConnector];
}

/** A fresh environment with the built-in connectors; worker threads build theirs from this module. */
export function builtinEnvironment(): MutableEnvironment {
  return createEnvironment(builtinConnectors(), import.meta.url);
}

/** What worker threads call (`ConnectorEnvironment.workerModule`). */
export const environment = builtinEnvironment;

export { builtinConnectorSpecs } from './specs.ts';
