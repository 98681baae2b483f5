/**
 * The Redis sink. Workers encode records as JSON lines; each record becomes
 * one command (plus `PEXPIRE`/`HDEL` for hashes), and everything waiting
 * goes out as one pipeline at a time, so a partition's records apply in
 * order. While Redis is unreachable ioredis reconnects with our backoff and
 * holds the commands (resending those in flight when the connection broke):
 * writes wait, and the runtime's bound on unacknowledged batches stops the
 * sources. A reply about the server rather than the command (`BUSY`,
 * `LOADING`, `READONLY`, `OOM`…, reply.ts) is waited out the same way,
 * with our backoff, until the run stops. SET, HSET and DEL are idempotent;
 * XADD and PUBLISH sent again may repeat (at-least-once). A command Redis
 * rejects for its data (`WRONGTYPE`…) makes its record a dead letter with
 * Redis's error; a reply no command could overcome (`NOAUTH`, `NOPERM`…)
 * stops the run.
 */
import { Redis } from 'ioredis';
import { recordNode } from '../../src/formats/schema.ts';
import { hasWideDecimals } from '../../src/formats/json-codec.ts';
import type { DeadLetter, EncodedBatch, SinkContext, SinkWriter } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { durationOption } from '../options.ts';
import { Backoff, retryPolicy } from '../retry.ts';
import { classifyRedisError } from './reply.ts';
import { redisSpec } from './spec.ts';
import { parseJsonValue, stringifyJson } from '../../src/formats/json-text.ts';

type Command = (string | number)[];

interface Pending {
  batch: EncodedBatch;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** The commands of one record, and where it came from (for a dead letter). */
interface RecordCommands {
  commands: Command[];
  line: string;
  offset: number;
  source: string;
  partition: number;
}

/** A field value as Redis stores it: strings as they are, other scalars as text, nested values as JSON. */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? stringifyJson(v) : String(v);
}

/** `order:{id}` → a function of the record; throws at start on a field the stream does not have. */
export function keyTemplate(template: string, fields: readonly string[]): { build: (record: Record<string, unknown>) => string; constant: boolean } {
  const parts = template.split(/(\{[^{}]+\})/).filter((p) => p !== '');
  const pieces = parts.map((p) => {
    if (!/^\{[^{}]+\}$/.test(p)) return p;
    const name = p.slice(1, -1);
    if (!fields.includes(name)) throw new Error(`redis: key ${JSON.stringify(template)} uses {${name}}, which is not a field of the stream (${fields.join(', ')})`);
    return { name };
  });
  return {
    constant: pieces.every((p) => typeof p === 'string'),
    build: (record) => pieces.map((p) => (typeof p === 'string' ? p : text(record[p.name]))).join(''),
  };
}

export function redisUrl(options: OptionReader): string {
  return options.optionalString('url') ?? process.env.SENSEI_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A client that never gives up a command: it waits for the reconnection (our backoff) instead. */
export function newRedis(url: string, ctx: { options: SinkContext['options'] }): Redis {
  const policy = retryPolicy(ctx.options);
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(times - 1, 20)),
  });
  // Connection errors surface as waiting commands; the event only needs a listener.
  redis.on('error', () => {});
  return redis;
}

export async function openRedisSink(ctx: SinkContext): Promise<SinkWriter> {
  const options = new OptionReader(redisSpec, ctx.options);
  const fields = recordNode(ctx.schema).fields.map((f) => f.name);
  const command = options.oneOf('command', ['set', 'hset', 'xadd', 'publish'] as const);
  const key = keyTemplate(options.string('key'), fields);
  const valueField = options.optionalString('value_field');
  const deleteField = options.optionalString('delete_field');
  for (const [name, f] of [['value_field', valueField], ['delete_field', deleteField]] as const) {
    if (f !== undefined && !fields.includes(f)) throw new Error(`redis: ${name} ${f} is not a field of the stream`);
  }
  if (valueField !== undefined && command !== 'set') throw new Error('redis: value_field applies to command set');
  if (deleteField !== undefined && command !== 'set' && command !== 'hset') throw new Error('redis: delete_field applies to commands set and hset');
  const redis = newRedis(redisUrl(options), ctx);
  redis.connect().catch(() => {});
  return new RedisSink(ctx, redis, {
    command, key, valueField, deleteField,
    ttl: durationOption(ctx.options, 'ttl', '0ms'),
    maxlen: options.number('maxlen'),
    fields: fields.filter((f) => f !== deleteField),
    exactFractions: hasWideDecimals(recordNode(ctx.schema)),
  });
}

interface RedisSinkSettings {
  command: 'set' | 'hset' | 'xadd' | 'publish';
  key: ReturnType<typeof keyTemplate>;
  valueField: string | undefined;
  deleteField: string | undefined;
  ttl: number;
  maxlen: number;
  fields: string[];
  /** Decimals past 15 digits are read from the line's digits (json-text.ts). */
  exactFractions: boolean;
}

