/**
 * Where a fault scenario's records come from and where they go. Sources: a
 * Kafka topic fed while the scenario runs, or a file written beforehand.
 * Sinks: a Kafka topic, a PostgreSQL table or Redis keys, each with its
 * pipeline clause, a live count for the watch and an independent reader
 * that reads everything back at the end.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Consumer, KafkaConfig } from 'kafkajs';
import { sql, unique as uniqueTable } from '../postgres/helpers.ts';
import { client, type OwnRedis } from '../redis/helpers.ts';
import { createTopics, deleteTopics, groupLag, groupOffsets, kafka, keyedProducer, readTopic, unique } from '../kafka/helpers.ts';
import type { Event } from '../kafka/processes.ts';
import { kafkaBrokers } from '../support/services.ts';

/** Clients that wait out a broker outage of the scenario instead of giving up after kafkajs's default few retries. */
const RIDE_OUT: Partial<KafkaConfig> = { retry: { retries: 1000, initialRetryTime: 200, maxRetryTime: 1000 } };

/**
 * Input produced while the scenario runs: `rate` records a second, keyed
 * (a key always lands on the same partition, in order), never more than a
 * fifth of the input ahead of what the sink holds, so that faults late in
 * the scenario still find records to carry.
 */
export class KafkaInput {
  readonly kind = 'kafka';
  readonly group = unique('faults');
  readonly fed: Promise<void>;
  private fedCount = 0;
  private paused = false;
  private closed = false;
  private drained: Promise<void> | undefined;

  private constructor(
    readonly topic: string,
    private readonly events: Event[],
    private readonly rate: number,
    private readonly written: () => number,
  ) {
    this.fed = this.feed();
  }

  static async open(events: Event[], partitions: number, rate: number, written: () => number): Promise<KafkaInput> {
    const topic = unique('faults-in');
    await createTopics([topic, partitions]);
    return new KafkaInput(topic, events, rate, written);
  }

  clause(bounded: boolean): string {
    return `source events: Event from kafka {
  topic: "${this.topic}", brokers: "${kafkaBrokers().join(',')}", format: json, group: "${this.group}", bounded: ${bounded},
  session_timeout: 10s, rebalance_timeout: 30s, commit_interval: 200ms, buffer_records: 500
}`;
  }

  /** Holds input back while its broker is down. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Every record is produced and the group has committed all of them: nothing is left to read. */
  async caughtUp(): Promise<boolean> {
    return this.fedCount === this.events.length && (await groupLag(this.group, this.topic).catch(() => -1)) === 0;
  }

  /** Partitions whose committed offset has moved past `before`, or that have nothing left to commit. */
  async movedOn(before: Map<number, number>): Promise<boolean> {
    return (await groupOffsets(this.group, this.topic)).every((p) => p.committed > (before.get(p.partition) ?? -1) || p.committed >= p.end);
  }

  /** The group's committed offset of each partition (-1 when none). */
  async committedOffsets(): Promise<Map<number, number>> {
    return new Map((await groupOffsets(this.group, this.topic)).map((p) => [p.partition, p.committed]));
  }

  /** Settles once caught up. */
  committed(): Promise<void> {
    this.drained ??= (async () => {
      while (!this.closed && !(await this.caughtUp())) await sleep(200);
    })();
    return this.drained;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.fed.catch(() => undefined);
    await deleteTopics(this.topic);
  }

  private async feed(): Promise<void> {
    const producer = keyedProducer(RIDE_OUT);
    await producer.connect();
    try {
      const chunk = Math.max(1, Math.round(this.rate / 10));
      const window = Math.max(chunk, Math.round(this.events.length / 5));
      while (this.fedCount < this.events.length && !this.closed) {
        if (!this.paused && this.fedCount - this.written() < window) {
          const batch = this.events.slice(this.fedCount, this.fedCount + chunk);
          await producer.send({ topic: this.topic, acks: -1, messages: batch.map((e) => ({ key: e.key, value: JSON.stringify(e) })) });
          this.fedCount += batch.length;
        }
        await sleep(100);
      }
    } finally {
      await producer.disconnect();
    }
  }
}

/** The whole input as a JSON-lines file, read in `partitions` partitions by key. */
export class FileInput {
  readonly kind = 'file';
  private readonly path: string;

