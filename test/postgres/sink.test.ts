// The PostgreSQL sink against the real server: append, upsert, tombstones, table checks,
// rejected rows (named by the COPY error, or found by halving) and the offsets of exactly-once delivery.
import test from 'ava';
import type { PostgresSink } from '../../connectors/postgres/sink.ts';
import { openSink, ORDER, orders, sql, unique } from './helpers.ts';

test('append copies every record and records the last offset of each partition', async (t) => {
  const table = unique('append');
  const pipeline = unique('p');
  const sink = await openSink(ORDER, { table, create: true }, { pipeline });
  await Promise.all([
    sink.write(orders(1500), { partition: 0 }),
    sink.write(orders(500, 1500), { partition: 1, from: 100 }),
    sink.write(orders(1000, 2000), { partition: 0, from: 1500 }),
  ]);
  await sink.writer.close();
  const [count] = await sql<{ n: string; total: string }>(`SELECT count(*) AS n, sum(amount) AS total FROM ${table}`);
  t.is(Number(count!.n), 3000);
  t.is(Number(count!.total), orders(3000).reduce((a, o) => a + o.amount, 0));
  const offsets = await sql<{ partition: number; offset: string }>(`SELECT partition, "offset" FROM sensei_offsets WHERE pipeline = $1 AND sink = 'sink:out:0' AND source = 'in' ORDER BY partition`, [pipeline]);
  t.deepEqual(offsets.map((o) => [o.partition, Number(o.offset)]), [[0, 2499], [1, 599]]);
});

test('records at or below the committed offset are skipped, so a replay writes nothing twice', async (t) => {
  const table = unique('replay');
  const pipeline = unique('p');
  const first = await openSink(ORDER, { table, create: true }, { pipeline });
  await first.write(orders(300), { partition: 0 });
  await first.writer.close();
  // A restarted run reads the partition again from an earlier offset.
  const second = await openSink(ORDER, { table }, { pipeline });
  await second.write(orders(500), { partition: 0 });
  await second.writer.close();
  const rows = await sql<{ id: string; n: string }>(`SELECT id, count(*) AS n FROM ${table} GROUP BY id HAVING count(*) > 1`);
  t.deepEqual(rows, []);
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), 500);
});

test('a reopened sink reports the offsets it holds; opened from the start it forgets them and writes the records again', async (t) => {
  const table = unique('again');
  const pipeline = unique('p');
  const first = await openSink(ORDER, { table, create: true }, { pipeline });
  t.is(first.writer.resumesAfter, undefined);
  await first.write(orders(300), { partition: 0 });
  await first.write(orders(200, 300), { partition: 1 });
  await first.writer.close();
  const second = await openSink(ORDER, { table }, { pipeline });
  t.is(second.writer.resumesAfter?.store, 'table sensei_offsets');
  t.deepEqual([...second.writer.resumesAfter!.positions].sort((a, b) => a.partition - b.partition), [
    { source: 'in', partition: 0, offset: 299 },
    { source: 'in', partition: 1, offset: 199 },
  ]);
  await second.writer.close();
  const third = await openSink(ORDER, { table }, { pipeline, fromStart: true });
  t.is(third.writer.resumesAfter, undefined);
  await third.write(orders(300), { partition: 0 });
  await third.writer.close();
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), 800, 'partition 0 written again');
  const stored = await sql<{ partition: number; offset: string }>('SELECT partition, "offset" FROM sensei_offsets WHERE pipeline = $1', [pipeline]);
  t.deepEqual(stored.map((o) => [o.partition, Number(o.offset)]), [[0, 299]], 'partition 1 forgotten, partition 0 stored again');
});

test('upsert keeps the last record of each key, within a batch and across batches', async (t) => {
  const table = unique('upsert');
  const sink = await openSink(ORDER, { table, create: true, mode: 'upsert', key: 'customer' });
  await sink.write(orders(20), { partition: 0 });
  await sink.write(orders(3, 20), { partition: 0, from: 20 });
  await sink.writer.close();
  const rows = await sql<{ customer: string; id: string }>(`SELECT customer, id FROM ${table} ORDER BY customer`);
  // Customers c0..c6; the last order of each among o0..o22.
  const last = new Map<string, string>();
  for (const o of orders(23)) last.set(o.customer, o.id);
  t.deepEqual(rows.map((r) => [r.customer, r.id]), [...last].sort(([a], [b]) => a.localeCompare(b)));
});

