/**
 * The Kafka source: one consumer-group member per process.
 *
 * The runtime sees every partition of the topic; a read of a partition this
 * process does not own waits until the group assigns it here. kafkajs
 * fetches the owned partitions into a buffer per partition; a partition
 * whose buffer is full is paused and resumed once the runtime has read it
 * down (backpressure). Values are resolved to the reader schema as they are
 * read (value-reader.ts; a value already in it is checked by the worker that
 * decodes it); records that cannot be read go to the dead-letter target with
 * the reason, and the partition keeps going.
 *
 * Offsets: the runtime acknowledges a batch once every sink has accepted
 * its output; only then does the batch's end become committable, and it is
 * committed every `commit_interval` (at-least-once), or added to the next
 * transaction (exactly-once, see run.ts). Before the member rejoins a
 * rebalancing group (rebalance-hook.ts) it stops handing out batches, drops
 * what it fetched ahead, waits for the batches in flight and commits them,
 * so a partition that moves continues exactly where this process stopped.
 * The sticky assignor (assignor.ts) keeps the others here; their pause is
 * the drain plus the rejoin.
 */
import type { Admin, Consumer, KafkaMessage } from 'kafkajs';
import { recordNode } from '../../src/formats/schema.ts';
import { exchangeEnd } from '../../src/formats/exchange-record.ts';
import type { AssignmentChange, GroupAssignor, RecordHeaders, SourceBatch, SourceContext, SourceReader } from '../../src/spi/connector.ts';
import { stickyAssigner, type Membership } from './assignor.ts';
import { kafkaClient, kafkaOptions, brokersOf, positionAfterSkippedBatch, retryRetriable } from './client.ts';
import { installRebalanceHook } from './rebalance-hook.ts';
import { releaseCoordinators } from './static-membership.ts';
import { RegistryClient } from './registry-client.ts';
import { KafkaChangelog } from './changelog.ts';
import { clusterKey, KafkaRun, type InputRecord, type RunSource } from './run.ts';
import { AvroValueReader, ExchangeValueReader, JsonValueReader, type ValueReader } from './value-reader.ts';

interface Fetched {
  messages: KafkaMessage[];
  next: number;
  /** The position after this fetch (past trailing control records). */
  through: number;
}

interface Handed {
  last: number;
  through: number;
  offsets: number[];
  messages: KafkaMessage[];
}

interface Part {
  owned: boolean;
  /** Owned at some point in this run (an explicit `start` applies only the first time). */
  everOwned: boolean;
  fetched: Fetched[];
  queued: number;
  paused: boolean;
  reading: boolean;
  wake: (() => void) | undefined;
  handed: Handed[];
  /** Records taken by a read and sent to the dead-letter target, until it accepted them. */
  rejecting: Map<number, KafkaMessage>;
  /** Offset after everything taken from the buffer (handed out or rejected); undefined before the first fetch. */
  through: number | undefined;
  /** Everything before this offset is acknowledged by every sink. */
  committable: number | undefined;
  committed: number | undefined;
  /** A repartition topic: the records before this offset are deleted. */
  purged: number;
  highWatermark: number;
  /** Bounded runs: the end offset, and whether the group got there in another process. */
  end: number | undefined;
  doneElsewhere: boolean;
  /** A bounded exchange: the upstream partitions whose end was read. */
  ended: Set<number>;
}

