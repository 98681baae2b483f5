// The real `sensei-run` executable on the embedded connectors (datagen → file):
// start, readiness, metrics, status, live replacement, admin control and its
// guard, secrets, refusal to start, graceful shutdown.
import test from 'ava';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DaemonProcess, eventually, metricValue, parsePrometheus, tempDir } from './daemon-process.ts';

/** An endless generator (rate-limited) into a JSON-lines file. */
function generatorPipeline(name: string, out: string, select = 'id, amount'): string {
  return `pipeline ${name}
schema Order { id: string, customer_id: string, amount: long }
source orders: Order from datagen { partitions: 4, rate: 400, seed: 3, key: "customer_id" }
stream picked = orders | select { ${select} }
sink picked to file { path: ${JSON.stringify(out)} }
`;
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const daemons: DaemonProcess[] = [];
function daemon(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): DaemonProcess {
  const d = new DaemonProcess(args, opts);
  daemons.push(d);
  return d;
}
test.after.always(async () => {
  await Promise.all(daemons.map((d) => d.kill()));
});

test('--help describes the command and exits 0', async (t) => {
  const d = daemon(['--help']);
  const { code } = await d.exited;
  t.is(code, 0);
  t.regex(d.stdout, /Usage: sensei-run \[options\] \[paths\.\.\.\]/);
  t.regex(d.stdout, /--check/);
});

test('--check validates the configuration and compiles the pipelines without running them', async (t) => {
  const dir = await tempDir({ 'a.sensei': generatorPipeline('alpha', 'a.jsonl') });
  const d = daemon(['--check', dir]);
  const { code } = await d.exited;
  t.is(code, 0, d.stderr);
  t.regex(d.stdout, /ok: configuration valid; 1 pipeline: alpha/);
});

test('a pipeline with errors is refused with rendered diagnostics, exit 1', async (t) => {
  const dir = await tempDir({ 'bad.sensei': 'pipeline bad\nschema S { a: long }\nsource s: S from datagen { count: 1 }\nstream x = s | where b > 1\nsink x to stdout {}\n' });
  const d = daemon([join(dir, 'bad.sensei')]);
  const { code } = await d.exited;
  t.is(code, 1);
  t.regex(d.stderr, /bad\.sensei:4:22/);
  t.regex(d.stderr, /error\[/);
  t.truthy(d.events.find((e) => e.event === 'compile-failed'));
  t.falsy(d.events.find((e) => e.event === 'admin-listening'), 'nothing was started');
});

test('a bad config is rejected with a message naming the key, exit 2', async (t) => {
  const dir = await tempDir({ 'sensei.yaml': 'workers:\n  mx: 4\n', 'a.sensei': generatorPipeline('alpha', 'a.jsonl') });
  const d = daemon(['--config', join(dir, 'sensei.yaml'), dir]);
  const { code } = await d.exited;
  t.is(code, 2);
  t.regex(d.stderr, /sensei\.yaml:2:3: workers\.mx: unknown setting; did you mean `workers\.max`\?/);
});

test('starts, becomes ready, serves metrics and status, and drains on SIGTERM with nothing lost', async (t) => {
  const dir = await tempDir();
  const out = join(dir, 'out.jsonl');
  await writeFile(join(dir, 'gen.sensei'), generatorPipeline('gen', out));
  const d = daemon([join(dir, 'gen.sensei')], { env: { SENSEI_WORKERS_MIN: '2', SENSEI_WORKERS_MAX: '2' } });
  await d.ready();
  t.is((await d.request('/healthz')).status, 200);

  // Records flow: the counters move.
  const scraped = await eventually(async () => {
    const m = await d.request('/metrics');
    const { samples } = parsePrometheus(m.text);
    return metricValue(samples, 'sensei_records_out_total', { pipeline: 'gen' }) > 0 ? { m, samples } : undefined;
  }, 60_000, 'records out');
  t.regex(scraped.m.contentType, /^text\/plain; version=0\.0\.4/);
  const { samples, types } = parsePrometheus(scraped.m.text);
  t.true(metricValue(samples, 'sensei_records_in_total', { pipeline: 'gen', operator: 'source:orders' }) > 0);
  t.is(metricValue(samples, 'sensei_pool_size', { pipeline: 'gen' }), 2);
  t.is(types.get('sensei_batch_latency_seconds'), 'histogram');
  t.is(types.get('sensei_sink_flush_seconds'), 'histogram');
  t.is(metricValue(samples, 'sensei_ready'), 1);
  for (const name of ['sensei_consumer_lag', 'sensei_worker_utilization', 'sensei_rebalances_total', 'sensei_autoscaler_decisions_total', 'sensei_dead_letters_total']) {
    t.true(types.has(name), `${name} is exported`);
  }
  t.true(samples.some((s) => s.name === 'sensei_worker_utilization' && s.labels.pipeline === 'gen'));
  t.true(samples.some((s) => s.name === 'process_cpu_seconds_total'), 'default process metrics');
  t.deepEqual(samples.filter((s) => s.name === 'sensei_consumer_lag' && s.labels.pipeline === 'gen').map((s) => s.labels.partition).sort(), ['0', '1', '2', '3'], 'lag per partition');
  t.true(metricValue(samples, 'sensei_batch_latency_seconds_count', { pipeline: 'gen', source: 'orders' }) > 0, 'batch latency observed');
  t.true(metricValue(samples, 'sensei_sink_flush_seconds_count', { pipeline: 'gen', sink: 'sink:picked:0' }) > 0, 'sink flush latency observed');

  const status = await d.json('/status');
  t.is(status.ready, true);
  const gen = status.pipelines.find((p: { name: string }) => p.name === 'gen');
  t.is(gen.state, 'running');
  t.true(gen.graph.nodes.some((n: { id: string }) => n.id === 'source:orders'));
  t.is(gen.run.workers, 2);
  const owners = gen.run.partitions.map((p: { partition: number; worker: number }) => [p.partition, p.worker]);
  t.is(owners.length, 4, 'partitions → worker map');
  t.deepEqual([...new Set(owners.map((o: number[]) => o[1]))].sort(), gen.run.pool.map((w: { id: number }) => w.id).sort(), 'every worker owns partitions');

  d.signal('SIGTERM');
  const { code } = await d.exited;
  t.is(code, 0, d.stderr);
  const done = await d.waitFor('pipeline-done');
  const written = await lines(out);
  t.true(written.length > 0);
  t.is(written.length, Number(done.recordsOut), 'every record counted out is in the file');
  t.is(done.recordsIn, done.recordsOut, 'every record read was written before the exit');
  t.truthy(d.events.find((e) => e.event === 'exit' && e.code === 0));
});

test('a source whose lag is unknown exports no lag series, neither a sentinel nor NaN', async (t) => {
  // No rate and no count: the generator has no end to lag behind (its backlog is Infinity).
  const dir = await tempDir({ 'sensei.yaml': 'workers: { min: 1, max: 1 }\nruntime: { statusInterval: 100ms }\nwatch: { enabled: false }\n' });
  await writeFile(join(dir, 'endless.sensei'), generatorPipeline('endless', '/dev/null').replace('rate: 400, ', ''));
  const d = daemon(['--config', join(dir, 'sensei.yaml'), join(dir, 'endless.sensei')]);
  await d.ready();
  const samples = await eventually(async () => {
    const { samples } = parsePrometheus((await d.request('/metrics')).text);
    return metricValue(samples, 'sensei_records_in_total', { pipeline: 'endless' }) > 0 ? samples : undefined;
  }, 60_000, 'records in');
  t.deepEqual(samples.filter((s) => s.name.startsWith('sensei_consumer_lag') && s.labels.pipeline === 'endless'), []);
  t.is((await d.json('/status')).pipelines[0].run.backlog, 'Infinity', '/status still says it');
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});

test('a windowed pipeline exports its state: entries per operator and partition, and the watermark lag; /status has them too', async (t) => {
  const dir = await tempDir({ 'sensei.yaml': 'workers: { min: 1, max: 1 }\nruntime: { statusInterval: 100ms }\nwatch: { enabled: false }\n' });
  await writeFile(join(dir, 'windows.sensei'), `pipeline windows
schema Order { id: string, customer_id: string, amount: long, created_at: timestamp_millis }
source orders: Order from datagen { partitions: 2, rate: 400, seed: 3, key: "customer_id" } event time created_at lateness 10s partitioned by customer_id
stream per_minute = orders | window tumbling 1m | group by customer_id { n: count() }
sink per_minute to file { path: ${JSON.stringify(join(dir, 'out.jsonl'))} }
dead letter to file { path: ${JSON.stringify(join(dir, 'dead.jsonl'))} }
`);
  const d = daemon(['--config', join(dir, 'sensei.yaml'), join(dir, 'windows.sensei')]);
  await d.ready();
  const samples = await eventually(async () => {
    const { samples } = parsePrometheus((await d.request('/metrics')).text);
    return samples.filter((s) => s.name === 'sensei_state_entries' && s.value > 0).length === 2 ? samples : undefined;
  }, 60_000, 'state entries');
  const entries = samples.filter((s) => s.name === 'sensei_state_entries' && s.labels.pipeline === 'windows');
  t.deepEqual([...new Set(entries.map((s) => s.labels.operator))], ['per_minute/1:aggregate']);
  t.deepEqual(entries.map((s) => s.labels.partition).sort(), ['0', '1']);
  t.true(samples.some((s) => s.name === 'sensei_watermark_lag_seconds' && s.labels.pipeline === 'windows' && s.value > 0), 'watermark lag: datagen times are in 2024');
  const status = await d.json('/status');
  const part = status.pipelines[0].run.partitions[0];
  t.true(part.state.entries['per_minute/1:aggregate'] > 0);
  t.is(typeof part.state.watermark, 'number');
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});

test('a changed pipeline file is drained and replaced without restarting the process', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'live.sensei');
  const v1 = join(dir, 'v1.jsonl');
  const v2 = join(dir, 'v2.jsonl');
  await writeFile(file, generatorPipeline('live', v1, 'id'));
  await writeFile(join(dir, 'sensei.yaml'), 'watch:\n  interval: 200ms\nworkers: { min: 1, max: 1 }\n');
  const d = daemon(['--config', join(dir, 'sensei.yaml'), file]);
  await d.ready();
  await eventually(async () => ((await lines(v1)).length > 0 ? true : undefined), 60_000, 'v1 output');
  await writeFile(file, generatorPipeline('live', v2, 'id, amount, v: 2'));
  const replaced = await d.waitFor('pipeline-replace');
  t.is(replaced.pipeline, 'live');
  t.is(replaced.to, 2);
  await eventually(async () => ((await lines(v2)).length > 0 ? true : undefined), 60_000, 'v2 output');
  t.true((await lines(v2)).every((r) => r.v === 2), 'the new version writes its own records');
  await d.ready();
  const status = await d.json('/status');
  t.is(status.pipelines[0].version, 2);
  t.is(d.child.exitCode, null, 'the same process keeps running');

  // A broken version is reported and the running one stays.
  await writeFile(file, generatorPipeline('live', v2, 'id, nope'));
  const failed = await d.waitFor('reload-failed');
  t.regex(String(failed.diagnostics), /nope/);
  t.is((await d.json('/status')).pipelines[0].version, 2);
  t.is((await d.request('/readyz')).status, 200);
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});