test('upsert onto an existing table uses its primary key; a tombstone deletes the row of its key', async (t) => {
  const table = unique('tomb');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), qty integer, note text DEFAULT 'kept')`);
  await sql(`INSERT INTO ${table} (id, customer, amount, qty) VALUES ('o1', 'old', 1, 1), ('o2', 'old', 2, 2), ('o9', 'old', 9, 9)`);
  const schema = { ...ORDER, fields: [...ORDER.fields, { name: 'deleted', type: 'boolean' }] };
  const sink = await openSink(schema, { table, mode: 'upsert', delete_field: 'deleted' });
  await sink.write([
    { id: 'o1', customer: 'new', amount: 1.5, qty: 3, deleted: false },
    { id: 'o2', customer: 'x', amount: 0, qty: 0, deleted: true },
    { id: 'o3', customer: 'new', amount: 3, qty: 3, deleted: false },
    { id: 'o3', customer: 'x', amount: 0, qty: 0, deleted: true },
    { id: 'o4', customer: 'x', amount: 0, qty: 0, deleted: true },
    { id: 'o4', customer: 'back', amount: 4, qty: 4, deleted: false },
  ]);
  await sink.writer.close();
  const rows = await sql<{ id: string; customer: string; note: string }>(`SELECT id, customer, note FROM ${table} ORDER BY id`);
  t.deepEqual(rows.map((r) => [r.id, r.customer, r.note]), [['o1', 'new', 'kept'], ['o4', 'back', 'kept'], ['o9', 'old', 'kept']]);
});

test('a row the database rejects becomes a dead letter with its error; the other rows are written', async (t) => {
  const table = unique('reject');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) CHECK (amount < 1000), qty integer)`);
  const sink = await openSink(ORDER, { table });
  const rows = orders(1000);
  rows[417]!.amount = 2500;
  rows[900]!.id = 'o3'; // duplicate key
  await sink.write(rows, { partition: 2, from: 5000 });
  await sink.writer.close();
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), 998);
  t.deepEqual(sink.letters.map((l) => [l.offset, l.partition, l.operator]), [[5417, 2, 'sink:out:0'], [5900, 2, 'sink:out:0']]);
  t.regex(sink.letters[0]!.reason, /check constraint .*amount_check.*SQLSTATE 23514/);
  t.deepEqual(sink.letters[0]!.value, { id: 'o417', customer: 'c4', amount: 2500, qty: 2 });
  t.regex(sink.letters[1]!.reason, /duplicate key value violates unique constraint.*SQLSTATE 23505/);
});

