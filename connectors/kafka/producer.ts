/**
 * One kafkajs producer per run and cluster, shared by the run's Kafka sinks
 * and its Kafka dead-letter target. Writes are queued and sent one request
 * at a time: everything queued while a request is in flight goes out in the
 * next one (batching without a linger delay), in queue order, so records of
 * one partition keep their order and the idempotent producer's sequence
 * numbers never race (kafkajs only updates them when a request completes).
 *
 * Exactly-once: the producer is transactional; sends join the open
 * transaction, and `commit` adds the consumed offsets to it and commits
 * (see run.ts for when).
 */
import kafkajs from 'kafkajs';
import type { Kafka, Message, Producer, Transaction } from 'kafkajs';
import { CODECS, type Compression } from './compression.ts';

const { Partitioners } = kafkajs;

interface Pending {
  topic: string;
  messages: Message[];
  compression: Compression;
  bytes: number;
  /** With the offset after its last message, when all its messages went to one partition (`append`). */
  resolve: (next?: number) => void;
  reject: (e: Error) => void;
  /** The partition of every message (`append`), whose offsets the caller wants. */
  partition?: number;
}

export interface GroupOffsets {
  groupId: string;
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

export interface ProducerSettings {
  /** Exactly-once: the transactional id, stable across restarts of this process. */
  transactionalId?: string;
  transactionTimeoutMs?: number;
  /** Largest request, bytes (as `messageBytes` counts them). */
  maxRequestBytes: number;
}

/** Per record: Kafka's record framing (length, attributes, deltas, key and value lengths, header count) at its widest. */
const RECORD_OVERHEAD = 21;
/** Per header: the varint lengths of its name and value. */
const HEADER_OVERHEAD = 10;

/** What one message adds to a produce request, at most: key, value, headers and their framing. */
export function messageBytes(m: Message): number {
  let bytes = RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value);
  if (m.headers) {
    for (const [name, value] of Object.entries(m.headers)) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) bytes += HEADER_OVERHEAD + Buffer.byteLength(name) + byteLength(v as Buffer | string | null | undefined);
    }
  }
  return bytes;
}

function byteLength(x: Buffer | string | null | undefined): number {
  return x === null || x === undefined ? 0 : typeof x === 'string' ? Buffer.byteLength(x) : x.length;
}

export class ProducerChannel {
  private readonly producer: Producer;
  private readonly queue: Pending[] = [];
  private flying: Promise<void> | undefined;
  private txn: Transaction | undefined;
  private failed: Error | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  readonly transactional: boolean;
  /** Records written (acknowledged by the broker). */
  records = 0;