export async function openKafkaSource(ctx: SourceContext): Promise<SourceReader> {
  const o = kafkaOptions(ctx.options);
  const topic = o.string('topic');
  const groupId = o.optionalString('group') ?? `sensei-${ctx.pipeline}`;
  const format = o.oneOf('format', ['avro', 'json', 'exchange'] as const);
  const start = parseStart(o.string('start'));
  recordNode(ctx.schema);
  let values: ValueReader;
  if (format === 'exchange') {
    values = new ExchangeValueReader();
  } else if (format === 'avro') {
    const registry = RegistryClient.fromEnvironment(o.optionalString('registry'));
    if (!registry) throw new Error(`kafka source ${ctx.name}: format avro needs a schema registry (option \`registry\` or SENSEI_SCHEMA_REGISTRY_URL)`);
    values = new AvroValueReader(registry, ctx.schema);
  } else {
    values = new JsonValueReader(ctx.schema);
  }
  installRebalanceHook();
  const kafka = kafkaClient(ctx.options);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await retryRetriable(() => admin.fetchTopicOffsets(topic)).catch((e: Error) => {
      throw new Error(`kafka source ${ctx.name}: topic ${topic} on ${brokersOf(ctx.options).join(',')}: ${e.message}`);
    });
    const count = offsets.length;
    const startAt = new Map<number, number>();
    if (start.kind === 'earliest' || start.kind === 'latest') {
      for (const p of offsets) startAt.set(p.partition, Number(start.kind === 'earliest' ? p.low : p.high));
    } else if (start.kind === 'timestamp') {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, start.at)) startAt.set(p.partition, Number(p.offset));
    }
    const bounded = o.boolean('bounded');
    // A bounded exchange ends with its upstream partitions' ends, not at the offsets it had when the run started.
    const exchangeEnds = format === 'exchange' && bounded ? o.number('partitions') : undefined;
    const source = new KafkaSource(ctx, {
      topic,
      groupId,
      values,
      admin,
      startAt,
      reset: o.oneOf('reset', ['earliest', 'latest'] as const),
      ends: bounded && exchangeEnds === undefined ? new Map(offsets.map((p) => [p.partition, Number(p.high)])) : undefined,
      exchangeEnds,
      lows: new Map(offsets.map((p) => [p.partition, Number(p.low)])),
      partitions: count,
      bufferRecords: o.number('buffer_records'),
      commitIntervalMs: o.number('commit_interval'),
      purgeIntervalMs: format === 'exchange' && o.number('purge_interval') > 0 ? o.number('purge_interval') : undefined,
      cluster: clusterKey(ctx.options),
      groupInstanceId: o.optionalString('group_instance_id') ?? (process.env.SENSEI_INSTANCE_ID ? `${process.env.SENSEI_INSTANCE_ID}-${ctx.name}` : undefined),
    });
    const sessionTimeout = o.number('session_timeout');
    const consumer = kafka.consumer({
      groupId,
      partitionAssigners: [stickyAssigner(source)],
      sessionTimeout,
      rebalanceTimeout: o.number('rebalance_timeout'),
      heartbeatInterval: Math.max(100, Math.min(3000, Math.floor(sessionTimeout / 3))),
      maxBytesPerPartition: o.number('max_bytes_per_partition'),
      maxWaitTimeInMs: 100,
      readUncommitted: o.oneOf('isolation', ['read_committed', 'read_uncommitted'] as const) === 'read_uncommitted',
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer on a timer; a closed source's consumer must stay closed.
      retry: { restartOnFailure: async () => !source.isClosed },
    });
    source.changelog = new KafkaChangelog(kafka, admin, KafkaRun.of(ctx.signal, ctx.pipeline), ctx.options, groupId, count);
    await source.start(consumer);
    return source;
  } catch (e) {
    await admin.disconnect();
    throw e;
  }
}

type Start = { kind: 'committed' } | { kind: 'earliest' } | { kind: 'latest' } | { kind: 'timestamp'; at: number };

export function parseStart(text: string): Start {
  if (text === 'committed' || text === 'earliest' || text === 'latest') return { kind: text };
  const at = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(at)) throw new Error(`kafka: start must be committed, earliest, latest or a timestamp, not ${JSON.stringify(text)}`);
  return { kind: 'timestamp', at };
}

