/**
 * `npm run faults`: the whole fault matrix of test/faults/matrix.ts at
 * larger sizes. Prints the table (fault × pair × mode: lost, duplicated,
 * per-key order, time to recover) and writes it as markdown, with the JSON
 * of every outcome, to bench/results/.
 *
 *   npm run faults                        every scenario, 30,000 records each
 *   npm run faults -- --quick             the test sizes (3,000 records)
 *   npm run faults -- --only kill         scenarios whose fault, pair or mode contains a word
 *   npm run faults -- --seed 42           the same fault points again
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { failedRuns } from '../test/faults/runs.ts';
import { faultLabel, LARGE, matrix, modeLabel, PAIRS, runScenario, scenarioName, SMALL, type Outcome, type Scenario } from '../test/faults/matrix.ts';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string', multiple: true, default: [] }, seed: { type: 'string' } } });
const size = args.quick ? SMALL : LARGE;
const baseSeed = args.seed === undefined ? Date.now() % 1_000_000 : Number(args.seed);

type Result = { scenario: Scenario; seed: number } & ({ outcome: Outcome } | { failed: string });

const selected = matrix().filter((s) => args.only.every((word) => `${s.fault} ${s.pair} ${s.mode}`.includes(word)));
const results: Result[] = [];
for (const [i, scenario] of selected.entries()) {
  const seed = baseSeed + i;
  process.stdout.write(`[${i + 1}/${selected.length}] ${scenarioName(scenario)} (seed ${seed}) … `);
  try {
    const outcome = await runScenario(scenario, size, seed);
    results.push({ scenario, seed, outcome });
    process.stdout.write(`${cells(outcome).slice(0, 3).join(', ')}, ${seconds(outcome.durationMs)}\n`);
  } catch (e) {
    results.push({ scenario, seed, failed: (e as Error).message });
    process.stdout.write(`failed\n${(e as Error).message}\n`);
  }
}

const table = markdown(results);
process.stdout.write(`\n${table}`);
mkdirSync('bench/results', { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(`bench/results/faults-${stamp}.md`, table);
writeFileSync(`bench/results/faults-${stamp}.json`, JSON.stringify({ size, baseSeed, results }, null, 2));
process.stdout.write(`\nwritten: bench/results/faults-${stamp}.md and .json\n`);
process.exitCode = results.some((r) => 'failed' in r || !acceptable(r.outcome)) ? 1 : 0;

/** Lost, duplicated, per-key order, time to recover. */
function cells(o: Outcome): string[] {
  return [
    String(o.lost),
    o.duplicated === undefined ? 'overwritten' : String(o.duplicated),
    o.outOfOrderKeys === undefined ? '—' : o.outOfOrderKeys === 0 ? 'kept' : `${o.outOfOrderKeys} keys out of order`,
    o.recoveryMs.map(seconds).join(', '),
  ];
}

/** Nothing lost, nothing duplicated under exactly-once, order kept, every run ended as it should. */
function acceptable(o: Outcome): boolean {
  return o.lost === 0 && (o.scenario.mode === 'at-least-once' || o.duplicated === 0) && !o.outOfOrderKeys && o.problems.length === 0;
}

function markdown(rows: Result[]): string {
  const head = [
    `${size.records.toLocaleString('en')} records per scenario over ${size.keys} keys and ${size.partitions} partitions, ` +
      `a Kafka source fed at ${size.rate.toLocaleString('en')} records/s, outages of ${size.outageMs / 1000} s; ` +
      `${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), load ${loadavg()[0]!.toFixed(1)} at the end; seeds from ${baseSeed}.`,
    '',
    '| fault | pair | mode | lost | duplicated | per-key order | time to recover | runs |',
    '|---|---|---|---:|---:|---|---|---|',
  ];
  const lines = rows.map((r) => {
    const label = [faultLabel(r.scenario.fault), PAIRS[r.scenario.pair], modeLabel(r.scenario)];
    if ('failed' in r) return `| ${[...label, 'failed', '', '', '', r.failed.split('\n')[0]!.replaceAll('|', '\\|')].join(' | ')} |`;
    const o = r.outcome;
    return `| ${[...label, ...cells(o), runsCell(o)].join(' | ')} |`;
  });
  return [...head, ...lines, ''].join('\n');
}

/** How the runs ended: problems first, then failures that said why and were restarted. */
function runsCell(o: Outcome): string {
  const failed = failedRuns(o.runs);
  const text = o.problems.length > 0
    ? o.problems.join('; ')
    : failed.length > 0
      ? `${failed.length} of ${o.runs.length} failed, said why and ${failed.length === 1 ? 'was' : 'were'} restarted: ${failed.map((r) => r.said.split('\n').find((l) => l.startsWith('error: '))).join('; ')}`
      : `${o.runs.length}, each ended as it should`;
  return text.replaceAll('\n', ' ').replaceAll('|', '\\|');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