  constructor(
    kafka: Kafka,
    private readonly settings: ProducerSettings,
  ) {
    this.transactional = settings.transactionalId !== undefined;
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Every message names its partition (Java-compatible, see sink.ts); this only silences kafkajs's partitioner notice.
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(settings.transactionalId !== undefined ? { transactionalId: settings.transactionalId, transactionTimeout: settings.transactionTimeoutMs } : {}),
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Resolves once the broker has the records (in exactly-once mode: in the open transaction). */
  send(topic: string, messages: Message[], compression: Compression): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (messages.length === 0) return Promise.resolve();
    // A call larger than one request is queued in request-sized parts (in order), so no request outgrows the limit.
    const parts: Promise<void>[] = [];
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const size = messageBytes(messages[i]!);
      if (i > from && bytes + size > this.settings.maxRequestBytes) {
        parts.push(this.enqueue(topic, messages.slice(from, i), compression, bytes));
        from = i;
        bytes = 0;
      }
      bytes += size;
    }
    parts.push(this.enqueue(topic, from === 0 ? messages : messages.slice(from), compression, bytes));
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => undefined);
  }

  /**
   * Sends messages to one partition of a topic in one request (a changelog
   * append), resolving with the offset after the last once the broker has
   * them (in exactly-once mode: in the open transaction).
   */
  append(topic: string, partition: number, messages: Message[]): Promise<number> {
    if (this.failed) return Promise.reject(this.failed);
    const bytes = messages.reduce((n, m) => n + messageBytes(m), 0);
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, messages, compression: 'none', bytes, resolve: (next) => resolve(next!), reject, partition });
      this.pump();
    });
  }

  private enqueue(topic: string, messages: Message[], compression: Compression, bytes: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, messages, compression, bytes, resolve: () => resolve(), reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.flying || this.queue.length === 0) {
      if (!this.flying && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const compression = this.queue[0]!.compression;
    const taken: Pending[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && this.queue[0]!.compression === compression && (taken.length === 0 || bytes + this.queue[0]!.bytes <= this.settings.maxRequestBytes)) {
      const p = this.queue.shift()!;
      bytes += p.bytes;
      taken.push(p);
    }
    const byTopic = new Map<string, Message[]>();
    for (const p of taken) {
      const list = byTopic.get(p.topic);
      if (list) for (const m of p.messages) list.push(m);
      else byTopic.set(p.topic, [...p.messages]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages: groupedOnce(messages) }));
    this.flying = (async () => {
      const target = this.transactional ? await this.transaction() : this.producer;
      return target.sendBatch({ topicMessages, acks: -1, compression: CODECS[compression] });
    })().then(
      (metadata) => {
        // Messages of one partition are appended in request order from its base offset.
        const next = new Map(metadata.map((m) => [`${m.topicName}\0${m.partition}`, Number(m.baseOffset ?? 0)]));
        for (const p of taken) {
          for (const m of p.messages) {
            const at = `${p.topic}\0${m.partition}`;
            next.set(at, (next.get(at) ?? 0) + 1);
          }
          this.records += p.messages.length;
          p.resolve(p.partition === undefined ? undefined : next.get(`${p.topic}\0${p.partition}`));
        }
      },
      (e: Error) => {
        this.fail(e);
        for (const p of taken) p.reject(e);
      },
    ).finally(() => {
      this.flying = undefined;
      this.pump();
    });
  }

  private async transaction(): Promise<Transaction> {
    this.txn ??= await this.producer.transaction();
    return this.txn;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.flying && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Exactly-once: adds the offsets to the open transaction and commits it (everything sent so far becomes visible). */
  async commit(offsets: GroupOffsets[]): Promise<void> {
    await this.idle();
    if (this.failed) throw this.failed;
    const changed = offsets.filter((g) => g.topics.some((t) => t.partitions.length > 0));
    if (!this.txn && changed.length === 0) return;
    const txn = await this.transaction();
    for (const g of changed) await txn.sendOffsets({ consumerGroupId: g.groupId, topics: g.topics });
    await txn.commit();
    this.txn = undefined;
  }

  /** Exactly-once: drops everything sent since the last commit. */
  async abort(): Promise<void> {
    await this.idle();
    const txn = this.txn;
    this.txn = undefined;
    if (txn?.isActive()) await txn.abort();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const p of this.queue.splice(0)) p.reject(e);
  }

  async close(): Promise<void> {
    await this.idle();
    await this.producer.disconnect();
  }
}

/**
 * kafkajs groups a request's messages by partition with a reducer that
 * copies the partition's list for every message it adds: quadratic in the
 * messages per partition, a tenth of a worker's time at 1000-record
 * batches. Every message here names its partition, so each topic's list
 * carries a `reduce` of its own (kafkajs calls `reduce` on it for that
 * grouping only) that groups them in one pass, as the partitioner would.
 */
export function groupedOnce(messages: Message[]): Message[] {
  Object.defineProperty(messages, 'reduce', { value: groupByPartition });
  return messages;
}

function groupByPartition(this: Message[], ...args: Parameters<Message[]['reduce']>): unknown {
  if (this.some((m) => m.partition === undefined)) return Array.prototype.reduce.apply(this, args);
  const groups: Record<number, Message[]> = {};
  for (const m of this) (groups[m.partition!] ??= []).push(m);
  return groups;
}
