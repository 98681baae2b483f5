/**
 * Changelog topics of a Kafka source's stateful operators: one compacted
 * topic per store, `<group>-<operator>-<store>-changelog` (the operator id
 * with its `/` and `:` as `-`), with the source topic's partition count, in
 * the source's cluster. Appends go through the run's producer (run.ts), so
 * with exactly-once they are in the transaction that also holds the
 * output and the source offsets.
 *
 * Reading a partition back: kafkajs has no manual assignment, so a
 * consumer of a group of its own (removed afterwards) reads the topic,
 * seeks each partition asked for to its start, and stops at the log end
 * the topic had when the read began. The read is read_committed and its end
 * counts the records of transactions still open, so it waits until they
 * commit or abort: ending at the last stable offset instead would miss what
 * other processes committed after a dead process's open transaction, while
 * the group's offsets already count it. With exactly-once the run's producer
 * is started first, which aborts what this process's predecessor (the same
 * transactional id) left open; another dead process's transaction holds the
 * read until the broker aborts it (its `transaction_timeout`). Reads of one
 * topic that are asked for together share one consumer.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { ChangelogEntry, Options, StateChangelog } from '../../src/spi/connector.ts';
import { logEndOffsets, positionAfterSkippedBatch, retryRetriable } from './client.ts';
import type { KafkaRun } from './run.ts';

interface Read {
  partition: number;
  from: number;
  resolve: (r: { entries: ChangelogEntry[]; next: number }) => void;
  reject: (e: Error) => void;
}

export class KafkaChangelog implements StateChangelog {
  /** Reads asked for in this turn of the event loop, by topic. */
  private readonly waiting = new Map<string, Read[]>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly run: KafkaRun,
    /** The source's options: its cluster and producer settings. */
    private readonly options: Options,
    private readonly groupId: string,
    private readonly partitions: number,
  ) {}

  get transactional(): boolean {
    return this.run.exactlyOnce !== undefined;
  }

  /** The topic of a store's log. */
  topic(log: string): string {
    return `${this.groupId}-${log.replace(/[^A-Za-z0-9._-]/g, '-')}-changelog`;
  }

  async prepare(logs: readonly string[]): Promise<void> {
    const existing = new Set(await retryRetriable(() => this.admin.listTopics()));
    const missing = logs.map((l) => this.topic(l)).filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await this.admin.createTopics({
      topics: missing.map((topic) => ({
        topic, numPartitions: this.partitions,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })),
      waitForLeaders: true,
    });
  }

  async append(log: string, partition: number, entries: readonly ChangelogEntry[]): Promise<number> {
    const channel = await this.run.channel(this.options);
    const messages = entries.map((e) => ({
      partition,
      key: Buffer.from(e.key.buffer, e.key.byteOffset, e.key.byteLength),
      value: e.value === null ? null : Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength),
    }));
    return channel.append(this.topic(log), partition, messages);
  }

  read(log: string, partition: number, from: number): Promise<{ entries: ChangelogEntry[]; next: number }> {
    const topic = this.topic(log);
    return new Promise((resolve, reject) => {
      let reads = this.waiting.get(topic);
      if (!reads) {
        this.waiting.set(topic, (reads = []));
        setImmediate(() => {
          this.waiting.delete(topic);
          this.readTopic(topic, reads!).catch((e: Error) => reads!.forEach((r) => r.reject(e)));
        });
      }
      reads.push({ partition, from, resolve, reject });
    });
  }

  /** One consumer of a group of its own reads the asked partitions of a topic from their starts to their current ends. */
  private async readTopic(topic: string, reads: Read[]): Promise<void> {
    if (this.transactional) await this.run.channel(this.options);
    const ends = await logEndOffsets(this.kafka, topic);
    const pending = new Map<number, { read: Read; entries: ChangelogEntry[]; end: number }>();
    for (const read of reads) {
      const end = ends.get(read.partition) ?? 0;
      if (read.from >= end) read.resolve({ entries: [], next: Math.max(read.from, end) });
      else pending.set(read.partition, { read, entries: [], end });
    }
    if (pending.size === 0) return;
    const groupId = `${this.groupId}-restore-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    /** Reads done, answered once the consumer and its group are gone: nothing of this read outlives its answer. */
    const read: (() => void)[] = [];
    await consumer.connect();
    try {
      let done: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        const others = [...ends.keys()].filter((p) => !pending.has(p));
        if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
        for (const [p, r] of pending) consumer.seek({ topic, partition: p, offset: String(r.read.from) });
      });
      /** A partition read past the end the topic had (control records and aborted records hold offsets too) is done. */
      const reached = (partition: number, through: number) => {
        const r = pending.get(partition);
        if (!r || through < r.end) return;
        pending.delete(partition);
        consumer.pause([{ topic, partitions: [partition] }]);
        read.push(() => r.read.resolve({ entries: r.entries, next: r.end }));
        if (pending.size === 0) done!();
      };
      // A fetch of only a transaction marker (the end of a log after a commit) never reaches eachBatch.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const through = positionAfterSkippedBatch(e);
        if (through !== undefined) reached(e.payload.partition, through);
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const r = pending.get(batch.partition);
          if (!r) return;
          for (const m of batch.messages) {
            if (Number(m.offset) < r.read.from || Number(m.offset) >= r.end) continue;
            r.entries.push({ key: m.key ?? Buffer.alloc(0), value: m.value });
          }
          reached(batch.partition, Number(batch.lastOffset()) + 1);
        },
      });
      await finished;
    } finally {
      await consumer.disconnect().catch(() => {});
      await this.admin.deleteGroups([groupId]).catch(() => {});
    }
    for (const answer of read) answer();
  }
}
