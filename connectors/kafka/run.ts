/**
 * What the Kafka sources and sinks of one pipeline run share. The runtime
 * opens each source and sink on its own; they find each other through the
 * run's abort signal, which every open call carries.
 *
 * - Sinks look up the input record an output record derives from (its key,
 *   headers and timestamp pass through; a dead letter carries the original
 *   bytes) by source name, partition and offset.
 * - One producer per cluster serves every Kafka sink and dead-letter target.
 * - Exactly-once: every `transaction_interval` the run holds its sources
 *   (no new batches handed to the runtime), waits until every handed-out
 *   batch is acknowledged (its output is in the transaction), adds the
 *   sources' positions to the transaction and commits it. A rebalance does
 *   the same before the member rejoins, once the coordinator confirmed the
 *   member is still in the group (no other member owns its partitions yet).
 *   Records and the offsets they advance therefore always commit together.
 */
import { hostname } from 'node:os';
import type { IHeaders, Kafka } from 'kafkajs';
import type { Options } from '../../src/spi/connector.ts';
import { brokersOf, kafkaClient, kafkaOptions } from './client.ts';
import { ProducerChannel, type GroupOffsets } from './producer.ts';

/** An input record as the source fetched it. */
export interface InputRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
  timestamp: string;
}

/** What the run needs of a Kafka source. */
export interface RunSource {
  readonly name: string;
  readonly topic: string;
  readonly groupId: string;
  readonly cluster: string;
  /** Stops handing out batches; resolves once every handed-out batch is acknowledged. */
  hold(): Promise<void>;
  release(): void;
  /** Next offsets to commit per partition (everything before them is acknowledged), and marks them committed once `commit` resolves. */
  positions(): { partition: number; offset: string }[];
  committed(positions: { partition: number; offset: string }[]): void;
  /** False while a rebalance may have given its partitions to another member (no transaction may commit). */
  mayCommit(): boolean;
  /** The fetched records at these offsets (undefined where the source no longer has one). */
  records(partition: number, offsets: ArrayLike<number>): (InputRecord | undefined)[];
}

export interface ExactlyOnce {
  transactionalId: string;
  intervalMs: number;
  timeoutMs: number;
  cluster: string;
}

const runs = new WeakMap<AbortSignal, KafkaRun>();

export class KafkaRun {
  readonly sources = new Map<string, RunSource>();
  private readonly channels = new Map<string, Promise<ProducerChannel>>();
  private eos: ExactlyOnce | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> = Promise.resolve();
  private sinks = 0;
  private finalCommit: Promise<void> | undefined;
  /** Set when a transaction could not commit: every later write and commit fails with it. */
  failure: Error | undefined;

  private constructor(readonly pipeline: string) {}

  static of(signal: AbortSignal, pipeline: string): KafkaRun {
    let run = runs.get(signal);
    if (!run) {
      run = new KafkaRun(pipeline);
      runs.set(signal, run);
    }
    return run;
  }

  get exactlyOnce(): ExactlyOnce | undefined {
    return this.eos;
  }

  /** Called by an exactly_once sink at open. */
  requireExactlyOnce(options: Options): void {
    const o = kafkaOptions(options);
    const cluster = clusterKey(options);
    if (this.eos && this.eos.cluster !== cluster) throw new Error('kafka: exactly_once needs every Kafka sink of the pipeline on one cluster');
    const instance = process.env.SENSEI_INSTANCE_ID || hostname();
    this.eos ??= {
      transactionalId: o.optionalString('transactional_id') ?? `sensei-${this.pipeline}-${instance}`,
      intervalMs: o.number('transaction_interval'),
      timeoutMs: o.number('transaction_timeout'),
      cluster,
    };
  }

  addSource(source: RunSource): void {
    if (this.eos && source.cluster !== this.eos.cluster) throw new Error(`kafka: exactly_once needs source ${source.name} on the cluster of the Kafka sinks`);
    this.sources.set(source.name, source);
  }

