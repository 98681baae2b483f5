// Conformance, open and close: every source and sink opens and closes cleanly, a second
// close() is harmless, and a read still pending when a reader closes ends with undefined
// once the run's signal aborts (it neither hangs nor throws).
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { drain, openSink, rows, shutdown, sinks, sources, within } from './harness.ts';

test.after.always(shutdown);

for (const source of sources) {
  test(`${source.name} source: opens, reads, and closes; a second close() does not throw`, async (t) => {
    const input = await source.input(5);
    const run = new AbortController();
    try {
      const reader = await input.open(run.signal);
      t.is(reader.partitions, input.partitions);
      const batches = await within(20_000, 'reading partition 0', drain(reader, 0, input.expected[0]!.length, 10));
      t.is(batches.reduce((n, b) => n + b.offsets.length, 0), input.expected[0]!.length);
      await t.notThrowsAsync(reader.close());
      await t.notThrowsAsync(reader.close());
      t.deepEqual(input.letters, []);
    } finally {
      run.abort();
      await input.cleanup();
    }
  });

  if (typeof source.idle === 'string') continue; // the table says why a read of this source never waits
  const idle = source.idle;
  test(`${source.name} source: a read pending when the reader closes resolves undefined once the signal aborts`, async (t) => {
    const input = await idle();
    const run = new AbortController();
    try {
      const reader = await input.open(run.signal);
      let settled = false;
      const pending = reader.read(0, 10).finally(() => (settled = true));
      await sleep(300);
      t.false(settled, 'with nothing to read, the read waits');
      await reader.close();
      await t.notThrowsAsync(reader.close());
      run.abort();
      t.is(await within(5_000, 'the pending read', pending), undefined);
    } finally {
      run.abort();
      await input.cleanup();
    }
  });
}

for (const sink of sinks) {
  test(`${sink.name} sink: opens and closes cleanly; close() waits for the writes in flight; a second close() does not throw`, async (t) => {
    const opened = await openSink(sink);
    try {
      const records = rows(0, 20);
      const written = opened.write(records, { partition: 0, from: 0 });
      // Not awaited: close() must let the write finish, not drop it.
      await opened.close();
      await t.notThrowsAsync(written);
      await t.notThrowsAsync(opened.close());
      t.deepEqual(await opened.readBack(), records);
      t.deepEqual(opened.letters, []);
    } finally {
      await opened.cleanup();
    }
  });
}
