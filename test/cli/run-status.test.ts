import test from 'ava';
import type { PipelineStatus, PipelineSummary } from '../../runtime/index.ts';
import { statusLine, summaryText } from '../../src/tooling/cli/run.ts';

const status: PipelineStatus = {
  pipeline: 'orders',
  state: 'running',
  elapsedMs: 12_345,
  workers: 3,
  recordsIn: 612_000,
  recordsOut: 598_500,
  deadLetters: 0,
  inRate: 50_012,
  outRate: 49_800,
  backlog: 1234,
  utilization: 0.7,
  inflightBatches: 5,
  rebalances: 1,
  sources: [{ name: 'orders', partitions: 12, recordsIn: 612_000, backlog: 1234 }],
  sinks: [{ id: 'sink:paid:0', stream: 'paid', connector: 'stdout', records: 598_500 }],
  partitions: [],
  lateRecords: 0,
  outages: [],
  stalled: [],
  lookups: [], connections: [],
  pool: [
    { id: 0, partitions: 4, utilization: 0.7, recordsPerSec: 16_000 },
    { id: 1, partitions: 4, utilization: 0.7, recordsPerSec: 16_000 },
    { id: 2, partitions: 4, utilization: 0.7, recordsPerSec: 16_000 },
  ],
};

test('the status line shows throughput, lag, workers and partitions per worker', (t) => {
  t.is(
    statusLine(status),
    'orders running 12s | in 50.0k/s out 49.8k/s | lag 1.2k | 3 workers, partitions 4/4/4 | 612.0k in 598.5k out',
  );
  t.is(
    statusLine({ ...status, workers: 1, pool: [{ id: 0, partitions: 12, utilization: 1, recordsPerSec: 1 }], deadLetters: 7, elapsedMs: 900 }),
    'orders running 0.9s | in 50.0k/s out 49.8k/s | lag 1.2k | 1 worker, partitions 12 | 612.0k in 598.5k out 7 dead',
  );
  t.false(statusLine(status).includes('\n'), 'one line, rewritten in place');
});

test('with stateful partitions the status line adds their entries, the watermark furthest behind and late records', (t) => {
  const state = (entries: number, watermarkLagMs: number | null) => ({ entries: { 'w/0:aggregate': entries }, watermark: null, watermarkLagMs, lateRecords: 0, restoreMs: null });
  const line = statusLine({
    ...status, lateRecords: 12,
    partitions: [
      { source: 'orders', partition: 0, worker: 0, backlog: 0, state: state(1500, 4_000) },
      { source: 'orders', partition: 1, worker: 1, backlog: 0, state: state(500, 61_000) },
    ],
  });
  t.true(line.endsWith(' | state 2.0k entries, watermark 61s behind, 12 late'), line);
});

test('the summary names records, sinks and workers', (t) => {
  const summary: PipelineSummary = {
    pipeline: 'orders',
    durationMs: 2500,
    recordsIn: 1000,
    recordsOut: 400,
    deadLetters: 2,
    skipped: 1,
    throughput: 400,
    sources: [{ name: 'orders', records: 1000 }],
    sinks: [{ id: 'sink:paid:0', stream: 'paid', connector: 'stdout', records: 400 }],
    workers: { initial: 1, final: 3, max: 4 },
    rebalances: 2,
    moves: [],
    crashes: 1,
    decisions: [],
  };
  t.is(
    summaryText(summary),
    [
      'orders: done in 2.5s: 1000 records in, 400 out, 2 dead letters, 1 skipped (400 records/s)',
      '  sources: orders 1000',
      '  sinks:   paid → stdout 400',
      '  workers: 1 → 3 (max 4), 2 rebalances, 1 crash',
      '',
    ].join('\n'),
  );
});