  constructor(dir: string, events: Event[], private readonly partitions: number) {
    this.path = join(dir, 'input.jsonl');
    writeFileSync(this.path, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  clause(): string {
    return `source events: Event from file { path: ${JSON.stringify(this.path)}, format: json, partitions: ${this.partitions}, key: "key" }`;
  }
}

export type Input = KafkaInput | FileInput;

export interface Sink {
  /** The pipeline's `sink out to …` clause. */
  readonly clause: string;
  /** Output order means something (a Kafka partition's): per-key order is checked. */
  readonly ordered: boolean;
  /** A record written twice overwrites itself, so duplicates cannot be seen (Redis SET by record key). */
  readonly overwrites: boolean;
  /** Records in the sink now (undefined or a rejection while it is unreachable). */
  count(): Promise<number | undefined>;
  /** Resolves once the writes a killed process had sent have finished on the server (they may still land after its death). */
  settled(): Promise<void>;
  /** Everything in the sink; for a topic partition by partition in offset order. */
  readBack(): Promise<Event[]>;
  close(): Promise<void>;
}

/**
 * A topic, counted live by a consumer of its own: distinct offsets of data
 * records (read_committed under exactly-once), so that transaction markers and
 * aborted records, which move the high watermark too, never look like output.
 */
export async function kafkaSink(partitions: number, exactlyOnce: boolean): Promise<Sink> {
  const topic = unique('faults-out');
  await createTopics([topic, partitions]);
  const seen = new Set<string>();
  const consumer: Consumer = kafka(RIDE_OUT).consumer({ groupId: unique('faults-watch'), readUncommitted: !exactlyOnce, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => void batch.messages.forEach((m) => seen.add(`${batch.partition}:${m.offset}`)) });
  return {
    clause: `sink out to kafka { topic: "${topic}", brokers: "${kafkaBrokers().join(',')}", format: json, guarantee: ${exactlyOnce ? 'exactly_once' : 'at_least_once'} }`,
    ordered: true,
    overwrites: false,
    count: async () => seen.size,
    // A produce request lands within its round trip, before a restarted process writes anything.
    settled: async () => {},
    readBack: async () => (await readTopic(topic, { readCommitted: exactlyOnce, timeoutMs: 120_000 })).map((m) => JSON.parse(m.value!.toString()) as Event),
    close: async () => {
      await consumer.disconnect();
      await deleteTopics(topic);
    },
  };
}

/**
 * An append-only table; exactly-once is the sink's `exactly_once` (offsets
 * stored with the rows). With `pace`, the table accepts about that many rows a
 * second, as a slow database would: a trigger sleeps in proportion to the rows
 * each statement inserts, one transaction at a time. A file source has no
 * rate of its own; this keeps its run long enough for faults to land mid-run
 * on any machine.
 */
export async function postgresSink(url: string, exactlyOnce: boolean, pace?: number): Promise<Sink> {
  const table = uniqueTable('faults');
  await sql(`CREATE TABLE ${table} (key text NOT NULL, seq bigint NOT NULL, n bigint NOT NULL)`, [], url);
  if (pace !== undefined) {
    await sql(`CREATE FUNCTION ${table}_pace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('${table}'));
  PERFORM pg_sleep((SELECT count(*) FROM inserted) / ${pace}::float8);
  RETURN NULL;
END $$`, [], url);
    await sql(`CREATE TRIGGER pace AFTER INSERT ON ${table} REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${table}_pace()`, [], url);
  }
  return {
    clause: `sink out to postgres { url: "${url}", table: "${table}", exactly_once: ${exactlyOnce}, retry_backoff: 50ms, retry_max_backoff: 500ms }`,
    ordered: false,
    overwrites: false,
    count: async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], url))[0]!.n),
    // A COPY sent in full runs to its end (and commits, unless a transaction waits for a COMMIT) after its client died.
    settled: async () => {
      const copying = `SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query ILIKE 'COPY %${table}%'`;
      while (Number((await sql<{ n: string }>(copying, [], url))[0]!.n) > 0) await sleep(50);
    },
    readBack: async () => (await sql<{ key: string; seq: string; n: string }>(`SELECT key, seq, n FROM ${table}`, [], url)).map((r) => ({ key: r.key, seq: Number(r.seq), n: Number(r.n) })),
    close: async () => void (await sql(`DROP TABLE IF EXISTS ${table}; DROP FUNCTION IF EXISTS ${table}_pace()`, [], url)),
  };
}

/** `SET ev:<key>:<seq>` on a server of the scenario's own: one key per record, so the server's key count is the record count. */
export function redisSink(server: OwnRedis): Sink {
  // Fails at once while the server is down or busy, instead of queueing the watch's counts.
  const counter = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  counter.on('error', () => {});
  return {
    clause: `sink out to redis { url: "${server.url}", key: "ev:{key}:{seq}", retry_backoff: 50ms, retry_max_backoff: 500ms }`,
    ordered: false,
    overwrites: true,
    count: () => counter.dbsize(),
    // A pipeline of commands lands within its round trip, before a restarted process writes anything.
    settled: async () => {},
    readBack: async () => {
      const reader = client(server.url);
      try {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, found] = await reader.scan(cursor, 'MATCH', 'ev:*', 'COUNT', 1000);
          keys.push(...found);
          cursor = next;
        } while (cursor !== '0');
        const values: Event[] = [];
        for (let i = 0; i < keys.length; i += 1000) {
          for (const v of await reader.mget(keys.slice(i, i + 1000))) if (v !== null) values.push(JSON.parse(v) as Event);
        }
        return values;
      } finally {
        reader.disconnect();
      }
    },
    close: async () => void counter.disconnect(),
  };
}
