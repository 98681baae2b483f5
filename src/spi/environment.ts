/**
 * The explicit connector environment: an object the caller builds and hands
 * around (the compiler gets its specs, the runtime its factories); nothing
 * registers itself by being imported.
 *
 * Worker threads cannot receive an environment (its factories are
 * functions), so they build their own from `workerModule`: a module whose
 * `environment` export returns the same connectors. Lookups, sinks that
 * write from workers and connector formats are found there.
 */
import type { Connector } from './connector.ts';
import type { ConnectorSpecs } from './spec.ts';

export interface ConnectorEnvironment {
  readonly connectors: ReadonlyMap<string, Connector>;
  /**
   * URL of a module exporting `environment(): ConnectorEnvironment`, which
   * worker threads call to get these connectors. Absent: workers have no
   * connectors, and a plan that needs one in a worker fails at start.
   */
  readonly workerModule?: string;
}

export type MutableEnvironment = ConnectorEnvironment & { connectors: Map<string, Connector>; workerModule?: string };

export function createEnvironment(connectors: readonly Connector[] = [], workerModule?: string): MutableEnvironment {
  const env: MutableEnvironment = { connectors: new Map<string, Connector>(), ...(workerModule ? { workerModule } : {}) };
  for (const c of connectors) registerConnector(env, c);
  return env;
}

/**
 * Adds a connector. The environment's `workerModule` does not know it: a
 * connector that must also run in workers belongs in a worker module of
 * its own (see `ConnectorEnvironment.workerModule`).
 */
export function registerConnector(env: { connectors: Map<string, Connector> }, connector: Connector): void {
  if (env.connectors.has(connector.spec.name)) throw new Error(`connector ${connector.spec.name} is already registered`);
  env.connectors.set(connector.spec.name, connector);
}

/** The specs of an environment, as the compiler takes them. */
export function connectorSpecs(env: ConnectorEnvironment): ConnectorSpecs {
  return new Map([...env.connectors].map(([name, c]) => [name, c.spec]));
}

/** Packages that workers must load from node_modules rather than from their bundle (`Connector.sharedPackages`). */
export function sharedPackages(env: ConnectorEnvironment): string[] {
  return [...new Set([...env.connectors.values()].flatMap((c) => c.sharedPackages ?? []))].sort();
}
