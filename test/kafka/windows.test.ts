// Windowed aggregation Kafka → Kafka in real `sensei run` processes,
// SIGKILLed mid-window three times and started again: the windows' state
// comes back from the changelog topics. Exactly-once: the output, read with
// read_committed, is exactly the reference computed here (every window
// once, with every record); at-least-once: every window comes out right, some maybe twice.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, deleteTopics, groupOffsets, produce, readTopic, unique } from './helpers.ts';
import { startSensei, topicSize, waitFor } from './processes.ts';
import { orders, pipeline, reference, TOTAL, type Order, type Result } from './windows-helpers.ts';

const cases = [
  { guarantee: 'exactly_once', repartition: false },
  { guarantee: 'at_least_once', repartition: false },
  // Orders keyed by their number, grouped by country: through the repartition topic.
  { guarantee: 'exactly_once', repartition: true },
] as const;

for (const { guarantee, repartition } of cases) {
  test.serial(`${guarantee}: a windowed run${repartition ? ' that repartitions' : ''} killed mid-window three times restores its windows from the changelog${guarantee === 'exactly_once' ? ' and writes every window exactly once' : ' and loses none'}`, async (t) => {
    const [input, output, group] = [unique(`win-in-${guarantee}`), unique(`win-out-${guarantee}`), unique('win')];
    const instance = unique('instance');
    const all = orders();
    let sent = 0;
    const send = (list: Order[]) => produce(input, list.map((o) => ({ key: repartition ? `o${sent++}` : o.country, value: JSON.stringify(o) })));
    try {
      await createTopics([input, 3], [output, 3]);
      let produced = 0;
      const committed: number[] = [];
      for (let kill = 0; kill < 3; kill++) {
        const run = startSensei(pipeline({ input, output, group, guarantee, bounded: false, repartition }), ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
        // Input keeps arriving while it runs, so the kill lands with windows open.
        const until = Math.min(TOTAL, produced + 1500);
        while (produced < until) {
          await send(all.slice(produced, produced + 250));
          produced += 250;
          await sleep(150);
        }
        // Killed once it has committed some of what it read: the next run resumes mid-input, with windows open.
        const before = committed.at(-1) ?? 0;
        const progress = async () => (await groupOffsets(group, input)).reduce((n, p) => n + Math.max(0, p.committed), 0);
        await waitFor('committed progress', async () => (await topicSize(output)) > 0 && (await progress()) > before, 90_000, run);
        run.child.kill('SIGKILL');
        t.is(await run.exited, null, 'killed by the signal');
        committed.push(await progress());
      }
      t.true(committed.every((c) => c < TOTAL), `each kill lands mid-input: committed ${committed.join(', ')}`);
      await send(all.slice(produced));
      // The last run reads to the end of the input, whose end closes the windows still open.
      const last = startSensei(pipeline({ input, output, group, guarantee, bounded: true, repartition }), ['--workers', '2'], { SENSEI_INSTANCE_ID: instance });
      t.is(await last.exited, 0, last.stderr());
      t.notRegex(last.stderr(), /"reason":"late/, 'no record is late');

      const got = (await readTopic(output, { readCommitted: true })).map((m) => JSON.stringify(JSON.parse(m.value!.toString('utf8')) as Result)).sort();
      const want = reference(all);
      if (guarantee === 'exactly_once') t.deepEqual(got, want, 'every window once, with every record');
      else t.deepEqual([...new Set(got)].sort(), want, 'every window, with every record (a window written before a kill may come again)');
    } finally {
      await deleteTopics(input, output, `${group}-revenue-repartition`);
    }
  });
}
