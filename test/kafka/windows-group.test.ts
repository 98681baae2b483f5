// Windowed aggregation with processes sharing the consumer group: two
// `sensei run` processes, one stopped and a third added mid-stream, so
// partitions (and their windows' state) move between processes through
// the changelog topics. Exactly-once: the output, read with
// read_committed, is exactly the reference.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, deleteTopics, groupOffsets, produce, readTopic, unique } from './helpers.ts';
import { startSensei, topicSize, waitFor, type SenseiProcess } from './processes.ts';
import { orders, pipeline, reference, type Order, type Result } from './windows-helpers.ts';

const PARTITIONS = 3;

test.serial('two processes, one stopped and one added mid-stream: every window exactly once, as the reference has it', async (t) => {
  const [input, output, group] = [unique('wing-in'), unique('wing-out'), unique('wing')];
  const all = orders();
  const send = (list: Order[]) => produce(input, list.map((o) => ({ key: o.country, value: JSON.stringify(o) })));
  const file = pipeline({ input, output, group, guarantee: 'exactly_once', bounded: false });
  const start = (name: string) => startSensei(file, ['--workers', '1'], { SENSEI_INSTANCE_ID: unique(name) });
  const running: SenseiProcess[] = [];
  try {
    await createTopics([input, PARTITIONS], [output, PARTITIONS]);
    running.push(start('a'), start('b'));
    const third = Math.floor(all.length / 3);
    for (let at = 0; at < third; at += 250) {
      await send(all.slice(at, Math.min(third, at + 250)));
      await sleep(100);
    }
    // Once both work and have committed, A leaves the group (its partitions and their windows go to B), then C joins (some come to it).
    await waitFor('windows written and offsets committed', async () => (await topicSize(output)) > 0 && (await groupOffsets(group, input)).every((p) => p.committed > 0), 90_000, running[0]);
    running[0]!.child.kill('SIGTERM');
    await running[0]!.exited;
    t.regex(running[0]!.stderr(), /done in/, 'A drained and stopped');
    for (let at = third; at < 2 * third; at += 250) {
      await send(all.slice(at, Math.min(2 * third, at + 250)));
      await sleep(100);
    }
    running.push(start('c'));
    for (let at = 2 * third; at < all.length; at += 250) {
      await send(all.slice(at, at + 250));
      await sleep(100);
    }
    // One last order per partition, far later, moves every watermark past the windows still open.
    const flush = Date.UTC(2024, 4, 2);
    await produce(input, Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, key: 'ZZ', value: JSON.stringify({ country: 'ZZ', amount: 0, at: flush }) })));
    const want = reference(all);
    let got: string[] = [];
    await waitFor('every window', async () => {
      got = (await readTopic(output, { readCommitted: true })).map((m) => JSON.stringify(JSON.parse(m.value!.toString('utf8')) as Result)).sort();
      return got.length >= want.length;
    }, 120_000, running[1]);
    await sleep(1000);
    got = (await readTopic(output, { readCommitted: true })).map((m) => JSON.stringify(JSON.parse(m.value!.toString('utf8')) as Result)).sort();
    t.deepEqual(got, want, 'every window once, with every record');
  } finally {
    for (const p of running) p.child.kill('SIGKILL');
    await deleteTopics(input, output);
  }
});
