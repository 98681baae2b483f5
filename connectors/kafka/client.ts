/**
 * The kafkajs client of a source or sink: brokers, TLS and SASL from the
 * options, secrets from environment variables the options name. Nothing
 * here logs a secret; kafkajs's own log is off unless `SENSEI_KAFKA_LOG`
 * asks for it (error, warn, info, debug), and then only its messages are
 * printed, never the structured extras.
 */
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import type { Kafka, KafkaConfig, SASLOptions } from 'kafkajs';
import type { Options } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { registerCodecs } from './compression.ts';
import { useFastFetchResponse } from './fetch-response.ts';
import { useFastProduceRequest } from './produce-request.ts';
import { kafkaSpec } from './spec.ts';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export function kafkaOptions(options: Options): OptionReader {
  return new OptionReader(kafkaSpec, options);
}

export function brokersOf(options: Options): string[] {
  const given = options.brokers;
  const list = Array.isArray(given) ? given.map(String) : typeof given === 'string' ? [given] : (process.env.SENSEI_KAFKA_BROKERS ?? 'localhost:9092').split(',');
  return list.map((b) => b.trim()).filter((b) => b !== '');
}

function secret(envName: string, what: string): string {
  const value = process.env[envName];
  if (value === undefined || value === '') throw new Error(`kafka: ${what} is not set: set the environment variable ${envName}`);
  return value;
}

/** The connection part of the kafkajs config (also used by tests to check what TLS/SASL options become). */
export function connectionConfig(options: Options): Pick<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> {
  const o = kafkaOptions(options);
  const protocol = o.oneOf('security_protocol', ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const);
  const config: Pick<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'> = { brokers: brokersOf(options), clientId: o.string('client_id') };
  if (protocol === 'ssl' || protocol === 'sasl_ssl') {
    const ca = o.optionalString('ssl_ca_file');
    const cert = o.optionalString('ssl_cert_file');
    const key = o.optionalString('ssl_key_file');
    const passphraseEnv = o.string('ssl_key_password_env');
    config.ssl = {
      rejectUnauthorized: o.boolean('ssl_verify'),
      ...(ca !== undefined ? { ca: [readFileSync(ca, 'utf8')] } : {}),
      ...(cert !== undefined ? { cert: readFileSync(cert, 'utf8') } : {}),
      ...(key !== undefined ? { key: readFileSync(key, 'utf8') } : {}),
      ...(key !== undefined && process.env[passphraseEnv] ? { passphrase: process.env[passphraseEnv] } : {}),
    };
  }
  if (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl') {
    const mechanism = o.oneOf('sasl_mechanism', ['plain', 'scram-sha-256', 'scram-sha-512'] as const);
    const username = secret(o.string('sasl_username_env'), 'the SASL user name');
    const password = secret(o.string('sasl_password_env'), 'the SASL password');
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

const LOG_LEVELS: Record<string, number> = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

export function kafkaClient(options: Options): Kafka {
  registerCodecs();
  useFastProduceRequest();
  useFastFetchResponse();
  const level = LOG_LEVELS[(process.env.SENSEI_KAFKA_LOG ?? 'nothing').toLowerCase()] ?? logLevel.NOTHING;
  return new KafkaClient({
    ...connectionConfig(options),
    logLevel: level,
    logCreator: () => ({ namespace, label, log }) => {
      process.stderr.write(`kafka ${label.toLowerCase()} ${namespace}: ${log.message}\n`);
    },
  });
}

/**
 * Calls `call` again while it fails with an error Kafka marks retriable: a
 * partition whose leader is still being elected (a new topic, a restarted
 * broker) answers NOT_LEADER_FOR_PARTITION for a moment, and kafkajs's admin
 * offset queries do not retry that themselves.
 */
export async function retryRetriable<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

interface OffsetCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * The log end offsets (high watermarks) of a topic's partitions: past the
 * records of transactions still open. kafkajs's admin asks for the last
 * stable offsets (read_committed) and has no option for these, so a
 * cluster connection of the client's own is made read_uncommitted.
 */
export async function logEndOffsets(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!create) throw new Error('kafka: this kafkajs version does not let the changelog read its log end offsets');
  const READ_UNCOMMITTED = 0;
  const cluster = (kafka as unknown as Record<symbol, (o: { isolationLevel: number }) => OffsetCluster>)[create]!({ isolationLevel: READ_UNCOMMITTED });
  await cluster.connect();
  try {
    return await retryRetriable(async () => {
      await cluster.addTargetTopic(topic);
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
      const [ends] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
      return new Map(ends!.partitions.map((p) => [p.partition, Number(p.offset)]));
    });
  } finally {
    await cluster.disconnect();
  }
}

/**
 * The position after a fetch that reached no `eachBatch`: one of only
 * control records (transaction markers) or aborted records, which still
 * moves the position. Undefined for any other batch, and for one that held
 * nothing at or after the position (no first offset): kafkajs then reports
 * a last offset it did not read.
 */
export function positionAfterSkippedBatch(e: { payload: { batchSize: number; firstOffset: string | null; lastOffset: string } }): number | undefined {
  return e.payload.batchSize === 0 && e.payload.firstOffset !== null ? Number(e.payload.lastOffset) + 1 : undefined;
}
