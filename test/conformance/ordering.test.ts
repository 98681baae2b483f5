// Conformance, ordering: a source hands out the records of a partition in offset order,
// offsets strictly increasing across batches; a sink applies the writes of a partition in
// call order even when they are issued without waiting for one another (the runtime
// pipelines writes: SinkWriter.write says calls for one partition apply in call order).
import test from 'ava';
import { byPartition, drain, openSink, type Row, rows, shutdown, sinks, sources, valuesOf, within } from './harness.ts';

test.after.always(shutdown);

const PER_PARTITION = 40;
/** Small reads, so a partition comes in several batches. */
const MAX = 7;

for (const source of sources) {
  test(`${source.name} source: records of a partition come in offset order with increasing offsets, as written`, async (t) => {
    const input = await source.input(PER_PARTITION);
    const run = new AbortController();
    try {
      const reader = await input.open(run.signal);
      try {
        // One read pending per partition at a time, all partitions at once (as the runtime reads).
        const read = await within(30_000, 'reading every partition', Promise.all(input.expected.map((list, p) => drain(reader, p, list.length, MAX))));
        for (let p = 0; p < input.partitions; p++) {
          const batches = read[p]!;
          for (const b of batches) {
            t.true(b.offsets.length > 0 && b.offsets.length <= MAX, `partition ${p}: a batch of ${b.offsets.length} records for max ${MAX}`);
            t.is(b.timestamps.length, b.offsets.length);
            t.is(b.keys.length, b.offsets.length);
          }
          const offsets = batches.flatMap((b) => b.offsets);
          const increasing = offsets.every((o, i) => i === 0 || o > offsets[i - 1]!);
          t.true(increasing, `partition ${p}: offsets ${offsets.join(',')}`);
          t.deepEqual(batches.flatMap(valuesOf), input.expected[p]);
          if (source.bounded) t.is(await within(5_000, `partition ${p} after its last record`, reader.read(p, MAX)), undefined, `partition ${p} ends`);
          if (reader.backlog) t.is(reader.backlog(p), 0, `partition ${p}: nothing left to read`);
        }
        t.deepEqual(input.letters, []);
      } finally {
        await reader.close();
      }
    } finally {
      run.abort();
      await input.cleanup();
    }
  });
}

const PARTITIONS = 3;
const BATCHES = 6;
const BATCH = 10;

for (const sink of sinks) {
  test(`${sink.name} sink: writes of one partition issued without waiting are applied in call order`, async (t) => {
    const opened = await openSink(sink);
    try {
      const written = Array.from({ length: PARTITIONS }, (_, p) => rows(p, BATCHES * BATCH));
      const writes: Promise<void>[] = [];
      // Partitions interleaved, as a pool of workers answers them.
      for (let b = 0; b < BATCHES; b++) {
        for (let p = 0; p < PARTITIONS; p++) writes.push(opened.write(written[p]!.slice(b * BATCH, (b + 1) * BATCH), { partition: p, from: b * BATCH }));
      }
      await within(30_000, 'the writes', Promise.all(writes));
      t.deepEqual(byPartition(await opened.readBack()), written.map((list, p): [number, Row[]] => [p, list]));
      t.deepEqual(opened.letters, []);
    } finally {
      await opened.cleanup();
    }
  });
}
