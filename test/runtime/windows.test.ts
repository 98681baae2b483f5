// Windowed aggregation against a reference computed here with plain loops:
// tumbling, hopping, cumulating and session windows over out-of-order input
// with late records, several keys per partition, random batch boundaries,
// and a task that moves to another worker (its snapshot through structured
// clone) half-way through.
import test from 'ava';
import { BatchRunner, type BatchInput } from '../../runtime/worker/batch.ts';
import { TaskOperators } from '../../runtime/operators/task-operators.ts';
import { stdlib } from '../../runtime/stdlib.ts';
import type { Plan } from '../../src/plan/plan.ts';
import { compilePlan } from '../support/compile.ts';
import { canonical, events, PIPELINE, random, reference, SHAPES, split, type Event, type Row, type Shape } from './window-reference.ts';

// ------------------------------------------------------------ the engine

async function runEngine(plan: Plan, input: Event[], batches: [number, number][], moveAt: number): Promise<{ rows: Record<Shape, Row[]>; late: Record<string, number> }> {
  const chain = plan.chains[0]!;
  const sinkIds = plan.sinks.map((s) => s.id);
  const source = plan.sources[0]!;
  const runner = new BatchRunner({
    pipeline: plan.pipeline,
    chains: [{ source: source.name, code: chain.code, sinks: chain.sinks.map((id) => sinkIds.indexOf(id)), operators: chain.operators, schema: source.schema, keySchema: source.keySchema, eventTime: source.eventTime }],
    sinks: plan.sinks.map((s) => ({ id: s.id, connector: s.connector, format: 'json', schema: s.schema, keySchema: s.keySchema, withKeys: false })),
  }, stdlib);
  const c = runner.chains[0]!;
  let ops = new TaskOperators(c.operators, undefined, 0, c.eventTime);
  const rows = Object.fromEntries(Object.keys(SHAPES).map((s) => [s, [] as Row[]])) as Record<Shape, Row[]>;
  const late: Record<string, number> = {};
  const take = (result: ReturnType<BatchRunner['run']>) => {
    result.outputs.forEach((out, i) => {
      if (!out) return;
      const sink = plan.sinks.find((s) => s.id === chain.sinks[i])!;
      for (const line of Buffer.from(out.data).toString('utf8').split('\n').filter(Boolean)) {
        const r = JSON.parse(line) as Row & { window_start: string; window_end: string };
        rows[sink.stream as Shape].push({ ...r, window_start: Date.parse(r.window_start), window_end: Date.parse(r.window_end) });
      }
    });
    for (const e of result.errors) late[e.operator] = (late[e.operator] ?? 0) + e.count;
  };
  for (const [b, [from, to]] of batches.entries()) {
    if (b === moveAt) ops = new TaskOperators(c.operators, structuredClone(ops.snapshot()), 0, c.eventTime);
    const slice = input.slice(from, to);
    const batch: BatchInput = {
      count: slice.length,
      values: (f, t) => slice.slice(f, t),
      keys: (f, t) => new Array<unknown>(t - f).fill(null),
      offsets: slice.map((_, i) => from + i),
      timestamps: slice.map(() => 0),
      chunk: 7,
    };
    take(runner.run(c, 0, ops, batch));
  }
  take(await runner.endOfInput(c, 0, ops, input.length - 1, () => Promise.reject(new Error('no lookups'))));
  return { rows, late };
}


for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: every window shape gives the reference's results and late records, across batches and a move`, async (t) => {
    const plan = compilePlan(PIPELINE);
    const rnd = random(seed);
    const input = events(1500, rnd);
    const batches = split(input.length, rnd);
    const engine = await runEngine(plan, input, batches, Math.floor(batches.length / 2));
    let lateTotal = 0;
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      const ref = reference(shape, input, batches);
      t.true(ref.rows.length > 20, `${shape}: the input makes many windows`);
      t.deepEqual(canonical(engine.rows[shape]), canonical(ref.rows), shape);
      const operator = plan.chains[0]!.operators.find((o) => o.id.startsWith(`${shape}/`))!.id;
      t.is(engine.late[operator] ?? 0, ref.late, `${shape}: late records`);
      lateTotal += ref.late;
    }
    t.true(lateTotal > 0, 'some records are late');
  });
}
