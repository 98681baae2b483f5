import test from 'ava';
import { PLAN_VERSION } from '../../src/plan/plan.ts';
import { validatePlan } from '../../src/plan/validate.ts';

function plan(): Record<string, any> {
  return {
    version: PLAN_VERSION,
    pipeline: 'p',
    sources: [{ id: 'source:a', name: 'a', connector: 'datagen', options: { count: 1, tags: ['x'], nested: { on: true } }, schema: { type: 'record', name: 'A', fields: [] }, keySchema: 'null' }],
    sinks: [{ id: 'sink:a:0', stream: 'a', connector: 'stdout', options: {}, schema: 'string', keySchema: ['null', 'string'] }],
    deadLetter: { connector: 'file', options: { path: 'x' } },
    chains: [{ source: 'source:a', sinks: ['sink:a:0'], operators: [{ id: 'a/0:dedupe', kind: 'dedupe', config: { withinMs: 1000 }, stores: [{ name: 'seen', keySchema: 'string', valueSchema: 'long', retentionMs: 1000 }] }], code: 'return () => {}' }],
    graph: {
      nodes: [
        { id: 'source:a', kind: 'source', type: 'datagen', label: 'a', location: { file: 'f', line: 1, column: 1 } },
        { id: 'sink:a:0', kind: 'sink', type: 'stdout', label: 'a', location: { file: 'f', line: 2, column: 1 } },
      ],
      edges: [{ from: 'source:a', to: 'sink:a:0', schema: 'string', key: 'id' }],
    },
  };
}

const fails = (mutate: (p: Record<string, any>) => void): string => {
  const p = plan();
  mutate(p);
  try {
    validatePlan(p);
    return 'valid';
  } catch (e) {
    return (e as Error).message;
  }
};

test('a well-formed plan is returned as it is', (t) => {
  const p = plan();
  t.is(validatePlan(p), p as never);
  delete p['deadLetter'];
  t.notThrows(() => validatePlan(p));
});

test('the version must match', (t) => {
  t.is(fails((p) => (p['version'] = 1)), 'invalid plan: plan.version: expected plan version 4, found number 1');
});

test('the first bad field is named by its path', (t) => {
  t.is(fails((p) => (p['pipeline'] = 3)), 'invalid plan: plan.pipeline: expected a string, found number 3');
  t.is(fails((p) => delete p['sources'][0].connector), 'invalid plan: plan.sources[0].connector: expected a string, found nothing');
  t.is(fails((p) => (p['sources'][0].options.nested.on = undefined)), 'invalid plan: plan.sources[0].options.nested.on: expected a JSON value, found nothing');
  t.is(fails((p) => (p['sinks'][0].schema = 5)), 'invalid plan: plan.sinks[0].schema: expected an Avro schema (a string, an array or an object), found number 5');
  t.is(fails((p) => (p['chains'][0].operators[0].kind = null)), 'invalid plan: plan.chains[0].operators[0].kind: expected a string, found null');
  t.is(fails((p) => delete p['chains'][0].operators[0].stores[0].valueSchema), 'invalid plan: plan.chains[0].operators[0].stores[0].valueSchema: expected an Avro schema (a string, an array or an object), found nothing');
  t.is(fails((p) => (p['chains'][0].operators[0].stores[0].retentionMs = -1)), 'invalid plan: plan.chains[0].operators[0].stores[0].retentionMs: expected a non-negative number, found number -1');
  t.is(fails((p) => (p['graph'].nodes[1].kind = 'pump')), 'invalid plan: plan.graph.nodes[1].kind: expected one of source, operator, stream, sink, found string "pump"');
  t.is(fails((p) => (p['graph'].nodes[0].location.line = 1.5)), 'invalid plan: plan.graph.nodes[0].location.line: expected a non-negative integer, found number 1.5');
  t.is(fails((p) => (p['graph'].edges[0].key = 1)), 'invalid plan: plan.graph.edges[0].key: expected a string, found number 1');
  t.is(fails((p) => (p['deadLetter'] = [])), 'invalid plan: plan.deadLetter: expected an object, found an array');
  t.is(fails((p) => (p['sources'][0].options = { 'odd key': NaN })), 'invalid plan: plan.sources[0].options["odd key"]: expected a finite number, found number NaN');
});

test('references between parts must resolve', (t) => {
  t.is(fails((p) => (p['chains'][0].source = 'source:b')), 'invalid plan: plan.chains[0].source: unknown source "source:b"');
  t.is(fails((p) => p['chains'][0].sinks.push('sink:x')), 'invalid plan: plan.chains[0].sinks[1]: unknown sink "sink:x"');
  t.is(fails((p) => (p['graph'].edges[0].to = 'nowhere')), 'invalid plan: plan.graph.edges[0].to: unknown node "nowhere"');
});

test('a non-object is rejected at the root', (t) => {
  t.throws(() => validatePlan('plan'), { message: 'invalid plan: plan: expected an object, found string "plan"' });
});