test('a third of the rows rejected: each costs one failed COPY, good rows are written once, bad ones are dead letters with the server\'s reason', async (t) => {
  const table = unique('third');
  const pipeline = unique('p');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer varchar(3), amount numeric(12,2) CHECK (amount < 1000), qty integer)`);
  // Every third row is bad, in turn: over the CHECK, too long for its column, a key already taken.
  const rows = orders(900).map((o, i) => {
    if (i % 3 !== 2) return o;
    return [{ ...o, amount: 5000 }, { ...o, customer: 'toolong' }, { ...o, id: `o${i - 2}` }][Math.floor(i / 3) % 3]!;
  });
  const bad = rows.flatMap((_, i) => (i % 3 === 2 ? [i] : []));
  const sink = await openSink(ORDER, { table }, { pipeline });
  await sink.write(rows, { partition: 1, from: 5000 });
  await sink.writer.close();

  const written = await sql<{ id: string; customer: string }>(`SELECT id, customer FROM ${table}`);
  const good = rows.filter((_, i) => i % 3 !== 2);
  t.deepEqual(written.map((r) => `${r.id} ${r.customer}`).sort(), good.map((o) => `${o.id} ${o.customer}`).sort());
  // A duplicate key may surface after a later row's CHECK failure: the letters come in offset order only once sorted.
  const letters = [...sink.letters].sort((a, b) => a.offset - b.offset);
  t.deepEqual(letters.map((l) => l.offset), bad.map((i) => 5000 + i));
  t.deepEqual(letters.map((l) => l.value), bad.map((i) => rows[i]));
  const reasons = letters.map((l) => l.reason);
  t.regex(reasons[0]!, /^PostgreSQL rejected the row: new row for relation .* violates check constraint "third_\w+_amount_check": .*\(SQLSTATE 23514\)$/);
  t.regex(reasons[1]!, /^PostgreSQL rejected the row: value too long for type character varying\(3\) \(column customer, SQLSTATE 22001\)$/);
  t.regex(reasons[2]!, /^PostgreSQL rejected the row: duplicate key value violates unique constraint "third_\w+_pkey": Key \(id\)=\(o6\) already exists\. \(SQLSTATE 23505\)$/);
  // The offset of the last row, a rejected one, is recorded too.
  const offsets = await sql<{ offset: string }>(`SELECT "offset" FROM sensei_offsets WHERE pipeline = $1 AND partition = 1`, [pipeline]);
  t.deepEqual(offsets.map((o) => Number(o.offset)), [5899]);
  // One failed COPY per bad row, naming it; the good rows take one more COPY, and one per 64 rows carried
  // from COPY to COPY (halving took about log2(900) COPYs per bad row).
  const { copies, rejectedCopies } = (sink.writer as PostgresSink).stats;
  t.is(rejectedCopies, bad.length);
  t.true(copies <= bad.length + 1 + Math.ceil(good.length / 64), `${copies} COPYs for ${bad.length} bad rows`);

  // A replay writes nothing and rejects nothing again.
  const again = await openSink(ORDER, { table }, { pipeline });
  await again.write(rows, { partition: 1, from: 5000 });
  await again.writer.close();
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), good.length);
  t.deepEqual(again.letters, []);
});

test('rejected rows spread over a long batch: good rows written once, bad ones dead letters, offsets up to the last row; a replay writes and rejects nothing', async (t) => {
  const table = unique('long');
  const pipeline = unique('p');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text, amount numeric(12,2) CHECK (amount < 10000), qty integer)`);
  const rows = orders(6000).map((o, i) => (i % 10 === 7 ? { ...o, amount: 10000 + i } : o));
  const sink = await openSink(ORDER, { table }, { pipeline });
  await Promise.all([sink.write(rows.slice(0, 3000), { partition: 0 }), sink.write(rows.slice(3000), { partition: 0, from: 3000 })]);
  await sink.writer.close();
  const bad = rows.flatMap((_, i) => (i % 10 === 7 ? [i] : []));
  t.deepEqual(sink.letters.map((l) => l.offset).sort((a, b) => a - b), bad);
  const [row] = await sql<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${table}`);
  t.deepEqual([Number(row!.n), Number(row!.ids)], [rows.length - bad.length, rows.length - bad.length]);
  const offsets = await sql<{ offset: string }>(`SELECT "offset" FROM sensei_offsets WHERE pipeline = $1`, [pipeline]);
  t.deepEqual(offsets.map((o) => Number(o.offset)), [5999]);

  const again = await openSink(ORDER, { table }, { pipeline });
  await again.write(rows, { partition: 0 });
  await again.writer.close();
  t.deepEqual(again.letters, []);
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), rows.length - bad.length);
});

test('a connection lost while rejected rows are sifted: the write starts over and ends with every good row once', async (t) => {
  const table = unique('sift_lost');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text, amount numeric(12,2) CHECK (amount < 10000), qty integer)`);
  const rows = orders(3000).map((o, i) => (i % 3 === 1 ? { ...o, amount: 10000 + i } : o));
  const bad = rows.flatMap((_, i) => (i % 3 === 1 ? [i] : []));
  const sink = await openSink(ORDER, { table, retry_backoff: '10ms', retry_max_backoff: '50ms' });
  const stats = (sink.writer as PostgresSink).stats;
  const written = sink.write(rows);
  while (stats.rejectedCopies < 20) await new Promise((r) => setTimeout(r, 2));
  // The sink's own connection: the only one whose statements name this table.
  const [killed] = await sql<{ n: string }>(`SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%${table}%`]);
  await written;
  await sink.writer.close();
  t.is(Number(killed!.n), 1);
  // The sifting began again: some bad rows were named twice.
  t.true(stats.rejectedCopies > bad.length, `${stats.rejectedCopies} failed COPYs for ${bad.length} bad rows`);
  const [row] = await sql<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${table}`);
  t.deepEqual([Number(row!.n), Number(row!.ids)], [rows.length - bad.length, rows.length - bad.length]);
  t.deepEqual([...new Set(sink.letters.map((l) => l.offset))].sort((a, b) => a - b), bad);
});

test('a rejection naming no row (a foreign key, checked after the COPY) halves the rows until the failing one is alone', async (t) => {
  const parent = unique('customer');
  const table = unique('fk');
  // Customers c0..c5: the orders of c6 have none.
  await sql(`CREATE TABLE ${parent} (name text PRIMARY KEY); INSERT INTO ${parent} SELECT 'c' || i FROM generate_series(0, 5) i`);
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer text REFERENCES ${parent}, amount numeric(12,2), qty integer)`);
  const sink = await openSink(ORDER, { table });
  await sink.write(orders(20));
  await sink.writer.close();
  t.deepEqual(sink.letters.map((l) => l.offset), [6, 13]);
  t.regex(sink.letters[0]!.reason, /violates foreign key constraint .*\(SQLSTATE 23503\)$/);
  t.is(Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n), 18);
});