  /** The run's producer for the cluster these options name (created on first use, when every sink is open). */
  channel(options: Options): Promise<ProducerChannel> {
    const cluster = this.eos?.cluster ?? clusterKey(options);
    let channel = this.channels.get(cluster);
    if (!channel) {
      const o = kafkaOptions(options);
      const kafka: Kafka = kafkaClient(options);
      const created = new ProducerChannel(kafka, {
        maxRequestBytes: o.number('batch_bytes'),
        ...(this.eos ? { transactionalId: this.eos.transactionalId, transactionTimeoutMs: this.eos.timeoutMs } : {}),
      });
      channel = created.connect().then(() => {
        if (this.eos && !this.timer) this.timer = setInterval(() => void this.commit().catch(() => {}), this.eos.intervalMs);
        return created;
      });
      this.channels.set(cluster, channel);
    }
    return channel;
  }

  sinkOpened(): void {
    this.sinks++;
  }

  /**
   * Exactly-once: commits the open transaction with the sources' positions.
   * Serialized; the sources are held for its duration.
   */
  commit(): Promise<void> {
    const step = this.cycle.then(() => this.commitNow());
    this.cycle = step.catch(() => {});
    return step;
  }

  private async commitNow(): Promise<void> {
    if (this.failure) throw this.failure;
    const eos = this.eos;
    const channel = eos && (await this.channels.get(eos.cluster));
    if (!channel) return;
    const sources = [...this.sources.values()];
    await Promise.all(sources.map((s) => s.hold()));
    try {
      // The source's rebalance hook commits once it knows the member kept its partitions until now.
      if (!sources.every((s) => s.mayCommit())) return;
      const positions = sources.map((s) => ({ source: s, partitions: s.positions() }));
      const byGroup = new Map<string, GroupOffsets>();
      for (const { source, partitions } of positions) {
        if (partitions.length === 0) continue;
        const g = byGroup.get(source.groupId) ?? { groupId: source.groupId, topics: [] };
        g.topics.push({ topic: source.topic, partitions });
        byGroup.set(source.groupId, g);
      }
      try {
        await channel.commit([...byGroup.values()]);
      } catch (e) {
        this.failure ??= new Error(`kafka: the exactly-once transaction could not commit: ${(e as Error).message}`);
        throw this.failure;
      }
      for (const { source, partitions } of positions) source.committed(partitions);
    } finally {
      for (const s of sources) s.release();
    }
  }

  /**
   * Exactly-once, the consumer's group membership was lost: its partitions
   * are already being read elsewhere from the last committed offsets, so the
   * open transaction must not commit, and this process's partition state is
   * ahead of what is committed: the run fails (a restart resumes cleanly).
   */
  async lose(reason: string): Promise<void> {
    const eos = this.eos;
    const channel = eos && (await this.channels.get(eos.cluster));
    this.failure ??= new Error(`kafka: ${reason}; the open exactly-once transaction was aborted`);
    await this.cycle;
    await channel?.abort().catch(() => {});
  }

  /**
   * A sink closes. The runtime closes sinks once every batch is acknowledged,
   * so the first close commits the last transaction (exactly-once; or aborts
   * it when the run failed with batches in flight); the last close
   * disconnects the producers.
   */
  async sinkClosed(): Promise<void> {
    this.finalCommit ??= this.finish();
    await this.finalCommit;
    if (--this.sinks > 0) return;
    if (this.timer) clearInterval(this.timer);
    for (const channel of this.channels.values()) await (await channel).close();
  }

  private async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const eos = this.eos;
    const channel = eos && (await this.channels.get(eos.cluster));
    if (!channel) return;
    if (this.failure) {
      await channel.abort().catch(() => {});
      return;
    }
    await this.commit();
  }
}

/** Identifies a cluster by its bootstrap servers. */
export function clusterKey(options: Options): string {
  return [...brokersOf(options)].sort().join(',');
}
