// State past a worker's memory limit: the run stops with an error that says
// so and names the setting; the process does not run out of memory.
import test from 'ava';
import { startPipeline } from '../../runtime/index.ts';
import { builtinEnvironment } from '../../connectors/registry.ts';
import { compilePlan } from '../support/compile.ts';
import { LIB } from './helpers.ts';

test('a running aggregate over ever new keys, past a 64 MB worker: the run fails with a clear error', async (t) => {
  const plan = compilePlan(`
pipeline growing
schema Row { id: string, email: string, note: string }
source rows: Row from datagen { seed: 1 }
stream per_id = rows | group by id { n: count(), email: last(email), note: last(note), seen: collect(note) }
sink per_id to file { path: "/dev/null" }
`);
  const run = startPipeline(plan, { workers: 1, env: builtinEnvironment(), libModule: LIB, workerMemoryMb: 64 });
  const error = await t.throwsAsync(run.done);
  t.regex(error!.message, /worker 0 ran out of its memory limit \(64 MB\) with 1 partition holding \d+ state entries: raise the limit \(runtime\.workerMemory/);
});