interface Settings {
  topic: string;
  groupId: string;
  values: ValueReader;
  admin: Admin;
  startAt: Map<number, number>;
  reset: 'earliest' | 'latest';
  ends: Map<number, number> | undefined;
  /** A bounded exchange: the upstream partitions whose ends (`exchangeEnd`) end each partition. */
  exchangeEnds: number | undefined;
  lows: Map<number, number>;
  partitions: number;
  bufferRecords: number;
  commitIntervalMs: number;
  /** A repartition topic: how often the records the group committed are deleted; undefined keeps them. */
  purgeIntervalMs: number | undefined;
  cluster: string;
  groupInstanceId: string | undefined;
}

class KafkaSource implements SourceReader, RunSource {
  readonly partitions: number;
  /** The consumer group decides which partitions this process reads (reported through `ctx.assigned`). */
  readonly assignedPartitions = true;
  readonly name: string;
  readonly topic: string;
  readonly groupId: string;
  readonly cluster: string;
  changelog: KafkaChangelog | undefined;
  private readonly parts: Part[];
  private readonly run: KafkaRun;
  private consumer!: Consumer;
  private holds = 0;
  /** Held from the start of a rebalance until the new assignment arrives; `member` once the drained member confirmed it is still in the group. */
  private rejoining: { since: number; member: boolean } | undefined;
  private drainWaiters: (() => void)[] = [];
  private error: Error | undefined;
  private closing = false;
  /** Set when close() begins: from then on the consumer must not come back. */
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private committing: Promise<void> = Promise.resolve();
  private readonly emptyKeys: null[] = [];

  constructor(
    private readonly ctx: SourceContext,
    private readonly s: Settings,
  ) {
    this.partitions = s.partitions;
    this.name = ctx.name;
    this.topic = s.topic;
    this.groupId = s.groupId;
    this.cluster = s.cluster;
    this.parts = Array.from({ length: s.partitions }, (_, p) => ({
      owned: false, everOwned: false, fetched: [], queued: 0, paused: false, reading: false, wake: undefined, handed: [], rejecting: new Map(),
      through: undefined, committable: undefined, committed: undefined, purged: 0, highWatermark: 0, end: s.ends?.get(p), doneElsewhere: false, ended: new Set(),
    }));
    this.run = KafkaRun.of(ctx.signal, ctx.pipeline);
    this.run.addSource(this);
    ctx.signal.addEventListener('abort', () => this.wakeAll(), { once: true });
  }

