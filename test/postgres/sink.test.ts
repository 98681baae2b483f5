// The PostgreSQL sink against the real server: append, upsert, tombstones, table checks,
// dead letters and the offsets of exactly-once delivery.
import test from 'ava';
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
