// Longs and decimals through a real PostgreSQL table: the sink writes bigint, timestamp and numeric(38, s) columns exactly over their
// whole range (read back as text by the server), and the lookup reads int8 and numeric columns back exactly.
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

/** A decimal's run-time value: a number up to 15 significant digits, its text beyond (src/plan/decimal.ts). */
function runtimeDecimal(text: string): number | string {
  const significant = text.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
  return significant <= 15 ? Number(text) : text;
}

/** unscaled × 10^-scale as PostgreSQL prints numeric(p, scale): every place written. */
function numericText(u: bigint, scale: number): string {
  const digits = (u < 0n ? -u : u).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return u < 0n ? `-${text}` : text;
}

/** The same value without trailing fractional zeros, as the runtime writes it. */
const canonical = (text: string) => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);

test('numeric(38, s) columns hold decimals exactly, both ways', async (t) => {
  const table = unique('exact_decimals');
  const limit = 10n ** 38n - 1n;
  const wide = [limit, -limit, 1n, -1n, 0n, 10n ** 15n, 10n ** 15n + 1n, ...fc.sample(fc.bigInt({ min: -limit, max: limit }), 40)];
  const narrow = fc.sample(fc.bigInt({ min: -(10n ** 12n) + 1n, max: 10n ** 12n - 1n }), wide.length);
  const schema = { type: 'record', name: 'Row', fields: [
    { name: 'k', type: 'int' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 10 } },
    { name: 'whole', type: { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 0 } },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
  ] };
  const texts = wide.map((u, k) => ({ amount: numericText(u, 10), whole: numericText(u, 0), price: numericText(narrow[k]!, 2) }));
  try {
    const sink = await openSink(schema, { table, create: true, exactly_once: false });
    await sink.write(texts.map((r, k) => ({ k, amount: runtimeDecimal(canonical(r.amount)), whole: runtimeDecimal(r.whole), price: runtimeDecimal(canonical(r.price)) })));
    await sink.writer.close();
    t.deepEqual(sink.letters, []);
    const rows = await sql<{ amount: string; whole: string; price: string }>(`SELECT amount::text, whole::text, price::text FROM ${table} ORDER BY k`);
    t.deepEqual(rows, texts);

    const lookup = await openPostgresLookup({
      pipeline: 'exact', id: 'l', options: { url: pgUrl(), query: `select amount, whole, price from ${table} where k = $1`, cache_size: 0 },
      schema: { ...schema, name: 'Found', fields: schema.fields.slice(1) }, keySchema: 'int',
    });
    try {
      const found = (await lookup.lookup(texts.map((_, k) => k))) as Record<string, unknown>[];
      t.deepEqual(found, texts.map((r) => ({ amount: runtimeDecimal(canonical(r.amount)), whole: runtimeDecimal(r.whole), price: runtimeDecimal(canonical(r.price)) })));
    } finally {
      await lookup.close();
    }
  } finally {
    await sql(`DROP TABLE IF EXISTS ${table}`);
  }
});
