// `scripts/services` started from outside the checkout answers as it does inside it: its probes
// find tsx and their packages in the checkout, not in the working directory. Status only: the
// services keep serving the other tests.
import test from 'ava';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kafkaBrokers } from '../support/services.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function status(cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  // A broker given by SENSEI_KAFKA_BROKERS is always probed, wherever the script keeps its state.
  const env = { ...process.env, SENSEI_KAFKA_BROKERS: kafkaBrokers().join(',') };
  return new Promise((done) => {
    execFile(join(ROOT, 'scripts/services'), ['status'], { cwd, env }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('status run from another directory probes the services as from the checkout', async (t) => {
  const outside = await status(tmpdir());
  t.regex(outside.stdout, /^kafka: external .* \(answers\)$/m, outside.stderr);
  t.is(outside.stderr, '');
  t.deepEqual(outside, await status(ROOT));
});
