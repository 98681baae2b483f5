// `lookup`: the operator through the compiler (types, plan, generated continuation, format),
// and the PostgreSQL and Redis lookup clients against the real servers.
import test from 'ava';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { openPostgresLookup } from '../../connectors/postgres/lookup.ts';
import { openRedisLookup } from '../../connectors/redis/lookup.ts';
import { parseTestFile, runTests } from '../../runtime/testing/testing.ts';
import { compile } from '../../src/compile.ts';
import { formatText } from '../../src/format/format.ts';
import { client } from '../redis/helpers.ts';
import { pgUrl, redisUrl } from '../support/services.ts';
import { sql, unique } from './helpers.ts';

const CUSTOMER = { type: 'record', name: 'Customer', fields: [{ name: 'tier', type: 'string' }, { name: 'since', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'credit', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }] }] };

const text = (missing = 'null') => `pipeline lk
schema Order { id: string, customer_id: string }
schema Customer { tier: string, since: timestamp_millis, credit: decimal(10, 2)? }
source orders: Order from datagen { count: 10 }
stream enriched = orders
  | lookup customer: Customer from postgres { query: "select tier, since, credit from customers where id = $1", key: customer_id, on_missing: ${missing} }
  | select { id, tier: customer${missing === 'null' ? '?' : ''}.tier }
sink enriched to stdout { format: json }
`;

test('lookup type-checks, adds a nullable record field and compiles to a continuation with its plan entry', (t) => {
  const r = compile({ entry: 'lk.sensei', files: new Map([['lk.sensei', text()]]), connectors: builtinConnectorSpecs() });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  const chain = r.plan!.chains[0]!;
  t.regex(chain.code, /chain\.continuations = \[c0\];/);
  t.like(chain.lookups![0], { id: 'enriched/0:lookup', name: 'customer', connector: 'postgres', keySchema: 'string', options: { on_missing: 'null', cache_size: 100000 } });
  const lookupOp = r.typed!.streams[0]!.operators[0]!;
  t.deepEqual(lookupOp.output.fields.at(-1)!.type.kind, 'union');
  // With on_missing: drop the field is not nullable, so `customer.tier` needs no `?.`.
  const dropped = compile({ entry: 'lk.sensei', files: new Map([['lk.sensei', text('drop')]]), connectors: builtinConnectorSpecs() });
  t.deepEqual(dropped.diagnostics.filter((d) => d.severity === 'error'), []);
});