test('upsert: a value too long for its column is a dead letter, named by the staging COPY; the other rows are merged', async (t) => {
  const table = unique('upsert_reject');
  await sql(`CREATE TABLE ${table} (id text PRIMARY KEY, customer varchar(3), amount numeric(12,2), qty integer)`);
  await sql(`INSERT INTO ${table} VALUES ('o4', 'old', 0, 0), ('o5', 'old', 0, 0)`);
  const rows = orders(10).map((o, i) => (i === 4 || i === 7 ? { ...o, customer: `long-${i}` } : o));
  const sink = await openSink(ORDER, { table, mode: 'upsert' });
  await sink.write(rows, { from: 100 });
  await sink.writer.close();
  t.deepEqual(sink.letters.map((l) => l.offset), [104, 107]);
  t.regex(sink.letters[0]!.reason, /^PostgreSQL rejected the row: value too long for type character varying\(3\) \(column customer, SQLSTATE 22001\)$/);
  const written = await sql<{ id: string; customer: string }>(`SELECT id, customer FROM ${table}`);
  t.deepEqual(written.map((r) => `${r.id} ${r.customer}`).sort(), ['o0 c0', 'o1 c1', 'o2 c2', 'o3 c3', 'o4 old', 'o5 c5', 'o6 c6', 'o8 c1', 'o9 c2']);
});

test('without create, a missing table is an error at start', async (t) => {
  const table = unique('missing');
  const e = await t.throwsAsync(openSink(ORDER, { table }));
  t.regex(e!.message, new RegExp(`table ${table} does not exist \\(set create: true`));
});

test('a column whose type cannot hold the field is an error naming the column', async (t) => {
  const table = unique('mismatch');
  await sql(`CREATE TABLE ${table} (id text, customer text, amount integer, qty integer)`);
  const e = await t.throwsAsync(openSink(ORDER, { table }));
  t.regex(e!.message, /column "amount" has type integer, which cannot hold decimal\(12, 2\) \(expected numeric\(12,2\)\), for field amount/);
});

test('a field without a column, and a NOT NULL column no field fills, are errors naming the column', async (t) => {
  const noColumn = unique('nocol');
  await sql(`CREATE TABLE ${noColumn} (id text, customer text, amount numeric)`);
  const e1 = await t.throwsAsync(openSink(ORDER, { table: noColumn }));
  t.regex(e1!.message, /has no column "qty" for field qty \(int\)/);
  const unfilled = unique('unfilled');
  await sql(`CREATE TABLE ${unfilled} (id text, customer text, amount numeric, qty bigint, region text NOT NULL)`);
  const e2 = await t.throwsAsync(openSink(ORDER, { table: unfilled }));
  t.regex(e2!.message, /column "region" is NOT NULL without a default/);
});

test('upsert without a key or primary key is an error', async (t) => {
  const table = unique('nokey');
  await sql(`CREATE TABLE ${table} (id text, customer text, amount numeric, qty integer)`);
  const e = await t.throwsAsync(openSink(ORDER, { table, mode: 'upsert' }));
  t.regex(e!.message, /mode upsert needs key, and table .* has no primary key/);
});