test('POST /pipelines/NAME/stop and /start control one pipeline; readiness follows', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.sensei'), generatorPipeline('alpha', join(dir, 'a.jsonl')));
  await writeFile(join(dir, 'b.sensei'), generatorPipeline('beta', join(dir, 'b.jsonl')));
  const d = daemon([dir], { env: { SENSEI_WORKERS_MIN: '1', SENSEI_WORKERS_MAX: '1', SENSEI_WATCH: 'false' } });
  await d.ready();
  t.is((await d.request('/pipelines/alpha/stop')).status, 405, 'GET is not a control request');
  const stop = await d.request('/pipelines/alpha/stop', { method: 'POST' });
  t.is(stop.status, 200, stop.text);
  let status = await d.json('/status');
  t.is(status.pipelines.find((p: { name: string }) => p.name === 'alpha').state, 'stopped');
  t.is(status.pipelines.find((p: { name: string }) => p.name === 'beta').state, 'running');
  t.is((await d.request('/readyz')).status, 200, 'a pipeline stopped on purpose does not make the process unready');
  t.is((await d.request('/pipelines/gamma/stop', { method: 'POST' })).status, 404);

  t.is((await d.request('/pipelines/alpha/start', { method: 'POST' })).status, 200);
  await d.ready();
  status = await d.json('/status');
  t.is(status.pipelines.find((p: { name: string }) => p.name === 'alpha').state, 'running');
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});