class RedisSink implements SinkWriter {
  readonly format = 'json';
  private readonly queue: Pending[] = [];
  private busy = false;
  private failed: Error | undefined;
  private readonly decoder = new TextDecoder();
  private readonly backoff: Backoff;
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly ctx: SinkContext,
    private readonly redis: Redis,
    private readonly s: RedisSinkSettings,
  ) {
    this.backoff = new Backoff(retryPolicy(ctx.options), ctx.signal, `redis ${ctx.id}`, ctx.outage);
  }

  write(batch: EncodedBatch): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.kick();
    });
  }

  async close(): Promise<void> {
    while (!this.failed && (this.busy || this.queue.length > 0)) await new Promise<void>((r) => this.idle.push(r));
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private kick(): void {
    if (this.busy || this.queue.length === 0 || this.failed) return;
    this.busy = true;
    const taken = this.queue.splice(0);
    this.deliver(taken.flatMap((p) => this.commands(p.batch))).then(
      () => {
        for (const p of taken) p.resolve();
        this.busy = false;
        for (const r of this.idle.splice(0)) r();
        this.kick();
      },
      (e: Error) => {
        this.failed = e;
        for (const p of [...taken, ...this.queue.splice(0)]) p.reject(e);
        this.busy = false;
        for (const r of this.idle.splice(0)) r();
      },
    );
  }

  private commands(batch: EncodedBatch): RecordCommands[] {
    const { s } = this;
    const out: RecordCommands[] = [];
    const parse = !s.key.constant || s.command === 'hset' || s.command === 'xadd' || s.valueField !== undefined || s.deleteField !== undefined;
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.ends[i]!;
      const line = this.decoder.decode(batch.data.subarray(start, end - 1));
      start = end;
      const record = parse ? (parseJsonValue(line, s.exactFractions) as Record<string, unknown>) : {};
      const key = s.key.build(record);
      const commands: Command[] = [];
      if (s.deleteField !== undefined && record[s.deleteField] === true) {
        commands.push(['del', key]);
      } else if (s.command === 'set') {
        const value = s.valueField === undefined ? line : text(record[s.valueField]);
        commands.push(s.ttl > 0 ? ['set', key, value, 'PX', s.ttl] : ['set', key, value]);
      } else if (s.command === 'hset') {
        const nulls = s.fields.filter((f) => record[f] === null || record[f] === undefined);
        const set = s.fields.filter((f) => !nulls.includes(f)).flatMap((f) => [f, text(record[f])]);
        if (set.length > 0) commands.push(['hset', key, ...set]);
        if (nulls.length > 0) commands.push(['hdel', key, ...nulls]);
        if (s.ttl > 0) commands.push(['pexpire', key, s.ttl]);
      } else if (s.command === 'xadd') {
        const entry = s.fields.filter((f) => record[f] !== null && record[f] !== undefined).flatMap((f) => [f, text(record[f])]);
        commands.push(['xadd', key, ...(s.maxlen > 0 ? ['MAXLEN', '~', s.maxlen] : []), '*', ...entry]);
      } else {
        commands.push(['publish', key, line]);
      }
      out.push({ commands, line, offset: batch.offsets[i]!, source: batch.source, partition: batch.partition });
    }
    return out;
  }

  /**
   * Sends the records' commands as one pipeline. A command the server could
   * not take (a broken connection, a script running, the dataset loading…)
   * is sent again after a backoff, and every command after it too, even
   * those that succeeded meanwhile, so a partition's commands still apply
   * in order.
   */
  private async deliver(records: RecordCommands[]): Promise<void> {
    let todo = records.flatMap((r) => r.commands.map((c) => ({ record: r, command: c })));
    const rejected = new Map<RecordCommands, string>();
    while (todo.length > 0) {
      let results: [Error | null, unknown][];
      try {
        results = (await this.redis.pipeline(todo.map((t) => t.command)).exec()) ?? [];
      } catch (e) {
        await this.backoff.wait(e as Error);
        continue;
      }
      let resend = todo.length;
      let cause: Error | undefined;
      for (let i = 0; i < todo.length && cause === undefined; i++) {
        const error = results[i]?.[0] ?? (results[i] ? null : new Error('no reply'));
        if (!error) continue;
        const kind = classifyRedisError(error);
        if (kind === 'fatal') throw new Error(`redis ${this.ctx.id}: ${error.message}`);
        if (kind === 'transient') {
          resend = i;
          cause = error;
        } else if (!rejected.has(todo[i]!.record)) {
          rejected.set(todo[i]!.record, error.message);
        }
      }
      todo = todo.slice(resend);
      if (cause) await this.backoff.wait(cause);
      else this.backoff.reset();
    }
    if (rejected.size > 0) await this.reject([...rejected]);
  }

  private async reject(rows: [RecordCommands, string][]): Promise<void> {
    const time = new Date().toISOString();
    const letters: DeadLetter[] = rows.map(([r, reason]) => ({
      pipeline: this.ctx.pipeline, source: r.source, partition: r.partition, offset: r.offset, operator: this.ctx.id,
      reason: `Redis rejected ${r.commands.map((c) => String(c[0]).toUpperCase()).join('+')}: ${reason}`, key: null, value: parseJsonValue(r.line), time,
    }));
    const sinkReject = this.ctx.reject;
    if (!sinkReject) throw new Error(`${letters[0]!.reason} (source ${letters[0]!.source}, partition ${letters[0]!.partition}, offset ${letters[0]!.offset})`);
    await sinkReject(letters);
  }
}
