// A password written into a PostgreSQL connection URL, against a server of the test's own that
// checks passwords (the shared one trusts local connections): `sensei check` warns, `sensei
// compile` writes the plan with the password masked, and runs with a wrong password fail without
// it in any output, from `sensei run` or from `sensei-run` (log, stderr, /status, /metrics).
// The form the warning points to, a URL without the password plus PGPASSWORD, connects.
import anyTest, { type TestFn } from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { sensei, tempDir } from '../cli/run-cli.ts';
import { DaemonProcess } from '../daemon/daemon-process.ts';
import { startOwnServer, type OwnServer } from './own-server.ts';

const test = anyTest as TestFn<{ server: OwnServer }>;
test.before(async (t) => {
  t.context.server = await startOwnServer({ password: PASSWORD });
});
test.after.always(async (t) => {
  await t.context.server?.destroy();
});

const PASSWORD = 'right-pw-7f3a91';
const WRONG = 'wrong-pw-c2e805';

/** `url` with `password` in its userinfo. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function pipeline(table: string, url: string): string {
  return `pipeline pw
schema Row { id: string, n: long }
source rows: Row from datagen { partitions: 1, count: 5, seed: 1 }
sink rows to postgres { url: ${JSON.stringify(url)}, table: ${JSON.stringify(table)}, create: true }
`;
}

test('a wrong password in the URL: warned about, masked in the plan, absent from every error', async (t) => {
  const { server } = t.context;
  const file = join(await tempDir(), 'pw.sensei');
  await writeFile(file, pipeline('pw_wrong', withPassword(server.url, WRONG)));
  const masked = withPassword(server.url, '***');

  const checked = await sensei(['check', file]);
  t.is(checked.code, 0, 'a warning, not an error');
  t.regex(checked.stdout, /warning\[password-in-url\]/);
  t.regex(checked.stdout, /set `PGPASSWORD`, or leave `url` out and set `SENSEI_PG_URL`/);
  t.true(checked.stdout.includes(masked));

  const out = await tempDir();
  const compiled = await sensei(['compile', file, '-o', out]);
  t.is(compiled.code, 0, compiled.stderr);
  const plan = await readFile(join(out, 'plan.json'), 'utf8');
  t.is((JSON.parse(plan) as { sinks: { options: { url: string } }[] }).sinks[0]!.options.url, masked);

  const run = await sensei(['run', file]);
  t.is(run.code, 1);
  t.regex(run.stderr, /error: pipeline pw failed: password authentication failed for user "sensei"/, 'the server checked the password');

  const daemon = new DaemonProcess([file], { env: { SENSEI_WATCH: 'false', SENSEI_WORKERS_MIN: '1', SENSEI_WORKERS_MAX: '1' } });
  try {
    t.regex(String((await daemon.waitFor('compile-warnings')).diagnostics), /password-in-url/);
    t.regex(String((await daemon.waitFor('pipeline-failed')).error), /password authentication failed/);
    const status = await daemon.request('/status');
    t.regex(status.text, /"lastError": "password authentication failed/);
    const metrics = await daemon.request('/metrics');
    daemon.signal('SIGTERM');
    await daemon.exited;
    for (const [what, text] of Object.entries({
      check: checked.stdout + checked.stderr,
      compile: compiled.stdout + compiled.stderr + plan,
      run: run.stdout + run.stderr,
      daemon: daemon.stdout + daemon.stderr + status.text + metrics.text,
    })) {
      t.false(text.includes(WRONG), `${what} shows the password`);
    }
  } finally {
    await daemon.kill();
  }
});

test('the form the warning points to: the URL without the password, PGPASSWORD beside it', async (t) => {
  const { server } = t.context;
  const file = join(await tempDir(), 'pw.sensei');
  await writeFile(file, pipeline('pw_env', server.url));
  const checked = await sensei(['check', file]);
  t.is(checked.stdout, 'no problems\n');
  const run = await sensei(['run', file], { env: { PGPASSWORD: PASSWORD } });
  t.is(run.code, 0, run.stderr);
  t.false(run.stdout.includes(PASSWORD) || run.stderr.includes(PASSWORD));

  const client = new pg.Client({ connectionString: withPassword(server.url, PASSWORD) });
  await client.connect();
  try {
    t.is((await client.query<{ n: string }>('SELECT count(*) AS n FROM pw_env')).rows[0]!.n, '5');
  } finally {
    await client.end();
  }
});
