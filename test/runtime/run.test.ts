import test from 'ava';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type PipelineStatus } from '../../runtime/index.ts';
import { byPartition, expectedMap, LIB, makePlan, MAP_CHAIN, orders, testEnv } from './helpers.ts';

test('one worker runs a chain over every partition, in order, with dead letters and acks', async (t) => {
  const parts = orders(5000, 4, { negativeEvery: 97 });
  const { env, out, dead, commits } = testEnv(parts);
  const summary = await runPipeline(makePlan({ code: MAP_CHAIN }), { workers: 1, env, libModule: LIB, batchSize: 100 });
  const got = new Map([...byPartition(out)].map(([p, rows]) => [p, rows.map((r) => r.line)]));
  t.deepEqual(got, expectedMap(parts));
  t.is(dead.length, Math.ceil(5000 / 97));
  t.like(dead[0]!.line, { pipeline: 'test', source: 'orders', partition: 0, offset: 0, operator: 's/0:where', reason: 'negative amount' });
  t.is(summary.recordsIn, 5000);
  t.is(summary.deadLetters, dead.length);
  t.is(summary.recordsOut, out.length);
  for (let p = 0; p < 4; p++) t.is(commits.get(p)!.at(-1), parts[p]!.length - 1);
});

test('status reaches onStatus, and the metrics file ends with the summary', async (t) => {
  const { env } = testEnv(orders(2000, 2));
  const dir = await mkdtemp(join(tmpdir(), 'sensei-metrics-'));
  const path = join(dir, 'metrics.json');
  const statuses: PipelineStatus[] = [];
  const summary = await runPipeline(makePlan({ code: MAP_CHAIN }), { workers: 1, env, libModule: LIB, statusIntervalMs: 50, metricsJsonPath: path, onStatus: (s) => statuses.push(s) });
  const last = statuses.at(-1)!;
  t.is(last.state, 'done');
  t.is(last.recordsIn, 2000);
  t.deepEqual(last.sinks, [{ id: 'sink:out:0', stream: 'out', connector: 'collect', records: summary.recordsOut }]);
  t.deepEqual(last.sources, [{ name: 'orders', partitions: 2, recordsIn: 2000, backlog: 0 }]);
  const metrics = JSON.parse(await readFile(path, 'utf8'));
  t.deepEqual(metrics.summary, JSON.parse(JSON.stringify(summary)));
  t.is(metrics.status.state, 'done');
});

test('aborting the signal stops reading, drains and ends the run normally', async (t) => {
  const stop = new AbortController();
  let writes = 0;
  const { env, out, commits } = testEnv(orders(200_000, 4), async () => {
    if (++writes === 5) stop.abort();
  });
  const summary = await runPipeline(makePlan({ code: MAP_CHAIN }), { workers: 2, env, libModule: LIB, batchSize: 100, signal: stop.signal });
  t.true(summary.recordsIn < 200_000);
  // Everything read was written and acknowledged before the run ended.
  t.is(out.length, summary.recordsOut);
  t.is([...commits.values()].reduce((n, list) => n + list.at(-1)! + 1, 0), summary.recordsIn);
});
