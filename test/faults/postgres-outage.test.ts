// A PostgreSQL server that is down when a pipeline starts: `sensei run` says what it
// waits for and resumes by itself; `sensei-run` says it in its log, `/readyz` and
// `/status`. A server that goes away mid-run stalls the partitions, and the run says
// that too. Every record is written once the server is back.
import anyTest, { type TestFn } from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { startPipeline, type PipelineEvent } from '../../runtime/index.ts';
import { compilePlan } from '../support/compile.ts';
import { DaemonProcess, eventually, ROOT, tempDir } from '../daemon/daemon-process.ts';
import { sql, unique } from '../postgres/helpers.ts';
import { startOwnServer, type OwnServer } from '../postgres/own-server.ts';

// One server for the file; the tests stop and start it, so they run one at a time.
const test = anyTest as TestFn<{ server: OwnServer }>;
test.before(async (t) => {
  t.context.server = await startOwnServer();
});
test.after.always(async (t) => {
  await t.context.server?.destroy();
});

async function pipelineFile(server: OwnServer, table: string, count: number): Promise<string> {
  const dir = await tempDir();
  const file = join(dir, 'pg.sensei');
  await writeFile(file, `pipeline ${unique('pg_outage')}
schema Row { id: string, n: long }
source rows: Row from datagen { partitions: 2, count: ${count}, seed: 3 }
sink rows to postgres { url: "${server.url}", table: "${table}", create: true, retry_backoff: 50ms, retry_max_backoff: 500ms }
`);
  return file;
}

const rows = (server: OwnServer, table: string) => sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`, [], server.url).then((r) => Number(r[0]!.n));

test.serial('sensei run: a server down at start is waited for, said on stderr, and the run completes once it is back', async (t) => {
  const { server } = t.context;
  const table = unique('down_at_start');
  const file = await pipelineFile(server, table, 2000);
  await server.stop();
  const child = spawn(process.execPath, [join(ROOT, 'bin/sensei.js'), 'run', file, '--workers', '2'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await eventually(() => (stderr.includes('waiting for postgres') ? true : undefined), 60_000, `a waiting line on stderr (so far: ${stderr})`);
    t.regex(stderr, new RegExp(`waiting for postgres ${table} \\(retrying with backoff\\): .*ECONNREFUSED`));
    await server.start();
    t.is(await exited, 0, stderr);
    t.regex(stderr, new RegExp(`postgres ${table} answers again after \\d`));
    t.is(await rows(server, table), 2000);
  } finally {
    child.kill('SIGKILL');
    await server.start().catch(() => {});
  }
});

test.serial('sensei-run: the outage is in the log, /readyz and /status, and clears by itself', async (t) => {
  const { server } = t.context;
  const table = unique('daemon_down');
  const file = await pipelineFile(server, table, 500);
  await server.stop();
  const dir = await tempDir({ 'sensei-run.yaml': 'workers: { min: 1, max: 1 }\nwatch: { enabled: false }\n' });
  const daemon = new DaemonProcess(['--config', join(dir, 'sensei-run.yaml'), file]);
  try {
    const logged = await daemon.waitFor('outage');
    t.is(logged.level, 'warn');
    t.regex(String(logged.msg), new RegExp(`postgres ${table} is failing; retrying with backoff: .*ECONNREFUSED`));
    const ready = await daemon.request('/readyz');
    t.is(ready.status, 503);
    t.regex(ready.text, new RegExp(`waiting for postgres ${table} since .* attempts\\): .*ECONNREFUSED`));
    const status = await daemon.json<{ pipelines: { run?: { outages: { connector: string; what: string }[] } }[] }>('/status');
    t.deepEqual(status.pipelines[0]!.run?.outages.map((o) => [o.connector, o.what]), [['sink:rows:0', `postgres ${table}`]]);

    await server.start();
    await daemon.waitFor('recovered');
    await eventually(async () => ((await rows(server, table).catch(() => 0)) === 500 ? true : undefined), 60_000, 'every row written');
    const after = await daemon.json<{ pipelines: { run?: { outages: unknown[] } }[] }>('/status');
    t.deepEqual(after.pipelines[0]!.run?.outages ?? [], []);
  } finally {
    await daemon.kill();
    await server.start().catch(() => {});
  }
});

test.serial('a server that goes away mid-run: the partitions holding records are reported stalled, then flowing again', async (t) => {
  const { server } = t.context;
  const table = unique('stalled');
  const events: PipelineEvent[] = [];
  const run = startPipeline(compilePlan(`
pipeline stall_report
schema Row { id: string, n: long }
source rows: Row from datagen { partitions: 2, count: 20000, rate: 2000, seed: 5 }
sink rows to postgres { url: "${server.url}", table: "${table}", create: true, retry_backoff: 50ms, retry_max_backoff: 500ms }
`), { env: builtinEnvironment(), workers: 2, stallAfterMs: 1500, maxBufferedRecords: 2000, onEvent: (e) => events.push(e) });
  try {
    await eventually(async () => ((await rows(server, table).catch(() => 0)) > 1000 ? true : undefined), 60_000, 'the first rows');
    await server.stop();
    await eventually(() => (events.some((e) => e.type === 'stalled') ? true : undefined), 60_000, 'a stalled partition');
    const stalled = run.status().stalled;
    t.true(stalled.length > 0 && stalled.every((s) => s.source === 'rows' && s.backlog > 0), JSON.stringify(stalled));
    t.true(run.status().outages.some((o) => o.what === `postgres ${table}`), 'the outage behind it is in the status too');
    await server.start();
    const summary = await run.done;
    t.true(events.some((e) => e.type === 'flowing'), 'said when the partitions read again');
    t.is(summary.recordsIn, 20000);
    t.is(await rows(server, table), 20000);
  } finally {
    run.stop();
    await run.done.catch(() => {});
    await server.start().catch(() => {});
  }
});
