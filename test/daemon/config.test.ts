import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configJsonSchema } from '../../src/tooling/daemon/config-schema.ts';
import { ConfigError, loadConfig } from '../../src/tooling/daemon/config.ts';
import { exposedControl, isLoopback } from '../../src/tooling/daemon/exposure.ts';
import { loadSecrets, Scrubber } from '../../src/tooling/daemon/secrets.ts';
import { leafSettings, SECRET_VARIABLES } from '../../src/tooling/daemon/settings.ts';
import { ROOT, tempDir } from './daemon-process.ts';

async function configFile(text: string, name = 'sensei.yaml'): Promise<string> {
  const dir = await tempDir({ [name]: text });
  return join(dir, name);
}

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const error = await loadConfig({ file: await configFile(text), env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
  return error.message;
}

test('defaults without a file: admin on 127.0.0.1, 2..128 workers, durations in milliseconds', async (t) => {
  const c = await loadConfig({ env: {}, cwd: '/srv' });
  t.is(c.admin.host, '127.0.0.1');
  t.is(c.admin.port, 9464);
  t.deepEqual(c.workers, { min: 2, max: 128, cpuBudget: undefined });
  t.is(c.shutdown.deadline, 30_000);
  t.is(c.autoscaler.scaleDownCooldown, 300_000);
  t.deepEqual(c.pipelines, []);
});

test('a YAML file is read, paths are relative to it, and environment variables override it', async (t) => {
  const file = await configFile('pipelines: [pipes]\nkafka:\n  brokers: [a:9092]\nworkers: { min: 1, max: 4 }\nadmin:\n  port: 8080\nshutdown: { deadline: 5s }\n');
  const c = await loadConfig({ file, env: { SENSEI_WORKERS_MAX: '8', SENSEI_KAFKA_BROKERS: 'b:9092, c:9092', SENSEI_ADMIN_PORT: '' } });
  t.deepEqual(c.pipelines, [join(file, '..', 'pipes')]);
  t.deepEqual(c.kafka.brokers, ['b:9092', 'c:9092']);
  t.deepEqual(c.workers, { min: 1, max: 8, cpuBudget: undefined });
  t.is(c.admin.port, 8080, 'an empty variable does not override');
  t.is(c.shutdown.deadline, 5000);
});

test('JSON config files work too', async (t) => {
  const file = await configFile('{ "admin": { "host": "0.0.0.0" }, "log": { "level": "debug" } }', 'sensei.json');
  const c = await loadConfig({ file, env: {} });
  t.is(c.admin.host, '0.0.0.0');
  t.is(c.log.level, 'debug');
});

test('an unknown key is an error naming it, where it is, and what was meant', async (t) => {
  const message = await problems('admin:\n  host: 127.0.0.1\n  prot: 9000\n');
  t.regex(message, /sensei\.yaml:3:3: admin\.prot: unknown setting; did you mean `admin\.port`\?/);
});

test('a key at the wrong level points to where it belongs', async (t) => {
  t.regex(await problems('port: 9000\n'), /:1:1: port: unknown setting; did you mean `admin\.port`\?/);
});

test('wrong types and values name the key and the value', async (t) => {
  const message = await problems('workers:\n  min: two\nlog: { level: verbose }\nshutdown: { deadline: soon }\n');
  t.regex(message, /:2:3: workers\.min: expected an integer, got "two"/);
  t.regex(message, /log\.level: must be one of fatal, error, warn, info, debug, trace, not "verbose"/);
  t.regex(message, /shutdown\.deadline: expected a duration like 500ms, 30s/);
});

test('a bad environment variable is an error naming the variable', async (t) => {
  const error = await loadConfig({ env: { SENSEI_WORKERS_MIN: 'many' } }).catch((e: Error) => e);
  t.true(error instanceof ConfigError);
  t.regex((error as Error).message, /SENSEI_WORKERS_MIN: expected an integer, got "many" \(overrides workers\.min\)/);
});

test('workers.min above workers.max is rejected', async (t) => {
  t.regex(await problems('workers: { min: 8, max: 4 }\n'), /workers\.min: is 8, more than workers\.max \(4\)/);
});

test('the PostgreSQL budget of every process together must fit the server\'s limit', async (t) => {
  t.regex(
    await problems('postgres: { connections: 20, processes: 30, serverConnections: 500 }\n'),
    /postgres\.serverConnections: is 500, fewer than postgres\.processes \(30\) × postgres\.connections \(20\) = 600/,
  );
  const fits = await loadConfig({ env: { SENSEI_PG_CONNECTIONS: '20', SENSEI_PG_PROCESSES: '25', SENSEI_PG_SERVER_CONNECTIONS: '500' } });
  t.deepEqual(fits.postgres, { connections: 20, processes: 25, serverConnections: 500 });
  const error = await loadConfig({ env: { SENSEI_PG_PROCESSES: '51', SENSEI_PG_SERVER_CONNECTIONS: '500' } }).catch((e: Error) => e);
  t.regex((error as Error).message, /postgres\.serverConnections: is 500, fewer than postgres\.processes \(51\) × postgres\.connections \(10\) = 510/);
});

test('YAML syntax errors and duplicate keys are reported with their position', async (t) => {
  t.regex(await problems('admin:\n  port: 1\n  port: 2\n'), /sensei\.yaml:3:3: .*not valid YAML or JSON: Map keys must be unique/);
});

test('a secret in the config file is rejected without echoing it, pointing to the environment', async (t) => {
  const message = await problems('kafka:\n  brokers: [k:9092]\n  password: hunter2-very-secret\nschemaRegistry:\n  apiToken: tok-123456\n');
  t.regex(message, /kafka\.password: secrets are not read from the config file; set the environment variable SENSEI_KAFKA_PASSWORD/);
  t.regex(message, /schemaRegistry\.apiToken: secrets are not read from the config file/);
  t.false(message.includes('hunter2'));
  t.false(message.includes('tok-123456'));
});

test('secrets come from <VAR>_FILE and from secrets.dir, and are scrubbed from text', async (t) => {
  const dir = await tempDir({ SENSEI_KAFKA_PASSWORD: 'from-the-dir\n', token: 's3cr3t-token\n' });
  const env: NodeJS.ProcessEnv = { SENSEI_ADMIN_TOKEN_FILE: join(dir, 'token') };
  const names = loadSecrets(env, dir);
  t.deepEqual(names.sort(), ['SENSEI_ADMIN_TOKEN', 'SENSEI_KAFKA_PASSWORD']);
  t.is(env.SENSEI_KAFKA_PASSWORD, 'from-the-dir');
  t.is(env.SENSEI_ADMIN_TOKEN, 's3cr3t-token');
  const scrubber = new Scrubber(env, names);
  t.is(scrubber.scrub('pw=from-the-dir token s3cr3t-token'), 'pw=[redacted] token [redacted]');
  t.throws(() => loadSecrets({ SENSEI_KAFKA_USERNAME_FILE: join(dir, 'missing') }, undefined), { message: /SENSEI_KAFKA_USERNAME_FILE: cannot read the secret SENSEI_KAFKA_USERNAME/ });
});

test('connection URLs are secrets; their passwords, and every URL\'s password, are scrubbed', (t) => {
  const env: NodeJS.ProcessEnv = { SENSEI_PG_URL: 'postgres://app:p%40ss-in-url@db:5432/app', SENSEI_REDIS_URL: 'redis://:redis-pw@cache:6379', PGPASSWORD: 'libpq-pw' };
  const names = loadSecrets(env, undefined);
  t.deepEqual(names.sort(), ['PGPASSWORD', 'SENSEI_PG_URL', 'SENSEI_REDIS_URL']);
  const scrubber = new Scrubber(env, names);
  t.is(scrubber.scrub(`connecting to ${env.SENSEI_PG_URL}`), 'connecting to [redacted]');
  t.is(scrubber.scrub('{"password":"p@ss-in-url","other":"p%40ss-in-url","pg":"libpq-pw","redis":"redis-pw"}'), '{"password":"[redacted]","other":"[redacted]","pg":"[redacted]","redis":"[redacted]"}');
  t.is(scrubber.scrub('lookup failed: postgres://reader:replica-pw@replica:5432/app'), 'lookup failed: postgres://reader:***@replica:5432/app', 'any URL, not only those of secret variables');
});

test('control endpoints beyond loopback need a token or control off', (t) => {
  for (const host of ['127.0.0.1', '127.8.0.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) t.true(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.7', '::ffff:10.0.0.7', 'sensei.internal', '']) t.false(isLoopback(host), host);
  const admin = { host: '0.0.0.0', port: 9464, control: true };
  t.is(exposedControl(admin, undefined)?.key, 'admin.control');
  t.is(exposedControl(admin, 'token'), undefined);
  t.is(exposedControl({ ...admin, control: false }, undefined), undefined);
  t.is(exposedControl({ ...admin, host: '127.0.0.1' }, undefined), undefined);
});

test('docs/sensei-run.schema.json is the schema generated from the settings', async (t) => {
  const checkedIn = JSON.parse(await readFile(join(ROOT, 'docs/sensei-run.schema.json'), 'utf8')) as unknown;
  t.deepEqual(checkedIn, configJsonSchema(), 'regenerate with: node bin/sensei-run.js --print-config-schema > docs/sensei-run.schema.json');
});

test('every setting, environment variable and secret variable is documented in docs/sensei-run.md', async (t) => {
  const doc = await readFile(join(ROOT, 'docs/sensei-run.md'), 'utf8');
  const names = [...leafSettings().flatMap(({ path, setting }) => [path, ...(setting.env ? [setting.env] : [])]), ...SECRET_VARIABLES];
  const missing = names.filter((name) => !doc.includes(`\`${name}\``));
  t.deepEqual(missing, []);
});
