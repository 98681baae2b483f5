// Conformance, redelivery after a crash (at-least-once): a reader that read records and
// went away without committing them (closed without commit, as a crashed run never
// acknowledges them) is followed by a reader that delivers those records again. Sources
// with `positions: none` in the table (harness.ts) say why they have nothing to redeliver.
import test from 'ava';
import type { SourceBatch } from '../../src/spi/connector.ts';
import { drain, shutdown, sources, valuesOf, within } from './harness.ts';

test.after.always(shutdown);

const PER_PARTITION = 40;
const MAX = 8;

for (const source of sources) {
  const { positions } = source;
  if (positions.kind === 'none') continue; // nothing durable to redeliver from: see `why` in the table
  const how = positions.kind === 'committed' ? 'after the last commit' : `from the first record (${positions.why})`;
  test(`${source.name} source: records read but never committed are delivered again by the next reader, ${how}`, async (t) => {
    const input = await source.input(PER_PARTITION);
    try {
      const crashed = new AbortController();
      const reader = await input.open(crashed.signal);
      /** Per partition: records acknowledged before the crash, and the ones read after them and never acknowledged. */
      const acknowledged: SourceBatch[] = [];
      const unacknowledged: SourceBatch[] = [];
      try {
        for (let p = 0; p < input.partitions; p++) {
          const first = await within(20_000, `partition ${p}, first read`, reader.read(p, MAX));
          t.truthy(first, `partition ${p} has records`);
          if (reader.commit) await reader.commit(p, first!.offsets.at(-1)!);
          acknowledged.push(first!);
          const next = await within(20_000, `partition ${p}, second read`, reader.read(p, MAX));
          t.truthy(next, `partition ${p} has more records`);
          unacknowledged.push(next!);
        }
      } finally {
        // The crash: the reader goes away with the second batch of each partition unacknowledged.
        await reader.close();
        crashed.abort();
      }
      const restarted = new AbortController();
      const again = await input.open(restarted.signal);
      try {
        for (let p = 0; p < input.partitions; p++) {
          // Sources with durable positions continue after the acknowledged records; the others replay them too.
          const acked = acknowledged[p]!.offsets.length;
          const skipped = positions.kind === 'committed' ? acked : 0;
          const redelivered = await within(20_000, `partition ${p} after the crash`, drain(again, p, input.expected[p]!.length - skipped, MAX));
          const values = redelivered.flatMap(valuesOf);
          const lost = valuesOf(unacknowledged[p]!);
          const lostAt = acked - skipped;
          t.deepEqual(values.slice(lostAt, lostAt + lost.length), lost, `partition ${p}: the unacknowledged records come again`);
          t.deepEqual(values, input.expected[p]!.slice(skipped), `partition ${p}: and everything after them`);
        }
      } finally {
        await again.close();
        restarted.abort();
      }
      t.deepEqual(input.letters, []);
    } finally {
      await input.cleanup();
    }
  });
}
