// Running a pipeline again into an exactly-once PostgreSQL sink: a real `sensei run` says at
// start, on stderr, where each source resumes and why what came before is not written again;
// lines appended to the file since are written once; `--from-start` writes everything again.
import test from 'ava';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sensei, tempDir } from '../cli/run-cli.ts';
import { pgUrl } from '../support/services.ts';
import { sql, unique } from './helpers.ts';

/** Orders `from`…`to-1` as JSON lines. */
function orderLines(from: number, to: number): string {
  return Array.from({ length: to - from }, (_, i) => `${JSON.stringify({ id: `o${from + i}`, customer_id: `c${(from + i) % 7}`, amount: (from + i) / 4 })}\n`).join('');
}

/** A pipeline from `source` into a new table, in a new directory. */
async function pipelineInto(table: string, source: string, files: Record<string, string> = {}): Promise<{ dir: string; file: string; name: string }> {
  const name = unique('rerun');
  const dir = await tempDir(files);
  const file = join(dir, 'rerun.sensei');
  await writeFile(file, `
pipeline ${name}
schema Order { id: string, customer_id: string, amount: decimal(12, 2) }
source orders: Order from ${source.replaceAll('DIR', dir)}
sink orders to postgres { url: "${pgUrl()}", table: "${table}", create: true }
`);
  return { dir, file, name };
}

/** Rows in the table, and distinct ids among them. */
async function counts(table: string): Promise<[number, number]> {
  const [row] = await sql<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${table}`);
  return [Number(row!.n), Number(row!.ids)];
}

async function cleanup(table: string, pipeline: string, dir: string): Promise<void> {
  await sql(`DROP TABLE IF EXISTS ${table}`);
  await sql('DELETE FROM sensei_offsets WHERE pipeline = $1', [pipeline]);
  await rm(dir, { recursive: true, force: true });
}

test('a second run over the same file writes nothing and says why; lines appended since are written once; --from-start writes every line again', async (t) => {
  const table = unique('rerun_file');
  const { dir, file, name } = await pipelineInto(table, 'file { path: "DIR/orders.jsonl", partitions: 3, key: "customer_id" }', { 'orders.jsonl': orderLines(0, 3000) });
  const input = join(dir, 'orders.jsonl');
  const run = (...flags: string[]) => sensei(['run', file, '--workers', '1', ...flags]);
  // Offsets are line numbers; each of the 3 partitions stored its own last one, and one of them holds the last line.
  const resumed = (last: number) => new RegExp(
    `^resuming source orders after lines \\d+–${last} of ${input}: the postgres sink sink:orders:0 holds the records up to there from an earlier run ` +
      `\\(positions in table sensei_offsets\\) and skips them; --from-start to write them again$`,
    'm',
  );
  try {
    const first = await run();
    t.is(first.code, 0, first.stderr);
    t.notRegex(first.stderr, /resuming/);
    t.deepEqual(await counts(table), [3000, 3000]);

    const second = await run();
    t.is(second.code, 0, second.stderr);
    t.regex(second.stderr, resumed(3000));
    t.deepEqual(await counts(table), [3000, 3000], 'nothing written twice');

    await appendFile(input, orderLines(3000, 4000));
    const third = await run();
    t.is(third.code, 0, third.stderr);
    t.regex(third.stderr, resumed(3000));
    t.deepEqual(await counts(table), [4000, 4000], 'the appended lines, once');

    const fourth = await run('--from-start');
    t.is(fourth.code, 0, fourth.stderr);
    t.notRegex(fourth.stderr, /resuming/);
    t.deepEqual(await counts(table), [8000, 4000], 'every line written again (append mode: twice)');
    const [stored] = await sql<{ last: string }>('SELECT max("offset") AS last FROM sensei_offsets WHERE pipeline = $1', [name]);
    t.is(Number(stored!.last), 4000, 'the run from the start stored its positions again');
  } finally {
    await cleanup(table, name, dir);
  }
});

test('a second run over datagen says how many generated records the sink holds, and writes none of them again', async (t) => {
  const table = unique('rerun_datagen');
  const { dir, file, name } = await pipelineInto(table, 'datagen { partitions: 2, count: 1000, seed: 3 }');
  try {
    const first = await sensei(['run', file, '--workers', '1']);
    t.is(first.code, 0, first.stderr);
    const second = await sensei(['run', file, '--workers', '1']);
    t.is(second.code, 0, second.stderr);
    t.regex(second.stderr, /^resuming source orders after 1000 generated records: the postgres sink sink:orders:0 holds the records up to there/m);
    t.is((await counts(table))[0], 1000, 'nothing written twice');
  } finally {
    await cleanup(table, name, dir);
  }
});
