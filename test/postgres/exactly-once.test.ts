// Exactly-once into PostgreSQL: a real `sensei run` process is killed with SIGKILL mid-run
// and started again; every input record is in the table exactly once.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pgUrl } from '../support/services.ts';
import { sql, unique } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sensei(file: string): { exit: Promise<number | null>; kill(): void; output(): string } {
  const child = spawn(process.execPath, [join(root, 'bin/sensei.js'), 'run', file, '--workers', '2'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return {
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    kill: () => child.kill('SIGKILL'),
    output: () => output,
  };
}

test('SIGKILL mid-run, then a second run: every input record is written exactly once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sensei-eo-'));
  const table = unique('eo');
  const count = 20_000;
  const file = join(dir, 'eo.sensei');
  writeFileSync(file, `
pipeline ${unique('eo')}
schema Order { id: string, customer_id: string, amount: decimal(12, 2), created_at: timestamp_millis }
source orders: Order from datagen { partitions: 4, count: ${count}, rate: 5000, seed: 11 }
stream paid = orders | select { id, customer_id, cents: long(amount * 100), created_at }
sink paid to postgres { url: "${pgUrl()}", table: "${table}", create: true, batch_size: 2000 }
`);
  const rows = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).catch(() => [{ n: '0' }]))[0]!.n);
  try {
    const first = sensei(file);
    while ((await rows()) < count / 5) await new Promise((r) => setTimeout(r, 50));
    first.kill();
    t.is(await first.exit, null, first.output());
    const afterKill = await rows();
    t.true(afterKill > 0 && afterKill < count, `${afterKill} rows after the kill`);

    const second = sensei(file);
    t.is(await second.exit, 0, second.output());
    const [row] = await sql<{ n: string; records: string; first: string; last: string }>(`
      SELECT count(*) AS n, count(DISTINCT r) AS records, min(r) AS first, max(r) AS last
        FROM (SELECT floor(extract(epoch FROM created_at - timestamptz '2024-05-01T00:00:00Z')) AS r FROM ${table}) x`);
    // datagen gives record i the timestamp 2024-05-01 + i seconds (+ < 1 s).
    t.deepEqual([row!.n, row!.records, row!.first, row!.last].map(Number), [count, count, 0, count - 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
