// Conformance, acknowledgement. Sinks: a write resolves only once its records are readable
// by an independent reader (the runtime acknowledges source offsets on it, so an early
// resolve loses records in a crash). Sources: commit(p, offset) is what a new reader of the
// same group resumes after; sources without durable positions say so in the table
// (harness.ts, `positions`), and what they do instead is tested.
import test from 'ava';
import { byPartition, drain, openSink, type Row, rows, shutdown, sinks, sources, valuesOf, within } from './harness.ts';

test.after.always(shutdown);

const PER_PARTITION = 30;
/** The first read of each partition, the part a reader commits. */
const FIRST = 10;

for (const source of sources) {
  const { positions } = source;
  if (positions.kind === 'committed') {
    test(`${source.name} source: after commit(p, offset) a new reader of the same group resumes right after offset`, async (t) => {
      const input = await source.input(PER_PARTITION);
      try {
        const first = new AbortController();
        const reader = await input.open(first.signal);
        const committed: { count: number; offset: number }[] = [];
        try {
          for (let p = 0; p < input.partitions; p++) {
            const batch = await within(20_000, `first read of partition ${p}`, reader.read(p, FIRST));
            t.truthy(batch, `partition ${p} has records`);
            await reader.commit!(p, batch!.offsets.at(-1)!);
            committed.push({ count: batch!.offsets.length, offset: batch!.offsets.at(-1)! });
          }
        } finally {
          await reader.close();
          first.abort();
        }
        const second = new AbortController();
        const resumed = await input.open(second.signal);
        try {
          for (let p = 0; p < input.partitions; p++) {
            const { count, offset } = committed[p]!;
            const rest = await within(20_000, `partition ${p} after the commit`, drain(resumed, p, input.expected[p]!.length - count, FIRST));
            t.true(rest.length > 0 && rest[0]!.offsets[0]! > offset, `partition ${p} resumes after offset ${offset}, at ${rest[0]?.offsets[0]}`);
            t.deepEqual(rest.flatMap(valuesOf), input.expected[p]!.slice(count), `partition ${p}: the records after the committed ones, none again`);
          }
        } finally {
          await resumed.close();
          second.abort();
        }
        t.deepEqual(input.letters, []);
      } finally {
        await input.cleanup();
      }
    });
  } else if (positions.kind === 'replay') {
    test(`${source.name} source: no commit (${positions.why}); a new reader starts again at the first record`, async (t) => {
      const input = await source.input(PER_PARTITION);
      try {
        const first = new AbortController();
        const reader = await input.open(first.signal);
        t.is(reader.commit, undefined, 'the table says this source has no durable positions');
        const seen = await within(20_000, 'first reads', Promise.all(input.expected.map((_, p) => reader.read(p, FIRST))));
        await reader.close();
        first.abort();
        const second = new AbortController();
        const again = await input.open(second.signal);
        try {
          for (let p = 0; p < input.partitions; p++) {
            const all = await within(20_000, `partition ${p} again`, drain(again, p, input.expected[p]!.length, FIRST));
            t.is<number | undefined, number | undefined>(all[0]?.offsets[0], seen[p]?.offsets[0], `partition ${p} starts at the same offset`);
            t.deepEqual(all.flatMap(valuesOf), input.expected[p]);
          }
        } finally {
          await again.close();
          second.abort();
        }
      } finally {
        await input.cleanup();
      }
    });
  } else {
    test(`${source.name} source: no commit, nothing to resume (${positions.why})`, async (t) => {
      const input = await source.input(1);
      const run = new AbortController();
      try {
        const reader = await input.open(run.signal);
        t.is(reader.commit, undefined, 'the table says this source has no positions');
        await reader.close();
      } finally {
        run.abort();
        await input.cleanup();
      }
    });
  }
}

for (const sink of sinks) {
  test(`${sink.name} sink: once write() resolves, its records are readable by an independent reader`, async (t) => {
    const opened = await openSink(sink);
    try {
      const written: Row[][] = [[], []];
      // Three writes over two partitions, each checked right after its await.
      for (const [step, p] of [0, 1, 0].entries()) {
        const from = written[p]!.length;
        const batch = rows(p, 15, from);
        await within(20_000, `write ${step}`, opened.write(batch, { partition: p, from }));
        written[p]!.push(...batch);
        const expected = written.flatMap((list, q): [number, Row[]][] => (list.length > 0 ? [[q, list]] : []));
        t.deepEqual(byPartition(await opened.readBack()), expected, `after write ${step}`);
      }
      t.deepEqual(opened.letters, []);
    } finally {
      await opened.cleanup();
    }
  });
}
