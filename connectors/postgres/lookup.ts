/**
 * The PostgreSQL lookup: the user's query for one key (`$1`) runs for all
 * keys a batch misses in the cache, in one statement:
 *
 *   SELECT k.sensei_i, q.* FROM unnest($1::text[]) WITH ORDINALITY AS k(sensei_key, sensei_i)
 *   CROSS JOIN LATERAL (SELECT * FROM (<query, $1 → k.sensei_key>) s LIMIT 1) q
 *
 * At open the query's columns are read (a `LIMIT 0` run) and every field of
 * the declared record must be one of them, so a typo fails the start, not
 * the first batch. Values become runtime values through their JSON form
 * (json-codec.ts): numbers from int8/numeric text, timestamps and dates
 * from PostgreSQL's text form, records and maps from json/jsonb.
 * A pool per worker (`pool_size`, or the share of the process's connection
 * budget), unnamed statements unless
 * `prepared_statements`, an optional read replica (replica.ts) within
 * `max_staleness`, else the primary.
 */
import pg from 'pg';
import { fromJson } from '../../src/formats/json-codec.ts';
import { recordNode, schemaNode, unwrapNullable, type SchemaNode } from '../../src/formats/schema.ts';
import type { LookupClient, LookupContext } from '../../src/spi/connector.ts';
import { OptionReader } from '../options.ts';
import { LookupCache, type LookupKey } from '../lookup-cache.ts';
import { durationOption } from '../options.ts';
import { Backoff, retryPolicy } from '../retry.ts';
import { classify, pgMessage } from './sink.ts';
import { ReplicaRoute } from './replica.ts';
import { postgresSpec } from './spec.ts';
import { longValue } from '../../src/formats/long.ts';

/** Text parsers for the types whose JS form pg would guess (dates in local time, int8 as text anyway). */
const RAW = new Set([20, 1700, 1082, 1083, 1114, 1184, 1266]);
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (RAW.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format ?? 'text')),
};

const OID = { int8: 20, timestamp: 1114, timestamptz: 1184, bytea: 17 } as const;

function keyType(node: SchemaNode): string {
  switch (unwrapNullable(node).node.kind) {
    case 'int': return 'integer';
    case 'long': return 'bigint';
    case 'boolean': return 'boolean';
    case 'uuid': return 'uuid';
    default: return 'text';
  }
}

/** The user's `$1` (not `$10`) replaced by the key column of the lateral join. */
export function lateralQuery(query: string, keySql: string): string {
  if (!/\$1(?!\d)/.test(query)) throw new Error('postgres lookup: the query must use $1 for the key');
  if (/\$(?:[2-9]|1\d)/.test(query)) throw new Error('postgres lookup: the query may use only $1 (the key)');
  const inner = query.trim().replace(/;\s*$/, '').replace(/\$1(?!\d)/g, 'k.sensei_key');
  return `SELECT k.sensei_i, q.* FROM unnest($1::${keySql}[]) WITH ORDINALITY AS k(sensei_key, sensei_i) CROSS JOIN LATERAL (SELECT * FROM (${inner}) s LIMIT 1) q`;
}

/** A column value (pg's text parsers above) in the JSON form fromJson reads. */
function jsonForm(v: unknown, oid: number): unknown {
  if (v === null) return null;
  switch (oid) {
    // Exact: a bigint past 2^53, as longs are at run time.
    case OID.int8: return longValue(BigInt(v as string));
    case OID.timestamp: case OID.timestamptz: {
      // `2024-05-01 10:00:00.25+00` → ISO-8601; without a zone it is UTC.
      const m = /^(\S+) (\S+?)([+-]\d{2})(:?\d{2})?$/.exec(v as string);
      if (m) return `${m[1]}T${m[2]}${m[3]}:${(m[4] ?? '00').replace(':', '')}`;
      return (v as string).replace(' ', 'T') + 'Z';
    }
    case OID.bytea: return (v as Buffer).toString('hex');
    default: return v;
  }
}

/**
 * A named statement missing on the server (26000) or already there (42P05): the
 * connection's session changed under it, as behind PgBouncer in transaction mode.
 */
function preparedHint(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code !== '26000' && code !== '42P05') return '';
  return '; prepared_statements: true needs every query of a connection to run in the same server session, ' +
    'which PgBouncer in transaction mode does not give (before 1.21, or without max_prepared_statements): set prepared_statements: false';
}