test('secrets are never logged or served, and guard the control endpoints', async (t) => {
  const dir = await tempDir();
  const secret = 'pa55-w0rd-do-not-log';
  const token = 'admin-token-do-not-log';
  await writeFile(join(dir, 'password'), `${secret}\n`);
  await writeFile(join(dir, 's.sensei'), generatorPipeline('sec', join(dir, 'out.jsonl')));
  const d = daemon([join(dir, 's.sensei')], {
    env: { SENSEI_KAFKA_PASSWORD_FILE: join(dir, 'password'), SENSEI_ADMIN_TOKEN: token, SENSEI_SCHEMA_REGISTRY_PASSWORD: `${secret}-2`, SENSEI_LOG_LEVEL: 'trace', SENSEI_WORKERS_MAX: '2' },
  });
  await d.ready();
  const starting = await d.waitFor('starting');
  // The services' connection URLs (SENSEI_PG_URL, ...) are secrets too when the test environment has them.
  const ours = (starting.secrets as string[]).filter((name) => !process.env[name]);
  t.deepEqual(ours.sort(), ['SENSEI_ADMIN_TOKEN', 'SENSEI_KAFKA_PASSWORD', 'SENSEI_SCHEMA_REGISTRY_PASSWORD'], 'secret names are logged, not values');

  t.is((await d.request('/pipelines/sec/stop', { method: 'POST' })).status, 401);
  t.is((await d.request('/pipelines/sec/stop', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status, 401);
  t.is((await d.request('/pipelines/sec/stop', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 200);

  const served = (await d.request('/status')).text + (await d.request('/metrics')).text;
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
  for (const text of [d.stdout, d.stderr, served]) {
    t.false(text.includes(secret));
    t.false(text.includes(token));
  }
});

test('control reachable beyond loopback without a token: refuses to start (exit 2), naming the settings and the fixes', async (t) => {
  const dir = await tempDir({ 'a.sensei': generatorPipeline('alpha', 'a.jsonl') });
  for (const args of [[dir], ['--check', dir]]) {
    const d = daemon(args, { env: { SENSEI_ADMIN_HOST: '0.0.0.0', SENSEI_ADMIN_TOKEN: '' } });
    t.is((await d.exited).code, 2, args.join(' '));
    for (const setting of ['admin.control', 'SENSEI_ADMIN_CONTROL', 'admin.host', 'SENSEI_ADMIN_HOST', 'SENSEI_ADMIN_TOKEN']) t.true(d.stderr.includes(setting), setting);
    t.regex(d.stderr, /binds 0\.0\.0\.0 .*set SENSEI_ADMIN_TOKEN .*bind admin\.host to 127\.0\.0\.1.*turn control off \(admin\.control: false, SENSEI_ADMIN_CONTROL=false\)/);
    t.deepEqual(d.events, [], 'nothing started');
  }
});

test('control without a token on loopback; beyond loopback with a token, or with control off', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'a.sensei'), generatorPipeline('alpha', join(dir, 'a.jsonl')));
  const token = 'admin-token-for-the-network';
  const stop = (d: DaemonProcess, headers: Record<string, string> = {}) => d.request('/pipelines/alpha/stop', { method: 'POST', headers }).then((r) => r.status);
  const env = { SENSEI_WORKERS_MIN: '1', SENSEI_WORKERS_MAX: '1', SENSEI_WATCH: 'false' };

  const loopback = daemon([dir], { env: { ...env, SENSEI_ADMIN_HOST: '127.0.0.1', SENSEI_ADMIN_TOKEN: '' } });
  await loopback.ready();
  t.is(await stop(loopback), 200, 'open on loopback');
  loopback.signal('SIGTERM');
  t.is((await loopback.exited).code, 0);

  const guarded = daemon([dir], { env: { ...env, SENSEI_ADMIN_HOST: '0.0.0.0', SENSEI_ADMIN_TOKEN: token } });
  await guarded.ready();
  t.is((await guarded.waitFor('admin-listening')).host, '0.0.0.0');
  t.is(await stop(guarded), 401);
  t.is(await stop(guarded, { authorization: `Bearer ${token}` }), 200);
  guarded.signal('SIGTERM');
  t.is((await guarded.exited).code, 0);

  const noControl = daemon([dir], { env: { ...env, SENSEI_ADMIN_HOST: '0.0.0.0', SENSEI_ADMIN_TOKEN: '', SENSEI_ADMIN_CONTROL: 'false' } });
  await noControl.ready();
  t.is(await stop(noControl), 403);
  noControl.signal('SIGTERM');
  t.is((await noControl.exited).code, 0);
});

test('a drain that outlasts shutdown.deadline exits 1; a second signal exits at once', async (t) => {
  // A Kafka sink whose broker refuses connections keeps retrying: the pipeline cannot drain for seconds.
  const dir = await tempDir();
  await writeFile(
    join(dir, 'stuck.sensei'),
    generatorPipeline('stuck', 'unused').replace(/sink picked to file \{.*\}/, 'sink picked to kafka { topic: "nowhere", format: json, brokers: ["127.0.0.1:9"] }'),
  );
  const late = daemon([join(dir, 'stuck.sensei')], { env: { SENSEI_SHUTDOWN_DEADLINE: '1s' } });
  await late.waitFor('pipeline-start');
  late.signal('SIGTERM');
  t.is((await late.exited).code, 1);
  t.regex(String((await late.waitFor('exit')).msg), /did not drain within 1000 ms/);

  const forced = daemon([join(dir, 'stuck.sensei')], { env: { SENSEI_SHUTDOWN_DEADLINE: '10m' } });
  await forced.waitFor('pipeline-start');
  forced.signal('SIGTERM');
  await forced.waitFor('shutdown');
  forced.signal('SIGTERM');
  t.is((await forced.exited).code, 143);
  t.truthy(forced.events.find((e) => e.event === 'forced-exit'));
});

test('in a watched directory a new file starts a pipeline (once it compiles) and a removed file stops it', async (t) => {
  const dir = await tempDir();
  const config = join(dir, 'sensei.yaml');
  await writeFile(config, 'pipelines: [pipes]\nwatch:\n  interval: 200ms\nworkers: { min: 1, max: 1 }\n');
  await mkdir(join(dir, 'pipes'));
  await writeFile(join(dir, 'pipes', 'first.sensei'), generatorPipeline('first', join(dir, 'first.jsonl')));
  const d = daemon(['--config', config]);
  await d.ready();

  const second = join(dir, 'pipes', 'second.sensei');
  await writeFile(second, generatorPipeline('second', join(dir, 'second.jsonl'), 'id, oops'));
  await d.waitFor((e) => e.event === 'reload-failed' && e.file === second);
  await writeFile(second, generatorPipeline('second', join(dir, 'second.jsonl')));
  await d.waitFor((e) => e.event === 'pipeline-added' && e.pipeline === 'second');
  await d.ready();
  t.deepEqual((await d.json('/status')).pipelines.map((p: { name: string }) => p.name).sort(), ['first', 'second']);

  await rm(second);
  await d.waitFor((e) => e.event === 'pipeline-removed' && e.pipeline === 'second');
  t.deepEqual((await d.json('/status')).pipelines.map((p: { name: string }) => p.name), ['first']);
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});

test('records an operator rejects are counted per operator and action', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'bad.sensei'), `pipeline bad
schema Order { id: string, customer_id: string, amount: long }
source orders: Order from datagen { partitions: 2, rate: 400, seed: 3, key: "customer_id" }
dead letter to file { path: ${JSON.stringify(join(dir, 'dead.jsonl'))} }
stream broken = orders | select { id, ratio: amount / (amount - amount) }
stream dropped = orders | on error skip | select { id, ratio: amount / (amount - amount) }
sink broken to file { path: ${JSON.stringify(join(dir, 'broken.jsonl'))} }
sink dropped to file { path: ${JSON.stringify(join(dir, 'dropped.jsonl'))} }
`);
  const d = daemon([join(dir, 'bad.sensei')], { env: { SENSEI_WORKERS_MIN: '1', SENSEI_WORKERS_MAX: '1' } });
  await d.ready();
  const samples = await eventually(async () => {
    const { samples } = parsePrometheus((await d.request('/metrics')).text);
    const dead = metricValue(samples, 'sensei_operator_errors_total', { pipeline: 'bad', operator: 'broken/0:select', action: 'dead_letter' });
    const skipped = metricValue(samples, 'sensei_operator_errors_total', { pipeline: 'bad', operator: 'dropped/1:select', action: 'skip' });
    return dead > 0 && skipped > 0 ? samples : undefined;
  }, 60_000, 'operator errors');
  t.false(samples.some((s) => s.name === 'sensei_operator_errors_total' && s.labels.operator === 'broken/0:select' && s.labels.action === 'skip'));
  t.true((await lines(join(dir, 'dead.jsonl'))).every((l) => l.operator === 'broken/0:select'), 'the dead letters name the operator too');
  d.signal('SIGTERM');
  t.is((await d.exited).code, 0);
});
