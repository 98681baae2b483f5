// SIGKILL a real `sensei run` in the middle of a Kafka → Kafka run, start it again:
// at-least-once loses nothing; exactly-once shows every input once to read_committed readers.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegistryClient } from '../../connectors/kafka/registry-client.ts';
import { startSchemaRegistry } from '../support/schema-registry.ts';
import { createTopics, deleteTopics, readTopic, unique } from './helpers.ts';
import { audit, decodeEvents, events, pipelineFile, produceEvents, startSensei, topicSize, waitFor } from './processes.ts';

const TOTAL = 12_000;
const KEYS = 60;

for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
  test.serial(`${guarantee}: killed mid-run and restarted, ${guarantee === 'exactly_once' ? 'no record lost or duplicated for read_committed' : 'no record lost, per-key order kept'}`, async (t) => {
    const registry = await startSchemaRegistry();
    const client = new RegistryClient(registry.url);
    const [input, output, group] = [unique(`crash-in-${guarantee}`), unique(`crash-out-${guarantee}`), unique('crash')];
    const instance = unique('instance');
    const spec = { input, output, registry: registry.url, group, guarantee, name: `crash_${guarantee}` };
    try {
      await createTopics([input, 12], [output, 12]);
      const all = events(0, TOTAL, KEYS);
      await produceEvents(client, input, all.slice(0, 2000));

      // Input keeps arriving while the first process runs, so the kill lands mid-run.
      const first = startSensei(pipelineFile(spec), ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
      await waitFor('output from the first process', async () => (await topicSize(output)) >= 1000, 90_000, first);
      let produced = 2000;
      while (produced < TOTAL / 2) {
        await produceEvents(client, input, all.slice(produced, produced + 1000));
        produced += 1000;
        await sleep(20);
      }
      first.child.kill('SIGKILL');
      t.is(await first.exited, null, 'killed by the signal');
      const beforeRestart = await topicSize(output);
      t.true(beforeRestart < TOTAL, 'the first process did not finish everything');
      await produceEvents(client, input, all.slice(produced));

      // Same group, same instance (so the same transactional id fences the dead process's transaction); bounded: ends when done.
      const second = startSensei(pipelineFile({ ...spec, bounded: true }), ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
      const code = await second.exited;
      t.is(code, 0, second.stderr());

      const out = await decodeEvents(client, await readTopic(output, { readCommitted: true }));
      const result = audit(all, out);
      t.deepEqual(result.missing, [], 'nothing lost');
      t.deepEqual(result.outOfOrder, [], 'per-key order kept');
      if (guarantee === 'exactly_once') t.is(result.duplicates, 0, 'read_committed sees every input once');
      else t.log(`at-least-once: ${result.duplicates} duplicates after the kill`);
    } finally {
      await deleteTopics(input, output);
      await registry.close();
    }
  });
}
