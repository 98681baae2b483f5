// The fault matrix in CI: one scenario per fault kind, at a few thousand records (npm run
// faults runs every pair and mode, larger). Each counts the sink afterwards with an
// independent reader: nothing lost, nothing duplicated under exactly-once, every key in
// order in a topic, and every run ended saying how (exit 0 with its summary, or non-zero
// with the error; only a bounded run after everything was read may read nothing).
import test from 'ava';
import { failedRuns, runProblems, type RunRecord } from './runs.ts';
import { runScenario, scenarioName, SMALL, type Scenario } from './matrix.ts';

const CI: Scenario[] = [
  { fault: 'kill', pair: 'kafka-kafka', mode: 'exactly-once' },
  { fault: 'broker', pair: 'kafka-postgres', mode: 'exactly-once' },
  { fault: 'postgres', pair: 'file-postgres', mode: 'exactly-once' },
  { fault: 'redis-busy', pair: 'kafka-redis', mode: 'at-least-once' },
  { fault: 'redis-restart', pair: 'kafka-redis', mode: 'at-least-once' },
  { fault: 'worker-crash', pair: 'kafka-postgres', mode: 'exactly-once' },
  { fault: 'join-leave', pair: 'kafka-kafka', mode: 'exactly-once' },
];

const OCCURRENCES: Partial<Record<Scenario['fault'], number>> = { kill: 3, 'join-leave': 2 };

/** A join waits for every partition to commit past it before the leave: the input must outlast two of those waits. */
const sizeOf = (s: Scenario) => (s.fault === 'join-leave' ? { ...SMALL, records: SMALL.records * 3 } : SMALL);

for (const scenario of CI) {
  const exactlyOnce = scenario.mode === 'exactly-once';
  const ordered = scenario.pair.endsWith('-kafka');
  test.serial(`${scenarioName(scenario)}: nothing lost${exactlyOnce ? ' or duplicated' : ''}${ordered ? ', per-key order kept' : ''}; every run says how it ended`, async (t) => {
    t.timeout(360_000);
    const o = await runScenario(scenario, sizeOf(scenario));
    t.log(`recovered after ${o.recoveryMs.map((ms) => `${ms} ms`).join(', ')}; ${o.runs.length} runs in ${Math.round(o.durationMs / 1000)} s`);
    for (const r of failedRuns(o.runs)) t.log(`${r.name} failed and was restarted: ${r.said}`);
    t.is(o.lost, 0, 'nothing lost');
    if (exactlyOnce) t.is(o.duplicated, 0, 'nothing duplicated');
    if (ordered) t.is(o.outOfOrderKeys, 0, 'per-key order kept');
    t.is(o.recoveryMs.length, OCCURRENCES[scenario.fault] ?? 1, 'the fault happened, and the pipeline recovered after each time');
    t.deepEqual(o.problems, [], 'every run ended saying how');
    const last = o.runs.at(-1)!;
    t.is(last.exit, 0, `the last run completed: ${last.said}`);
  });
}

test('a run that fails without saying why, or reads nothing without a bounded source, is a problem', (t) => {
  const run = (r: Partial<RunRecord>): RunRecord => ({ name: 'run', exit: 0, killed: false, bounded: false, recordsIn: 10, said: 'p: done in 1s: 10 records in', ...r });
  t.deepEqual(runProblems([
    run({ exit: null, killed: true, recordsIn: undefined, said: '' }),
    run({ exit: 1, recordsIn: undefined, said: 'error: pipeline p failed: broker down' }),
    run({ bounded: true, recordsIn: 0 }),
    run({}),
  ]), []);
  t.deepEqual(runProblems([
    run({ name: 'silent', exit: 1, recordsIn: undefined, said: 'Segmentation fault' }),
    run({ name: 'no summary', said: '' , recordsIn: undefined }),
    run({ name: 'empty', recordsIn: 0 }),
    run({ name: 'signal', exit: null, recordsIn: undefined, said: '' }),
  ]).map((p) => p.split(' ')[0]), ['silent', 'no', 'empty', 'signal']);
});
