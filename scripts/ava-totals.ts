// Reduces ava 7's console output to the one line CI reports: `ava: N passed, N failed`.
// Usage: node --import tsx scripts/ava-totals.ts <ava-log> <ava-exit-status>
// Prints the line; exits 1 when ava printed no totals, else 0.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface AvaTotals {
  passed: number;
  failed: number;
  /** False when the output holds no test results at all (ava did not run or crashed early). */
  found: boolean;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function lastCount(lines: string[], pattern: RegExp): number | undefined {
  let count: number | undefined;
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) count = Number(match[1]);
  }
  return count;
}

export function avaTotals(output: string, exitStatus: number): AvaTotals {
  const lines = output.replace(ANSI, '').split(/\r?\n/).map((l) => l.trim());
  // ava prints "N tests passed" only when nothing failed, so passes are counted from
  // the per-test "✔" lines (known failures included: "✔ [expected fail]").
  const ticks = lines.filter((l) => l.startsWith('✔ ')).length;
  const passedLine = lastCount(lines, /^(\d+) tests? passed$/);
  const knownFailures = lastCount(lines, /^(\d+) known failures?$/);
  const failedTests = lastCount(lines, /^(\d+) tests? failed$/);
  const failedHooks = lastCount(lines, /^(\d+) hooks? failed$/);
  const rejections = lastCount(lines, /^(\d+) unhandled rejections?$/);
  const exceptions = lastCount(lines, /^(\d+) uncaught exceptions?$/);
  const pending = lastCount(lines, /^(\d+) tests? remained pending after a timeout$/);
  const skipped = lastCount(lines, /^(\d+) tests? skipped$/);
  const todo = lastCount(lines, /^(\d+) tests? todo$/);

  const summaries = [passedLine, knownFailures, failedTests, failedHooks, rejections, exceptions, pending, skipped, todo];
  const found = ticks > 0 || summaries.some((n) => n !== undefined);
  if (!found) return { passed: 0, failed: 1, found };

  const passed = Math.max(ticks, (passedLine ?? 0) + (knownFailures ?? 0));
  let failed = [failedTests, failedHooks, rejections, exceptions, pending].reduce<number>((sum, n) => sum + (n ?? 0), 0);
  // A failing run must never read as "0 failed" (e.g. a test file that crashed on load).
  if (exitStatus !== 0 && failed === 0) failed = 1;
  return { passed, failed, found };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [logPath, status] = process.argv.slice(2);
  let output = '';
  try {
    output = readFileSync(logPath ?? '', 'utf8');
  } catch {
    // no log: reported as no totals
  }
  const totals = avaTotals(output, Number(status ?? 1));
  console.log(`ava: ${totals.passed} passed, ${totals.failed} failed`);
  process.exit(totals.found ? 0 : 1);
}
