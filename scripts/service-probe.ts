// Readiness probe used by scripts/services: one real request per service, exit 0 when it answers.
// Usage: node --import tsx scripts/service-probe.ts kafka|postgres|redis <brokers|url>
import kafkajs from 'kafkajs';
import pg from 'pg';
import { Redis } from 'ioredis';

const TIMEOUT_MS = 5000;

// A metadata request, then a group-coordinator lookup: on a fresh broker the
// __consumer_offsets topic is created lazily, and tests joining groups should
// not race that creation.
async function probeKafka(brokers: string): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: 'sensei-probe',
    brokers: brokers.split(','),
    connectionTimeout: TIMEOUT_MS,
    requestTimeout: TIMEOUT_MS,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    await admin.describeGroups(['sensei-probe']);
  } finally {
    await admin.disconnect();
  }
}

async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(url: string): Promise<void> {
  const redis = new Redis(url, { connectTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => undefined); // the failed command reports the error
  try {
    await redis.connect();
    if ((await redis.ping()) !== 'PONG') throw new Error('unexpected PING reply');
  } finally {
    redis.disconnect();
  }
}

const probes: Record<string, (target: string) => Promise<void>> = {
  kafka: probeKafka,
  postgres: probePostgres,
  redis: probeRedis,
};

const [service, target] = process.argv.slice(2);
const probe = service === undefined ? undefined : probes[service];
if (probe === undefined || target === undefined) {
  console.error('usage: service-probe.ts kafka|postgres|redis <brokers|url>');
  process.exit(2);
}
try {
  await probe(target);
  process.exit(0);
} catch (err) {
  if (process.env.SENSEI_PROBE_VERBOSE) console.error(`${service} probe failed: ${(err as Error).message}`);
  process.exit(1);
}
