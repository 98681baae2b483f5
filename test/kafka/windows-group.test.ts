// Windowed aggregation with processes sharing the consumer group, so
// partitions (and their windows' state) move between processes through
// the changelog topics: two `sensei run` processes, one stopped and a
// third added mid-stream; and two `sensei-run` daemons, one SIGKILLed
// mid-window and a third started. Exactly-once: the output, read with
// read_committed, is the reference, every window once. At-least-once:
// every window of the reference is in the output with its exact values (a
// window written around a move may come twice).
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopics, deleteTopics, groupOffsets, produce, readTopic, unique } from './helpers.ts';
import { startSensei, topicSize, waitFor, type SenseiProcess } from './processes.ts';
import type { DaemonProcess } from '../daemon/daemon-process.ts';
import { killOneOfTwoDaemons, orders, pipeline, reference, type Order, type Result } from './windows-helpers.ts';

const PARTITIONS = 3;

/** One last order per partition, far later, moves every watermark past the windows still open. */
function flush(input: string): Promise<void> {
  const at = Date.UTC(2024, 4, 2);
  return produce(input, Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, key: 'ZZ', value: JSON.stringify({ country: 'ZZ', amount: 0, at }) })));
}

const distinct = (windows: string[]) => [...new Set(windows)].sort();

const GUARANTEES = ['exactly_once', 'at_least_once'] as const;
type Guarantee = (typeof GUARANTEES)[number];

/** Exactly-once: the windows as written; at-least-once: each distinct window. */
const compared = (guarantee: Guarantee, windows: string[]) => (guarantee === 'exactly_once' ? windows : distinct(windows));
const promise = (guarantee: Guarantee) => (guarantee === 'exactly_once' ? 'every window once, with every record' : 'every window, with every record');

/** Waits until the output holds as many windows as the reference, then reads it once more (a late duplicate would show). */
async function windowsWritten(output: string, count: number, proc?: SenseiProcess): Promise<string[]> {
  const read = async () => (await readTopic(output, { readCommitted: true })).map((m) => JSON.stringify(JSON.parse(m.value!.toString('utf8')) as Result)).sort();
  await waitFor('every window', async () => (await read()).length >= count, 120_000, proc);
  await sleep(1000);
  return read();
}

for (const guarantee of GUARANTEES) {
  test.serial(`${guarantee}: two processes, one stopped and one added mid-stream: every window as the reference has it`, async (t) => {
    const [input, output, group] = [unique('wing-in'), unique('wing-out'), unique('wing')];
    const all = orders();
    const send = (list: Order[]) => produce(input, list.map((o) => ({ key: o.country, value: JSON.stringify(o) })));
    const file = pipeline({ input, output, group, guarantee, bounded: false });
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
      await flush(input);
      const want = reference(all);
      t.deepEqual(compared(guarantee, await windowsWritten(output, want.length, running[1])), want, promise(guarantee));
    } finally {
      for (const p of running) p.child.kill('SIGKILL');
      await deleteTopics(input, output);
    }
  });

  test.serial(`${guarantee}: sensei-run, two daemons, one SIGKILLed mid-window and a third started: every window as the reference has it`, async (t) => {
    const [input, output, group] = [unique('wind-in'), unique('wind-out'), unique('wind')];
    const all = orders();
    const send = (list: Order[]) => produce(input, list.map((o) => ({ key: o.country, value: JSON.stringify(o) })));
    const file = pipeline({ input, output, group, guarantee, bounded: false });
    const daemons: DaemonProcess[] = [];
    try {
      await createTopics([input, PARTITIONS], [output, PARTITIONS]);
      t.is(await killOneOfTwoDaemons({ file, input, output, group, all, send, daemons }), 'SIGKILL');
      await flush(input);
      const want = reference(all);
      t.deepEqual(compared(guarantee, await windowsWritten(output, want.length)), want, promise(guarantee));
    } finally {
      for (const d of daemons) d.child.kill('SIGKILL');
      await deleteTopics(input, output);
    }
  });
}
