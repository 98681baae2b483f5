// Connection settings of the backing services for tests: an environment variable
// wins, else the value `scripts/services start` wrote to .services/env. Tests that
// need a service fail (never skip) when it is not running.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const envFile = fileURLToPath(new URL('../../.services/env', import.meta.url));

function readEnvFile(): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch {
    return new Map();
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!);
  }
  return values;
}

function setting(key: string, service: string, name: string): string {
  const value = process.env[key] || readEnvFile().get(key);
  if (!value) {
    throw new Error(`${service} is not running: run \`scripts/services start ${name}\` (or set ${key})`);
  }
  return value;
}

/** Kafka bootstrap servers, e.g. `['127.0.0.1:19092']`. */
export function kafkaBrokers(): string[] {
  return setting('SENSEI_KAFKA_BROKERS', 'Kafka', 'kafka').split(',').map((b) => b.trim()).filter((b) => b !== '');
}

/** PostgreSQL connection URL, e.g. `postgres://sensei@127.0.0.1:55432/sensei`. */
export function pgUrl(): string {
  return setting('SENSEI_PG_URL', 'PostgreSQL', 'postgres');
}

/** URL of PgBouncer in transaction mode in front of the PostgreSQL of `pgUrl()`, e.g. `postgres://sensei@127.0.0.1:56432/sensei`. */
export function pgBouncerUrl(): string {
  return setting('SENSEI_PGBOUNCER_URL', 'PgBouncer', 'pgbouncer');
}

/** Redis connection URL, e.g. `redis://127.0.0.1:56379`. */
export function redisUrl(): string {
  return setting('SENSEI_REDIS_URL', 'Redis', 'redis');
}
