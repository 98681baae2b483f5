/**
 * The Redis lookup: the keys a batch misses in the cache are read in one
 * pipeline, `GET` (the value is the record as JSON, as the sink's `set`
 * writes it) or `HGETALL` (a hash field per record field, as `hset` writes
 * it; an empty hash is a missing key). Values become runtime values of the
 * declared record through their JSON form; fields the record does not
 * declare are ignored. A reply about the server (`BUSY`, `LOADING`…,
 * reply.ts) is waited out with backoff; any other error stops the run.
 */
import { recordNode, unwrapNullable, type SchemaNode } from '../../src/formats/schema.ts';
import { fromJson, jsonTextReader } from '../../src/formats/json-codec.ts';
import type { LookupClient, LookupContext } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { LookupCache, type LookupKey } from '../lookup-cache.ts';
import { durationOption } from '../options.ts';
import { Backoff, retryPolicy } from '../retry.ts';
import { classifyRedisError } from './reply.ts';
import { newRedis, redisUrl } from './sink.ts';
import { redisSpec } from './spec.ts';
import { LosslessNumber, parseJson } from '../../src/formats/json-text.ts';
import { isDecimalText } from '../../src/plan/decimal.ts';

/** A hash field (always text) in the JSON form of its declared type. */
function hashValue(node: SchemaNode, text: string): unknown {
  const inner = unwrapNullable(node).node;
  switch (inner.kind) {
    case 'int': case 'float': case 'double':
      return Number(text);
    case 'long': case 'decimal':
      // Read from the digits: a long past 2^53 or a decimal past 15 digits would be rounded by a double.
      return isDecimalText(text) ? new LosslessNumber(text.trim()) : text;
    case 'boolean':
      return text === 'true' || text === '1';
    case 'timestamp-millis': case 'timestamp-micros': case 'date': case 'time-millis': case 'time-micros':
      return /^-?\d+$/.test(text) ? Number(text) : text;
    case 'array': case 'map': case 'record': case 'union':
      return parseJson(text, true);
    default:
      return text;
  }
}

export async function openRedisLookup(ctx: LookupContext): Promise<LookupClient> {
  const options = new OptionReader(redisSpec, ctx.options);
  const schema = recordNode(ctx.schema);
  const read = options.oneOf('read', ['get', 'hgetall'] as const);
  const redis = newRedis(redisUrl(options), ctx);
  await redis.connect().catch(() => {});
  const readJson = jsonTextReader(schema, { strict: false });
  const toRecord = (raw: unknown): unknown => {
    if (read === 'get') return raw === null ? null : readJson(raw as string);
    const hash = raw as Record<string, string>;
    if (Object.keys(hash).length === 0) return null;
    const json: Record<string, unknown> = {};
    for (const f of schema.fields) if (f.name in hash) json[f.name] = hashValue(f.type, hash[f.name]!);
    return fromJson(schema, json, { strict: false });
  };
  // Replies about the server (BUSY, LOADING…) are waited out until the lookup closes; any other error stops the run.
  const stop = new AbortController();
  const backoff = new Backoff(retryPolicy(ctx.options), stop.signal, `redis lookup ${ctx.id}`);
  const replies = async (keys: LookupKey[]): Promise<[Error | null, unknown][]> => {
    for (;;) {
      const pipeline = redis.pipeline();
      for (const k of keys) pipeline[read](String(k));
      const results = (await pipeline.exec()) ?? [];
      const busy = results.find(([error]) => error && classifyRedisError(error) === 'transient')?.[0];
      if (!busy) {
        backoff.reset();
        return results;
      }
      await backoff.wait(busy);
    }
  };
  const cache = new LookupCache(options.number('cache_size'), durationOption(ctx.options, 'cache_ttl', '1m'), async (keys: LookupKey[]) => {
    const results = await replies(keys);
    return keys.map((k, i) => {
      const [error, raw] = results[i] ?? [new Error('no reply'), null];
      if (error) throw new Error(`redis lookup ${ctx.id}: ${read.toUpperCase()} ${String(k)}: ${error.message}`);
      try {
        return toRecord(raw);
      } catch (e) {
        throw new Error(`redis lookup ${ctx.id}: the value of ${String(k)} does not fit ${schema.name}: ${(e as Error).message}`);
      }
    });
  });
  return {
    lookup: (keys) => cache.lookup(keys),
    close: async () => {
      stop.abort();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
