import test from 'ava';
import { avaTotals } from '../../scripts/ava-totals.ts';

test('all passing: uses the summary and the tick lines', (t) => {
  const output = '\n  ✔ a › one\n  ✔ a › two (1.2s)\n  ─\n\n  2 tests passed\n';
  t.deepEqual(avaTotals(output, 0), { passed: 2, failed: 0, found: true });
});

test('with failures ava prints no passed total: passes are counted from the tick lines', (t) => {
  const output = [
    '  - [skip] a › skipped',
    '  ✔ a › passes',
    '  \x1b[32m✔\x1b[39m a › passes 2',
    '  ✘ [fail]: a › fails Difference',
    '  ✔ [expected fail] a › known',
    '  ✘ test/x/b.test.ts exited with a non-zero exit code: 1',
    '  ─',
    '',
    '  1 test failed',
    '  1 known failure',
    '  1 test skipped',
    '  1 test todo',
    '  1 unhandled rejection',
    '  2 uncaught exceptions',
  ].join('\n');
  t.deepEqual(avaTotals(output, 1), { passed: 3, failed: 4, found: true });
});

test('a failing exit status never reads as 0 failed', (t) => {
  const output = '  ✔ a › one\n  ✘ Timed out while running tests\n';
  t.deepEqual(avaTotals(output, 1), { passed: 1, failed: 1, found: true });
});

test('no totals at all counts as one failure', (t) => {
  t.deepEqual(avaTotals('services: kafka: the broker exited during startup\n', 1), { passed: 0, failed: 1, found: false });
  t.deepEqual(avaTotals('', 0), { passed: 0, failed: 1, found: false });
});
