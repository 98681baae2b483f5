// Longs through a real PostgreSQL table: the sink writes bigint and timestamp columns exactly over their
// whole range (read back as text by the server), and the lookup reads int8 columns back exactly.
import test from 'ava';
import fc from 'fast-check';
import { openPostgresLookup } from '../../connectors/postgres/lookup.ts';
import { pgUrl } from '../support/services.ts';
import { openSink, sql, unique } from './helpers.ts';

const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;
const runtimeLong = (n: bigint): number | bigint => (n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n);
const SCHEMA = { type: 'record', name: 'Row', fields: [{ name: 'k', type: 'int' }, { name: 'id', type: 'long' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-micros' } }] };

test('bigint columns hold every long exactly, both ways', async (t) => {
  const table = unique('exact_longs');
  const ids = [MIN, MAX, MIN + 1n, MAX - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, -(2n ** 52n) - 1n, 0n, ...fc.sample(fc.bigInt({ min: MIN, max: MAX }), 40)];
  // Timestamps from year 1 to 9999 (PostgreSQL's range), in microseconds.
  const ats = fc.sample(fc.bigInt({ min: -62135596800000000n, max: 253402300799999999n }), ids.length);
  try {
    const sink = await openSink(SCHEMA, { table, create: true, exactly_once: false });
    await sink.write(ids.map((id, k) => ({ k, id: runtimeLong(id), at: runtimeLong(ats[k]!) })));
    await sink.writer.close();
    t.deepEqual(sink.letters, []);
    const rows = await sql<{ k: number; id: string; at: string }>(`SELECT k, id::text AS id, ((extract(epoch FROM at) * 1000000)::numeric(30,0))::text AS at FROM ${table} ORDER BY k`);
    t.deepEqual(rows.map((r) => r.id), ids.map(String));
    t.deepEqual(rows.map((r) => r.at), ats.map(String));

    const lookup = await openPostgresLookup({
      pipeline: 'exact', id: 'l', options: { url: pgUrl(), query: `select id from ${table} where k = $1`, cache_size: 0 },
      schema: { type: 'record', name: 'Found', fields: [{ name: 'id', type: 'long' }] }, keySchema: 'int',
    });
    try {
      const found = (await lookup.lookup(ids.map((_, k) => k))) as { id: number | bigint }[];
      t.deepEqual(found.map((f) => f.id), ids.map(runtimeLong));
    } finally {
      await lookup.close();
    }
  } finally {
    await sql(`DROP TABLE IF EXISTS ${table}`);
  }
});
