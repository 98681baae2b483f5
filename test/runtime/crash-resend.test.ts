import test from 'ava';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPipeline } from '../../runtime/index.ts';
import { createEnvironment } from '../../src/spi/environment.ts';
import { workerFileConnector } from '../support/worker-file-sink.ts';
import { DEDUPE_CHAIN, LIB, makePlan, orders, testEnv } from './helpers.ts';

test('a stateful partition whose worker crashed with a write in flight loses nothing: the next owner replays from acknowledged state', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-resend-'));
  const path = join(dir, 'out.jsonl');
  const parts = orders(6000, 3, { duplicateEvery: 5 });
  const { env: base } = testEnv(parts);
  const env = createEnvironment([...base.connectors.values(), workerFileConnector], new URL('../support/worker-file-sink.ts', import.meta.url).href);
  const plan = makePlan({ code: DEDUPE_CHAIN, stateful: true, sink: { connector: 'worker_file', options: { path, doom_after: 6 } } });
  // The next owner starts from the state the coordinator kept for the acknowledged batches, without the lost write's.
  const run = startPipeline(plan, { workers: 2, env, libModule: LIB, batchSize: 40 });
  const summary = await run.done;
  t.is(summary.crashes, 1);

  const written = (await readFile(path, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
  const expected = new Set(parts.flat().map((r) => (r.value as { id: string }).id));
  const missing = [...expected].filter((id) => !written.includes(id));
  t.deepEqual(missing, [], 'every distinct id reaches the sink at least once');
});
