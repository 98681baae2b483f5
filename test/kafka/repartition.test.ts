// Repartitioning through a Kafka topic: orders keyed by their number, so
// every country is in every partition, grouped by country per 10 s window.
// `sensei-run` daemons share the consumer group (and the repartition topic
// between them); one is SIGKILLed mid-window and a third started.
// Exactly-once: the output, read with read_committed, is the reference,
// every window once (the partitions the killed daemon held move twice: to
// the survivor, then to the new daemon, while its transaction is still open).
// At-least-once: nothing is lost (a record the killed daemon had sent on
// before its offsets were committed is sent again, so a window may count it
// twice). Either way the repartition topic's committed records are deleted.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, deleteTopics, groupOffsets, produce, readTopic, topicPartitionCount, unique } from './helpers.ts';
import { startSensei, waitFor } from './processes.ts';
import type { DaemonProcess } from '../daemon/daemon-process.ts';
import { killOneOfTwoDaemons, orders, pipeline, reference, type Order, type Result } from './windows-helpers.ts';

const PARTITIONS = 3;

/** Orders keyed by their number: a country's orders are spread over every partition. */
const send = (input: string, list: Order[], from: number) => produce(input, list.map((o, i) => ({ key: `o${from + i}`, value: JSON.stringify(o) })));

/** One last order per partition, far later, moves every partition's watermark, and so every repartitioned task's, past the windows still open. */
function flush(input: string): Promise<void> {
  const at = Date.UTC(2024, 4, 2);
  return produce(input, Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, key: 'flush', value: JSON.stringify({ country: 'ZZ', amount: 0, at }) })));
}

async function windows(output: string): Promise<Result[]> {
  return (await readTopic(output, { readCommitted: true })).map((m) => JSON.parse(m.value!.toString('utf8')) as Result);
}

test.serial('a bounded run repartitions through the topic <group>-<stream>-repartition: every window once, with every partition\'s records', async (t) => {
  const [input, output, group] = [unique('rep-in'), unique('rep-out'), unique('rep')];
  const all = orders();
  try {
    await createTopics([input, PARTITIONS], [output, PARTITIONS]);
    await send(input, all, 0);
    const run = startSensei(pipeline({ input, output, group, guarantee: 'at_least_once', bounded: true, repartition: true }), ['--workers', '2'], {});
    t.is(await run.exited, 0, run.stderr());
    t.regex(run.stderr(), /revenue-repartition/, 'the summary names the exchange');
    t.is(await topicPartitionCount(`${group}-revenue-repartition`), PARTITIONS, 'created with the source\'s partition count');
    t.deepEqual((await windows(output)).map((w) => JSON.stringify(w)).sort(), reference(all));
  } finally {
    await deleteTopics(input, output, `${group}-revenue-repartition`);
  }
});

for (const guarantee of ['exactly_once', 'at_least_once'] as const) {
  test.serial(`${guarantee}: sensei-run, two daemons repartitioning, one SIGKILLed mid-window and a third started: ${guarantee === 'exactly_once' ? 'every window once, as the reference has it' : 'no record lost'}`, async (t) => {
    const [input, output, group] = [unique('repd-in'), unique('repd-out'), unique('repd')];
    const all = orders();
    const file = pipeline({ input, output, group, guarantee, bounded: false, repartition: true });
    const daemons: DaemonProcess[] = [];
    try {
      await createTopics([input, PARTITIONS], [output, PARTITIONS]);
      // A dies with windows open, records in the repartition topic and a transaction in flight.
      t.is(await killOneOfTwoDaemons({ file, input, output, group, all, send: (list, from) => send(input, list, from), daemons }), 'SIGKILL');
      await flush(input);
      const want = reference(all);
      await waitFor('every window', async () => new Set((await windows(output)).map((w) => `${w.country} ${w.window_start}`)).size >= want.length, 120_000);
      await sleep(1000);
      const got = await windows(output);
      if (guarantee === 'exactly_once') t.deepEqual(got.map((w) => JSON.stringify(w)).sort(), want, 'every window once, with every record');
      else {
        // Each window of the reference, with at least its records (the most a window was written with: its last update).
        const most = new Map<string, Result>();
        for (const w of got) {
          const id = `${w.country} ${w.window_start}`;
          if ((most.get(id)?.orders ?? -1) < w.orders) most.set(id, w);
        }
        const short = want.map((j) => JSON.parse(j) as Result).filter((w) => {
          const g = most.get(`${w.country} ${w.window_start}`);
          return !g || g.orders < w.orders || g.revenue < w.revenue;
        });
        t.deepEqual(short, [], 'no window is missing records');
      }
      // The records of the repartition topic that the group committed are deleted (purge_interval: 1s).
      const repartition = await groupOffsets(group, `${group}-revenue-repartition`);
      t.true(repartition.every((p) => p.low > 0 && p.low <= p.committed), `purged up to the committed offsets: ${JSON.stringify(repartition)}`);
    } finally {
      for (const d of daemons) d.child.kill('SIGKILL');
      await deleteTopics(input, output, `${group}-revenue-repartition`);
    }
  });
}