  async start(consumer: Consumer): Promise<void> {
    this.consumer = consumer;
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      // A restart kafkajs scheduled before close() ran joins anyway: leave at once, or it would hold partitions unread.
      if (this.closed) void consumer.disconnect().catch(() => {});
      else this.assigned(e.payload.memberAssignment[this.topic] ?? []);
    });
    consumer.on(END_BATCH_PROCESS, (e) => {
      const through = positionAfterSkippedBatch(e);
      if (through !== undefined && !this.rejoining) this.enqueue(e.payload.partition, [], through, e.payload.highWatermark);
    });
    consumer.on(CRASH, (e) => {
      // kafkajs restarts after any error its retries gave up on; only a retriable root cause (the broker away) is worth it.
      // Anything else (a batch that does not decompress) would fail the same way forever: the run fails, naming it.
      const cause = rootCause(e.payload.error);
      if ((cause as { type?: string }).type === 'FENCED_INSTANCE_ID') {
        this.failWith(new Error(`kafka source ${this.name}: another consumer joined group ${this.groupId} as instance ${this.groupInstanceId}; each process needs its own SENSEI_INSTANCE_ID (or group_instance_id)`));
        return;
      }
      if (!e.payload.restart || (cause as { retriable?: boolean }).retriable !== true) {
        this.failWith(new Error(`kafka source ${this.name}: consumer failed: ${cause.message}`));
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: this.s.reset === 'earliest' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }) => {
        if (this.rejoining) return;
        this.enqueue(batch.partition, batch.messages, Number(batch.lastOffset()) + 1, batch.highWatermark);
      },
    });
    if (!this.run.exactlyOnce) this.timers.push(setInterval(() => void this.commitAcknowledged(), this.s.commitIntervalMs));
    if (this.s.ends) this.timers.push(setInterval(() => void this.checkDoneElsewhere(), 1000));
    if (this.s.purgeIntervalMs !== undefined) this.timers.push(setInterval(() => void this.purgeCommitted(), this.s.purgeIntervalMs));
  }

  /**
   * A repartition topic is the pipeline's own: once the group committed an
   * offset, no one reads the records before it again (the new owner of a
   * partition starts at the committed offset, its state comes from the
   * changelogs), so they are deleted, as Kafka Streams purges its own.
   */
  private async purgeCommitted(): Promise<void> {
    const partitions = this.parts.flatMap((p, partition) => (p.committed !== undefined && p.committed > p.purged ? [{ partition, offset: String(p.committed) }] : []));
    if (partitions.length === 0 || this.closing) return;
    try {
      await this.s.admin.deleteTopicRecords({ topic: this.topic, partitions });
      for (const { partition, offset } of partitions) this.parts[partition]!.purged = Number(offset);
    } catch {
      // A partition whose leader moves, or a broker away: the next interval purges it.
    }
  }

  private enqueue(partition: number, messages: KafkaMessage[], through: number, highWatermark: string): void {
    const p = this.parts[partition];
    if (!p?.owned) return;
    p.highWatermark = Number(highWatermark);
    let list = messages;
    if (p.end !== undefined) {
      // A bounded run reads nothing at or past the end it saw at the start.
      if (list.length > 0 && Number(list[list.length - 1]!.offset) >= p.end) list = list.filter((m) => Number(m.offset) < p.end!);
      through = Math.min(through, p.end);
    }
    p.fetched.push({ messages: list, next: 0, through });
    p.queued += list.length;
    if (!p.paused && p.queued >= this.s.bufferRecords) {
      p.paused = true;
      this.consumer.pause([{ topic: this.topic, partitions: [partition] }]);
    }
    this.notify(p);
  }

  // ---- reads ----------------------------------------------------------------

  async read(partition: number, max: number): Promise<SourceBatch | undefined> {
    const p = this.parts[partition]!;
    for (;;) {
      if (this.error) throw this.error;
      if (this.ctx.signal.aborted || this.closing) return undefined;
      if (this.exhausted(p)) return undefined;
      if (!p.owned || this.holds > 0 || p.fetched.length === 0) {
        await new Promise<void>((resolve) => (p.wake = resolve));
        continue;
      }
      p.reading = true;
      try {
        const batch = await this.take(partition, p, max);
        if (batch) return batch;
      } finally {
        p.reading = false;
        this.checkDrained();
      }
    }
  }

  private exhausted(p: Part): boolean {
    if (this.s.exchangeEnds !== undefined) return p.owned && p.fetched.length === 0 && p.ended.size >= this.s.exchangeEnds;
    if (p.end === undefined) return false;
    if (p.doneElsewhere) return true;
    return p.owned && p.fetched.length === 0 && p.through !== undefined && p.through >= p.end;
  }

  private async take(partition: number, p: Part, max: number): Promise<SourceBatch | undefined> {
    const taken: KafkaMessage[] = [];
    while (taken.length < max && p.fetched.length > 0) {
      const f = p.fetched[0]!;
      const n = Math.min(max - taken.length, f.messages.length - f.next);
      for (let i = 0; i < n; i++) taken.push(f.messages[f.next + i]!);
      f.next += n;
      if (f.next < f.messages.length) {
        p.through = Number(taken[taken.length - 1]!.offset) + 1;
        break;
      }
      p.fetched.shift();
      p.through = f.through;
    }
    p.queued -= taken.length;
    if (p.paused && p.queued < this.s.bufferRecords / 2) {
      p.paused = false;
      this.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
    }
    if (taken.length === 0) return undefined;

    await this.s.values.prepare(taken.map((m) => m.value));
    const offsets: number[] = [];
    const timestamps: number[] = [];
    const good: KafkaMessage[] = [];
    const encoded: Uint8Array[] = [];
    const values: unknown[] = [];
    const rejects: Promise<void>[] = [];
    for (const m of taken) {
      const r = this.s.values.read(m.value);
      const offset = Number(m.offset);
      if ('error' in r) {
        p.rejecting.set(offset, m);
        rejects.push(
          this.ctx
            .reject({ partition, offset, operator: `source:${this.name}`, reason: `${this.topic}/${partition}@${offset}: ${r.error}`, key: m.key?.toString('utf8') ?? null, value: m.value ? { base64: m.value.toString('base64') } : null })
            .finally(() => p.rejecting.delete(offset)),
        );
        continue;
      }
      offsets.push(offset);
      timestamps.push(Number(m.timestamp));
      good.push(m);
      if (this.s.exchangeEnds !== undefined && 'bytes' in r) {
        const upstream = exchangeEnd(r.bytes);
        if (upstream !== undefined) p.ended.add(upstream);
      }
      if ('bytes' in r) encoded.push(r.bytes);
      else values.push(r.value);
    }
    await Promise.all(rejects);
    if (good.length === 0) return undefined;
    p.handed.push({ last: offsets[offsets.length - 1]!, through: p.through!, offsets, messages: good });
    while (this.emptyKeys.length < good.length) this.emptyKeys.push(null);
    const keys = good.length === this.emptyKeys.length ? this.emptyKeys : this.emptyKeys.slice(0, good.length);
    // Key bytes and headers travel with the batch for sinks that pass them through from the workers.
    const rawKeys = good.map((m) => m.key);
    let headers: SourceBatch['headers'];
    for (let i = 0; i < good.length; i++) {
      const h = good[i]!.headers;
      if (h && Object.keys(h).length > 0) (headers ??= new Array(good.length))[i] = h as RecordHeaders;
    }
    const batch: SourceBatch = encoded.length > 0 ? { offsets, timestamps, keys, encoded, rawKeys } : { offsets, timestamps, keys, values, rawKeys };
    if (headers) batch.headers = headers;
    return batch;
  }

  backlog(partition: number): number {
    const p = this.parts[partition]!;
    if (!p.owned || p.through === undefined) return p.queued;
    return Math.max(p.queued, p.highWatermark - p.through + p.queued);
  }

  // ---- acknowledgements and commits ----------------------------------------

  commit(partition: number, offset: number): void {
    const p = this.parts[partition]!;
    while (p.handed.length > 0 && p.handed[0]!.last <= offset) p.committable = p.handed.shift()!.through;
    if (p.handed.length === 0 && !p.reading && p.through !== undefined && p.rejecting.size === 0) p.committable = Math.max(p.committable ?? 0, p.through);
    this.checkDrained();
  }

  positions(): { partition: number; offset: string }[] {
    const out: { partition: number; offset: string }[] = [];
    this.parts.forEach((p, partition) => {
      if (p.owned && p.committable !== undefined && p.committable !== p.committed) out.push({ partition, offset: String(p.committable) });
    });
    return out;
  }

  committed(positions: { partition: number; offset: string }[]): void {
    for (const { partition, offset } of positions) this.parts[partition]!.committed = Number(offset);
  }

  /** At-least-once: commits what is acknowledged (one commit at a time). */
  private commitAcknowledged(): Promise<void> {
    const step = this.committing.then(async () => {
      const positions = this.positions();
      if (positions.length === 0) return;
      try {
        await this.consumer.commitOffsets(positions.map((x) => ({ topic: this.topic, ...x })));
        this.committed(positions);
      } catch {
        // A commit that fails during a rebalance is redone by the drain, or by the next interval.
      }
    });
    this.committing = step;
    return step;
  }

  records(partition: number, offsets: ArrayLike<number>): (InputRecord | undefined)[] {
    const p = this.parts[partition];
    const out = new Array<InputRecord | undefined>(offsets.length);
    if (!p) return out;
    let b = 0;
    let i = 0;
    for (let k = 0; k < offsets.length; k++) {
      const offset = offsets[k]!;
      const rejected = p.rejecting.get(offset);
      if (rejected) {
        out[k] = rejected;
        continue;
      }
      // Offsets come in ascending order; walk the handed-out batches once.
      while (b < p.handed.length && p.handed[b]!.last < offset) {
        b++;
        i = 0;
      }
      const h = p.handed[b];
      if (!h) continue;
      while (i < h.offsets.length && h.offsets[i]! < offset) i++;
      if (h.offsets[i] === offset) out[k] = h.messages[i];
    }
    return out;
  }

  // ---- holds and rebalances -------------------------------------------------

  hold(): Promise<void> {
    this.holds++;
    return this.whenDrained();
  }

  release(): void {
    this.holds--;
    if (this.holds === 0) this.wakeAll();
  }

  drained(): boolean {
    for (const p of this.parts) if (p.reading || p.handed.length > 0 || p.rejecting.size > 0) return false;
    return true;
  }

  private whenDrained(): Promise<void> {
    if (this.closing || this.drained()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private checkDrained(): void {
    if (this.drainWaiters.length > 0 && (this.closing || this.drained())) for (const w of this.drainWaiters.splice(0)) w();
  }

  get groupInstanceId(): string | undefined {
    return this.s.groupInstanceId;
  }

  /** The runtime's assignor, for when this member leads the group (stickyAssigner). */
  get assignor(): GroupAssignor {
    return this.ctx.assignor;
  }

  /** For the sticky assignor: what this member owns now. */
  owned(): Record<string, number[]> {
    const mine: number[] = [];
    this.parts.forEach((p, i) => p.owned && mine.push(i));
    return { [this.topic]: mine };
  }

  /** Before (re)joining the group: stop, drop what was fetched ahead, drain, and commit while still a member. */
  async beforeJoin(membership: Membership): Promise<void> {
    const owning = this.parts.some((p) => p.owned);
    if (!this.rejoining) {
      this.rejoining = { since: performance.now(), member: false };
      this.holds++;
    }
    const resume: number[] = [];
    this.parts.forEach((p, i) => {
      p.fetched = [];
      p.queued = 0;
      if (p.paused) resume.push(i);
      p.paused = false;
    });
    if (resume.length > 0) this.consumer.resume([{ topic: this.topic, partitions: resume }]);
    if (!owning) return;
    await this.whenDrained();
    // Expired before the hook, or during a drain that outlasted the rebalance timeout: the partitions are elsewhere.
    if (membership.lost || !(await membership.confirm())) {
      // Reported at once: the runtime drops their tasks' state, and restores it from the changelogs should they come back.
      const lost = this.parts.flatMap((p, i) => (p.owned ? [i] : []));
      this.forget(lost);
      this.ctx.assigned?.({ pauseMs: 0, kept: [], gained: [], lost });
      if (this.run.exactlyOnce) await this.run.lose(`kafka source ${this.name} lost its consumer-group membership`);
      return;
    }
    this.rejoining.member = true;
    if (this.run.exactlyOnce) await this.run.commit().catch(() => {});
    else await this.commitAcknowledged();
  }

  /** Exactly-once: false from the start of a rebalance until the drained member knows it is still in the group. */
  mayCommit(): boolean {
    return !this.rejoining || this.rejoining.member;
  }

  private assigned(partitions: number[]): void {
    const now = new Set(partitions);
    const report: AssignmentChange = { pauseMs: 0, kept: [], gained: [], lost: [] };
    this.parts.forEach((p, i) => {
      if (p.owned && !now.has(i)) {
        report.lost.push(i);
        this.forget([i]);
      } else if (!p.owned && now.has(i)) {
        report.gained.push(i);
        p.owned = true;
        p.through = undefined;
        p.committable = undefined;
        p.committed = undefined;
        const startAt = this.s.startAt.get(i);
        if (!p.everOwned && startAt !== undefined) {
          this.consumer.seek({ topic: this.topic, partition: i, offset: String(startAt) });
          p.through = startAt;
        }
        p.everOwned = true;
      } else if (p.owned) {
        report.kept.push(i);
      }
    });
    if (this.s.ends) void this.resolvePositions(report.gained);
    if (this.rejoining) {
      report.pauseMs = performance.now() - this.rejoining.since;
      this.rejoining = undefined;
      this.release();
    }
    this.ctx.assigned?.(report);
    this.wakeAll();
  }

  /** Partitions no longer this member's: nothing of their positions is kept. */
  private forget(partitions: number[]): void {
    for (const i of partitions) Object.assign(this.parts[i]!, { owned: false, handed: [], through: undefined, committable: undefined, committed: undefined });
  }

  /** Bounded runs: where newly owned partitions start, so an empty remainder ends at once. */
  private async resolvePositions(partitions: number[]): Promise<void> {
    const pending = partitions.filter((i) => this.parts[i]!.through === undefined);
    if (pending.length === 0) return;
    try {
      const [committed] = await this.s.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      const high = new Map((await retryRetriable(() => this.s.admin.fetchTopicOffsets(this.topic))).map((x) => [x.partition, Number(x.high)]));
      for (const i of pending) {
        const p = this.parts[i]!;
        if (!p.owned || p.through !== undefined) continue;
        const c = Number(committed?.partitions.find((x) => x.partition === i)?.offset ?? -1);
        // A committed offset outside the log (the topic was recreated, or retention deleted it) is out of range
        // to the broker too: kafkajs then starts from `reset`, and so must the end check, or the run reads nothing.
        const inRange = c >= this.s.lows.get(i)! && c <= high.get(i)!;
        p.through = inRange ? c : this.s.reset === 'earliest' ? this.s.lows.get(i)! : high.get(i)!;
        this.notify(p);
      }
    } catch (e) {
      this.failWith(new Error(`kafka source ${this.name}: cannot read the group's offsets: ${(e as Error).message}`));
    }
  }

  /** Bounded runs: partitions another process finished end here too. */
  private async checkDoneElsewhere(): Promise<void> {
    const waiting = this.parts.filter((p) => !p.owned && !p.doneElsewhere && p.wake);
    if (waiting.length === 0) return;
    try {
      const [committed] = await this.s.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      for (const c of committed?.partitions ?? []) {
        const p = this.parts[c.partition];
        if (p && !p.owned && p.end !== undefined && Number(c.offset) >= p.end) {
          p.doneElsewhere = true;
          this.notify(p);
        }
      }
    } catch {
      // Asked again in a second.
    }
  }

  // ---- plumbing -------------------------------------------------------------

  private notify(p: Part): void {
    const wake = p.wake;
    p.wake = undefined;
    wake?.();
  }

  private wakeAll(): void {
    for (const p of this.parts) this.notify(p);
    this.checkDrained();
  }

  private failWith(e: Error): void {
    this.error ??= e;
    this.wakeAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (!this.run.exactlyOnce) await this.commitAcknowledged();
    this.closing = true;
    this.wakeAll();
    await this.consumer.disconnect().catch(() => {});
    if (this.s.groupInstanceId !== undefined) await releaseCoordinators(this.groupId, this.s.groupInstanceId);
    await this.s.admin.disconnect().catch(() => {});
  }
}

function rootCause(e: Error): Error {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? rootCause(cause) : e;
}