export async function openPostgresLookup(ctx: LookupContext): Promise<LookupClient> {
  const options = new OptionReader(postgresSpec, ctx.options);
  const primaryUrl = options.optionalString('url') ?? process.env.SENSEI_PG_URL;
  const replicaUrl = options.optionalString('replica_url');
  const schema = recordNode(ctx.schema);
  const text = lateralQuery(options.string('query'), keyType(schemaNode(ctx.keySchema)));
  // The process's connection budget may allow fewer than `pool_size`; with a replica, its share is split between the two pools.
  const share = Math.min(ctx.connections ?? Number.POSITIVE_INFINITY, (replicaUrl === undefined ? 1 : 2) * options.number('pool_size'));
  const poolOf = (url: string | undefined, max: number) => {
    const p = new pg.Pool({ connectionString: url, max, application_name: `sensei-lookup:${ctx.pipeline}`, types } as pg.PoolConfig);
    // An idle client the server drops reports here; the pool replaces it.
    p.on('error', () => {});
    return p;
  };
  // With a replica, the primary is connected to only when the replica cannot serve.
  let primaryPool: pg.Pool | undefined;
  const primary = () => (primaryPool ??= poolOf(primaryUrl, replicaUrl === undefined ? share : Math.floor(share / 2)));
  const replica = replicaUrl === undefined ? undefined : new ReplicaRoute(poolOf(replicaUrl, Math.ceil(share / 2)), durationOption(ctx.options, 'max_staleness', '5s'));
  await replica?.measure();
  const name = options.boolean('prepared_statements') ? `sensei_lookup_${ctx.id.replace(/\W/g, '_')}` : undefined;
  // Closing the lookup ends an outage wait (the run is stopping).
  const closed = new AbortController();
  const backoff = new Backoff(retryPolicy(ctx.options), closed.signal, `postgres lookup ${ctx.id}`);

  const run = async (keys: unknown[]): Promise<pg.QueryResult> => {
    for (;;) {
      const target = replica ? replica.pick(primary) : { pool: primary(), replica: false };
      try {
        const r = await target.pool.query({ text, values: [keys], ...(name ? { name } : {}) });
        backoff.reset();
        return r;
      } catch (e) {
        if (classify(e) !== 'transient') throw new Error(`postgres lookup ${ctx.id}: ${pgMessage(e)}${name ? preparedHint(e) : ''}`);
        // A replica that fails (away, or cancelling for a recovery conflict): the primary answers at once.
        if (target.replica) {
          replica!.failed();
          continue;
        }
        await backoff.wait(e as Error);
      }
    }
  };

  // The query's columns, once: every declared field must be one of them.
  const described = await run([]);
  const columns = new Map(described.fields.map((f) => [f.name, f.dataTypeID]));
  const missing = schema.fields.find((f) => !columns.has(f.name));
  if (missing) {
    await Promise.all([replica?.close(), primaryPool?.end()]);
    throw new Error(`postgres lookup ${ctx.id}: the query returns no column "${missing.name}" for field ${missing.name} (it returns ${[...columns.keys()].filter((c) => c !== 'sensei_i').join(', ')})`);
  }

  const cache = new LookupCache(options.number('cache_size'), durationOption(ctx.options, 'cache_ttl', '1m'), async (keys: LookupKey[]) => {
    const { rows } = await run(keys);
    const out = new Array<unknown>(keys.length).fill(null);
    for (const row of rows as Record<string, unknown>[]) {
      const json: Record<string, unknown> = {};
      for (const f of schema.fields) json[f.name] = jsonForm(row[f.name], columns.get(f.name)!);
      try {
        out[Number(row.sensei_i) - 1] = fromJson(schema, json, { strict: false });
      } catch (e) {
        throw new Error(`postgres lookup ${ctx.id}: the row for key ${JSON.stringify(keys[Number(row.sensei_i) - 1])} does not fit ${schema.name}: ${(e as Error).message}`);
      }
    }
    return out;
  });
  return {
    lookup: (keys) => cache.lookup(keys),
    ...(replica ? { stats: () => ({ replicaLagMs: replica.lagMs, primaryQueries: replica.primaryQueries }) } : {}),
    close: async () => {
      closed.abort();
      await Promise.all([replica?.close(), primaryPool?.end()]);
    },
  };
}
