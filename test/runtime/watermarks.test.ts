import test from 'ava';
import { maxTimestamp, Watermarks } from '../../runtime/time/watermarks.ts';

test('one input: the watermark is the largest timestamp seen, minus the lateness, and never goes back', (t) => {
  const w = new Watermarks(1, { latenessMs: 10, idleMs: Infinity }, 0);
  t.is(w.current(0), -Infinity);
  w.observe(0, 100, 1);
  t.is(w.current(1), 90);
  w.observe(0, 50, 2);
  t.is(w.current(2), 90, 'an older record does not move it back');
  w.observe(0, 130, 3);
  t.is(w.current(3), 120);
});

test('several inputs: the minimum holds the watermark until every input has seen a record', (t) => {
  const w = new Watermarks(2, { latenessMs: 0, idleMs: Infinity }, 0);
  w.observe(0, 500, 1);
  t.is(w.current(1), -Infinity, 'input 1 has seen nothing yet');
  w.observe(1, 200, 2);
  t.is(w.current(2), 200);
  w.observe(1, 900, 3);
  t.is(w.current(3), 500);
});

test('an idle input stops holding the watermark back, and holds it again once records arrive', (t) => {
  const w = new Watermarks(2, { latenessMs: 0, idleMs: 1000 }, 0);
  w.observe(0, 100, 0);
  w.observe(1, 50, 0);
  t.is(w.current(500), 50);
  w.observe(0, 400, 1200);
  t.is(w.current(1200), 400, 'input 1 has been quiet for 1200 ms');
  w.observe(1, 300, 1300);
  t.is(w.current(1300), 400, 'input 1 is back, but the watermark never goes back');
  w.observe(0, 900, 1400);
  t.is(w.current(1400), 400, 'input 1 (300) holds it again');
  w.observe(1, 600, 1500);
  t.is(w.current(1500), 600);
});

test('an input that never sees a record counts as idle once the idle time has passed since the task started', (t) => {
  const w = new Watermarks(2, { latenessMs: 0, idleMs: 1000 }, 10_000);
  w.observe(0, 70, 10_100);
  t.is(w.current(10_500), -Infinity);
  t.is(w.current(11_000), 70);
});

test('maxTimestamp is the largest of a batch, −Infinity for none', (t) => {
  t.is(maxTimestamp([3, 9, 1]), 9);
  t.is(maxTimestamp(new Float64Array([-5, -2])), -2);
  t.is(maxTimestamp([]), -Infinity);
});

test('an input that ended (+Infinity) holds nothing back, even once it has been quiet for the idle time', (t) => {
  const w = new Watermarks(3, { latenessMs: 0, idleMs: 1000 }, 0);
  w.observe(0, Infinity, 100);
  w.observe(1, Infinity, 100);
  t.is(w.current(200), -Infinity, 'input 2 has seen nothing and is not idle yet');
  // Input 2 idle, inputs 0 and 1 ended long ago: nothing holds the watermark.
  t.is(w.current(5000), Infinity);
  const restored = new Watermarks(3, { latenessMs: 0, idleMs: 1000 }, 0, { highest: [null, 5, 7] as unknown as number[], watermark: null as unknown as number });
  t.deepEqual(restored.snapshot(), { highest: [-Infinity, 5, 7], watermark: -Infinity }, 'times kept as JSON (null for ±Infinity) come back as −Infinity');
});
