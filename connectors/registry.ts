/**
 * The explicit connector registry. A `ConnectorEnvironment` is an object the
 * caller builds and hands around (the compiler gets its specs, the runtime
 * its factories); nothing registers itself by being imported. Kafka,
 * PostgreSQL or Redis connectors are added with `registerConnector`, without
 * touching the compiler or the runtime.
 */
import type { Connector } from './connector.ts';
import { datagenConnector } from './datagen/datagen.ts';
import { fileConnector } from './file/file.ts';
import { kafkaConnector } from './kafka/kafka.ts';
import { postgresConnector } from './postgres/postgres.ts';
import { redisConnector } from './redis/redis.ts';
import type { ConnectorSpecs } from './spec.ts';
import { stderrConnector } from './stderr/stderr.ts';
import { stdinConnector } from './stdin/stdin.ts';
import { stdoutConnector } from './stdout/stdout.ts';

export interface ConnectorEnvironment {
  readonly connectors: ReadonlyMap<string, Connector>;
}

export function createEnvironment(connectors: readonly Connector[] = []): ConnectorEnvironment & { connectors: Map<string, Connector> } {
  const env = { connectors: new Map<string, Connector>() };
  for (const c of connectors) registerConnector(env, c);
  return env;
}

export function registerConnector(env: { connectors: Map<string, Connector> }, connector: Connector): void {
  if (env.connectors.has(connector.spec.name)) throw new Error(`connector ${connector.spec.name} is already registered`);
  env.connectors.set(connector.spec.name, connector);
}

/** The connectors built into Sensei: the embedded ones (datagen, file, stdin, stdout, stderr) and Kafka. */
export function builtinConnectors(): Connector[] {
  return [datagenConnector, fileConnector, stdinConnector(), stdoutConnector(), stderrConnector(), kafkaConnector, postgresConnector, redisConnector];
}

/** A fresh environment with the built-in connectors, ready for more to be registered. */
export function builtinEnvironment(): ConnectorEnvironment & { connectors: Map<string, Connector> } {
  return createEnvironment(builtinConnectors());
}

/** The specs of an environment, as the compiler takes them. */
export function connectorSpecs(env: ConnectorEnvironment): ConnectorSpecs {
  return new Map([...env.connectors].map(([name, c]) => [name, c.spec]));
}

export function builtinConnectorSpecs(): ConnectorSpecs {
  return connectorSpecs(builtinEnvironment());
}