test('lookup errors: no key, a non-scalar key, a field name in use, a sink-only option', (t) => {
  const errors = (op: string) => compile({
    entry: 'e.sensei',
    files: new Map([['e.sensei', `pipeline e\nschema O { id: string, tags: array<string> }\nschema C { tier: string }\nsource o: O from datagen {}\nstream s = o | ${op}\nsink s to stdout {}\n`]]),
    connectors: builtinConnectorSpecs(),
  }).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`);
  t.deepEqual(errors('lookup c: C from postgres { query: "select 1" }'), ['missing-option: `lookup` needs the option `key`: an expression giving the key to look up, e.g. `key: customer_id`']);
  t.deepEqual(errors('lookup c: C from postgres { query: "q $1", key: tags }'), ['type-mismatch: a lookup key must be a string, uuid, int, long, boolean or enum, not array<string>']);
  t.deepEqual(errors('lookup id: C from postgres { query: "q $1", key: id }'), ['duplicate-field: the record already has a field `id`']);
  t.deepEqual(errors('lookup c: C from postgres { query: "q $1", key: id, table: "t" }'), ['unknown-option: option `table` of `postgres` applies to a sink, not to a lookup']);
});

test('the formatter keeps a lookup, its options one per line when long, and is stable', (t) => {
  const once = formatText('lk.sensei', text()).text!;
  t.regex(once, /\| lookup customer: Customer from postgres \{\n\s+query: "select tier, since, credit from customers where id = \$1",\n\s+key: customer_id,\n\s+on_missing: null\n\s+\}/);
  t.is(formatText('lk.sensei', once).text, once);
});

test('`sensei test` runs a plan with a lookup offline, on the results its file gives (test/runtime/testing-lookups.test.ts has the rest)', async (t) => {
  const r = compile({ entry: 'lk.sensei', files: new Map([['lk.sensei', text()]]), connectors: builtinConnectorSpecs() });
  const file = parseTestFile(`
cases:
  - name: no server
    lookups: { customer: { c1: { tier: GOLD, since: 0, credit: 1.5 }, c2: null } }
    input: { orders: [{ id: o1, customer_id: c1 }, { id: o2, customer_id: c2 }] }
    expect: { enriched: [{ id: o1, tier: GOLD }, { id: o2, tier: null }] }
`, 'lk.test.yaml');
  const result = await runTests(r.plan!, file);
  t.deepEqual(result.cases[0]!.failures, []);
});

test('postgres lookup client: one query per batch of missing keys, typed results, cache hits, misses as null', async (t) => {
  const table = unique('customers');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, tier text, since timestamptz, credit numeric(10,2))`);
  await sql(`INSERT INTO ${table} VALUES ('c1', 'GOLD', '2024-01-02T03:04:05.5Z', 12.5), ('c2', 'SILVER', '2023-06-01T00:00:00Z', NULL)`);
  const lookup = await openPostgresLookup({
    pipeline: 'p', id: 's/0:lookup', keySchema: 'string', schema: CUSTOMER,
    options: { url: pgUrl(), query: `select tier, since, credit from ${table} where id = $1`, pool_size: 2, cache_size: 100, cache_ttl: 60_000 },
  });
  try {
    const first = await lookup.lookup(['c2', 'nope', 'c1', null, 'c2']);
    t.deepEqual(first, [
      { tier: 'SILVER', since: Date.UTC(2023, 5, 1), credit: null }, null,
      { tier: 'GOLD', since: Date.UTC(2024, 0, 2, 3, 4, 5, 500), credit: 12.5 }, null,
      { tier: 'SILVER', since: Date.UTC(2023, 5, 1), credit: null },
    ]);
    await sql(`UPDATE ${table} SET tier = 'CHANGED'`);
    // Cached (hits and the miss) for the TTL.
    t.deepEqual((await lookup.lookup(['c1', 'nope'])).map((r) => (r as { tier: string } | null)?.tier ?? null), ['GOLD', null]);
  } finally {
    await lookup.close();
  }
  const e = await t.throwsAsync(openPostgresLookup({
    pipeline: 'p', id: 's/0:lookup', keySchema: 'string', schema: CUSTOMER,
    options: { url: pgUrl(), query: `select tier, since from ${table} where id = $1`, pool_size: 1, cache_size: 0, cache_ttl: 0 },
  }));
  t.regex(e!.message, /the query returns no column "credit" for field credit/);
});

test('redis lookup client: GET of JSON and HGETALL, pipelined, missing keys as null', async (t) => {
  const p = unique('lk');
  const redis = client();
  await redis.set(`${p}:c1`, JSON.stringify({ tier: 'GOLD', since: '2024-01-02T03:04:05.500Z', credit: 12.5, extra: 'ignored' }));
  await redis.hset(`${p}:h1`, { tier: 'SILVER', since: String(Date.UTC(2023, 5, 1)) });
  redis.disconnect();
  const get = await openRedisLookup({ pipeline: 'p', id: 'l', keySchema: 'string', schema: CUSTOMER, options: { url: redisUrl(), read: 'get', key: '', cache_size: 10, cache_ttl: 1000 } });
  const hash = await openRedisLookup({ pipeline: 'p', id: 'l', keySchema: 'string', schema: CUSTOMER, options: { url: redisUrl(), read: 'hgetall', key: '', cache_size: 10, cache_ttl: 1000 } });
  try {
    t.deepEqual(await get.lookup([`${p}:c1`, `${p}:none`]), [{ tier: 'GOLD', since: Date.UTC(2024, 0, 2, 3, 4, 5, 500), credit: 12.5 }, null]);
    t.deepEqual(await hash.lookup([`${p}:h1`, `${p}:none`]), [{ tier: 'SILVER', since: Date.UTC(2023, 5, 1), credit: null }, null]);
  } finally {
    await get.close();
    await hash.close();
  }
});
