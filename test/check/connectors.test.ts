import test from 'ava';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { compile } from '../../src/compile.ts';
import type { ConnectorRole } from '../../src/spi/spec.ts';
import { compileResult } from '../support/compile.ts';
import { applyFix, type Checked, check, expectClean, expectDiagnostic, markers } from './harness.ts';

const base = 'pipeline p\nschema A { x: string }\n';

test('options become constants, completed with defaults (durations in milliseconds)', (t) => {
  const c = check(`${base}source a: A from kafka { topic: "t", linger: 250ms, acks: all, idempotent: true }
sink a to file { path: "out.jsonl" }
dead letter to file { path: "dlq.jsonl", flush: 2s }`);
  expectClean(t, c);
  t.deepEqual(c.typed!.sources[0]!.options, { topic: 't', linger: 250, acks: 'all', idempotent: true, brokers: ['localhost:9092'] });
  t.deepEqual(c.typed!.sinks[0]!.options, { path: 'out.jsonl', flush: 1000 });
  t.deepEqual(c.typed!.deadLetter?.options, { path: 'dlq.jsonl', flush: 2000 });
  t.is(c.typed!.deadLetter?.connector, 'file');
});

test('a string-list option takes a list or one string', (t) => {
  const c = check(`${base}source a: A from kafka { topic: "t", brokers: ["b1:9092", "b2:9092"] }
source b: A from kafka { topic: "t", brokers: "b3:9092" }
sink a to stdout
sink b to stdout`);
  expectClean(t, c);
  t.deepEqual(c.typed!.sources.map((s) => s.options.brokers), [['b1:9092', 'b2:9092'], ['b3:9092']]);
});

test('an unknown connector gets a suggestion among those that fit', (t) => {
  const c = check(`${base}source a: A from datagen\nsink a to ⟦stdot⟧`);
  const d = expectDiagnostic(t, c, 'unknown-connector');
  t.true(applyFix(c, d).includes('sink a to stdout'));
});

test('a sink-only connector used as a source', (t) => {
  const d = expectDiagnostic(t, check(`${base}source a: A from ⟦stdout⟧\nsink a to stdout`), 'wrong-direction');
  t.regex(d.message, /cannot be a source; it can be a sink/);
});

test('a source-only connector as a dead letter target', (t) => {
  expectDiagnostic(t, check(`${base}source a: A from datagen\nsink a to stdout\ndead letter to ⟦datagen⟧`), 'wrong-direction');
});

test('an unknown option gets a suggestion and a fix', (t) => {
  const c = check(`${base}source a: A from datagen { ⟦partitons⟧: 3 }\nsink a to stdout`);
  const d = expectDiagnostic(t, c, 'unknown-option');
  t.true(applyFix(c, d).includes('{ partitions: 3 }'));
});

test('a required option that is missing', (t) => {
  const d = expectDiagnostic(t, check(`${base}source a: A from datagen\nsink a to ⟦file⟧ { flush: 1s }`), 'missing-option');
  t.regex(d.message, /needs the option `path`/);
});

test('an enum option written as a bare word, misspelt', (t) => {
  const c = check(`${base}source a: A from datagen\nsink a to stdout { format: ⟦jsn⟧ }`);
  const d = expectDiagnostic(t, c, 'invalid-option');
  t.true(applyFix(c, d).includes('{ format: json }'));
});

test('an int option below its minimum', (t) => {
  const d = expectDiagnostic(t, check(`${base}source a: A from datagen { partitions: ⟦0⟧ }\nsink a to stdout`), 'invalid-option');
  t.regex(d.message, /at least 1/);
});

test('a duration option above its maximum', (t) => {
  expectDiagnostic(t, check(`${base}source a: A from kafka { topic: "t", linger: ⟦2m⟧ }\nsink a to stdout`), 'invalid-option');
});

test('a duration option given as a plain number', (t) => {
  const d = expectDiagnostic(t, check(`${base}source a: A from kafka { topic: "t", linger: ⟦100⟧ }\nsink a to stdout`), 'invalid-option');
  t.regex(d.hints[0]!, /500ms/);
});

test('options of the wrong type', (t) => {
  expectDiagnostic(t, check(`${base}source a: A from kafka { topic: ⟦1⟧ }\nsink a to stdout`), 'invalid-option');
  expectDiagnostic(t, check(`${base}source a: A from datagen { count: ⟦1.5⟧ }\nsink a to stdout`), 'invalid-option');
  expectDiagnostic(t, check(`${base}source a: A from kafka { topic: "t", idempotent: ⟦"yes"⟧ }\nsink a to stdout`), 'invalid-option');
  expectDiagnostic(t, check(`${base}source a: A from kafka { topic: "t", brokers: ⟦[1]⟧ }\nsink a to stdout`), 'invalid-option');
});

test('an option set twice', (t) => {
  expectDiagnostic(t, check(`${base}source a: A from datagen { count: 1, ⟦count⟧: 2 }\nsink a to stdout`), 'duplicate-name');
});

test('negative numbers are literals too', (t) => {
  const c = check(`${base}source a: A from datagen { seed: -7 }\nsink a to stdout`);
  expectClean(t, c);
  t.is(c.typed!.sources[0]!.options.seed, -7);
});

test('a URL holding a password is a warning, masked, whose hint names the variables the connector reads instead', (t) => {
  const cases = [
    { sink: 'sink a to postgres { table: "t", url: ⟦"postgres://app:s3cret-pw@db:5432/app"⟧ }', url: 'postgres://app:***@db:5432/app', hint: /set `PGPASSWORD`, or leave `url` out and set `SENSEI_PG_URL`/ },
    { sink: 'sink a to redis { key: "k:{x}", url: ⟦"redis://:s3cret-pw@cache:6379"⟧ }', url: 'redis://:***@cache:6379', hint: /leave `url` out and set `SENSEI_REDIS_URL`/ },
    { sink: 'sink a to kafka { topic: "t", registry: ⟦"https://app:s3cret-pw@registry:8081"⟧ }', url: 'https://app:***@registry:8081', hint: /SENSEI_SCHEMA_REGISTRY_PASSWORD/ },
  ];
  for (const { sink, url, hint } of cases) {
    const { text, marks } = markers(`${base}source a: A from datagen { count: 1 }\n${sink}\n`);
    const warnings = compileResult(text).diagnostics.filter((d) => d.code === 'password-in-url');
    t.is(warnings.length, 1, sink);
    const d = warnings[0]!;
    t.is(d.severity, 'warning');
    t.deepEqual([d.span.start.offset, d.span.end.offset], [marks[0]!.start, marks[0]!.end]);
    t.true(d.message.includes(url), d.message);
    t.regex(d.hints[0]!, hint);
    t.false(JSON.stringify(d).includes('s3cret-pw'));
  }
});

test('a URL with a user and no password is fine', (t) => {
  const c = compileResult(`${base}source a: A from datagen { count: 1 }\nsink a to postgres { table: "t", url: "postgres://app@db:5432/app" }\n`);
  t.deepEqual(c.diagnostics.filter((d) => d.code === 'password-in-url'), []);
});

// ------------------------------------------------------------ the built-in connectors' specs

const connectors = builtinConnectorSpecs();

/** Pipeline text with ⟦…⟧ markers through the compiler with the built-in connectors. */
function builtin(entry: string): Checked {
  const { text, marks } = markers(entry);
  const result = compile({ entry: 'main.sensei', files: new Map([['main.sensei', text]]), connectors });
  return { text, marks, diagnostics: result.diagnostics, needs: result.needs };
}

const orders = 'pipeline p\nschema Order { id: string, amount: int, gone: boolean }\n';
const errors = (c: Checked) => c.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

test('a field-valued option names a field of the record: one unknown-field, with a suggestion and a fix', (t) => {
  const c = builtin(`${orders}source o: Order from datagen { count: 1, key: ⟦"idd"⟧ }\nsink o to stdout`);
  t.deepEqual(errors(c), ['unknown-field']);
  const d = expectDiagnostic(t, c, 'unknown-field');
  t.regex(d.message, /option `key` of `datagen` names `idd`, which is not a field of record Order/);
  t.deepEqual(d.hints, ['did you mean `id`?']);
  t.true(applyFix(c, d).includes('key: "id"'));
});

test('field-valued options of every connector and role are checked against the record they read or write', (t) => {
  const cases = [
    'source o: Order from file { path: "in.jsonl", key: ⟦"amont"⟧ }\nsink o to stdout',
    'source o: Order from datagen\nsink o to postgres { table: "t", mode: upsert, key: ⟦["id", "amont"]⟧ }',
    'source o: Order from datagen\nsink o to postgres { table: "t", mode: upsert, delete_field: ⟦"gon"⟧ }',
    'source o: Order from datagen\nsink o to redis { key: ⟦"order:{idd}"⟧ }',
    'source o: Order from datagen\nsink o to redis { key: "order:{id}", value_field: ⟦"amont"⟧ }',
    // The record a sink writes is the stream's output, not the source's.
    'source o: Order from datagen\nstream s = o | select { id }\nsink s to redis { key: "k", delete_field: ⟦"gone"⟧ }',
  ];
  for (const text of cases) {
    const c = builtin(`${orders}${text}`);
    t.deepEqual(errors(c), ['unknown-field'], text);
    expectDiagnostic(t, c, 'unknown-field');
  }
  const template = expectDiagnostic(t, builtin(`${orders}source o: Order from datagen\nsink o to redis { key: ⟦"order:{idd}:{id}"⟧ }`), 'unknown-field');
  t.regex(template.message, /`\{idd\}` in option `key` of `redis`/);
  t.deepEqual(errors(builtin(`${orders}source o: Order from datagen { key: "id" }\nsink o to redis { key: "order:{id}", value_field: "amount", delete_field: "gone" }`)), []);
});

test('an option of another role is an error, one per option', (t) => {
  const cases: [string, RegExp][] = [
    ['source o: Order from datagen\nsink o to kafka { topic: "t", ⟦group⟧: "g", ⟦bounded⟧: true }', /applies to a source, not to a sink/],
    ['source o: Order from kafka { topic: "t", ⟦compression⟧: gzip }\nsink o to stdout', /applies to a sink or a dead letter target, not to a source/],
    ['source o: Order from file { path: "in.jsonl", ⟦append⟧: true }\nsink o to stdout', /applies to a sink or a dead letter target, not to a source/],
    ['source o: Order from datagen\nsink o to file { path: "out.jsonl", ⟦format⟧: json }', /applies to a source, not to a sink/],
    ['source o: Order from datagen\nsink o to stdout\ndead letter to kafka { topic: "dlq", ⟦subject_strategy⟧: record }', /applies to a sink, not to a dead letter target/],
  ];
  for (const [text, message] of cases) {
    const c = builtin(`${orders}${text}`);
    const marked = c.marks.length;
    t.deepEqual(errors(c), Array(marked).fill('unknown-option'), text);
    for (let i = 0; i < marked; i++) t.regex(expectDiagnostic(t, c, 'unknown-option', i).message, message);
  }
});

test('a required option of the wrong type is one invalid-option, not also missing', (t) => {
  const c = builtin(`${orders}source o: Order from datagen\nsink o to file { path: ⟦42⟧ }`);
  t.deepEqual(errors(c), ['invalid-option']);
  t.regex(expectDiagnostic(t, c, 'invalid-option').message, /option `path` of `file` must be a string/);
  t.deepEqual(errors(builtin(`${orders}source o: Order from datagen\nsink o to file { path: "a", ⟦path⟧: 42 }`)), ['duplicate-name']);
});

test('options of a role are filled with their defaults only in that role', (t) => {
  const plan = compileResult(`${orders}source o: Order from kafka { topic: "in" }\nsink o to kafka { topic: "out" }\n`).plan;
  t.is(plan.sources[0]!.options.bounded, false);
  t.false('bounded' in plan.sinks[0]!.options);
  t.is(plan.sinks[0]!.options.compression, 'none');
  t.false('compression' in plan.sources[0]!.options);
});

/** The roles a doc names at the start of a sentence: `Source: …`, `Sink, upsert: …`, `Lookup: …`. */
function rolesNamedIn(doc: string): Set<ConnectorRole> {
  const named = new Set<ConnectorRole>();
  for (const [, word] of doc.matchAll(/(?:^|\. )(Source|Sink|Lookup)[:,]/g)) named.add(word!.toLowerCase() as ConnectorRole);
  return named;
}

test('every option of the built-in connectors applies to the roles its doc names, and only to roles of its connector', (t) => {
  for (const spec of connectors.values()) {
    for (const option of spec.options) {
      const roles = option.roles ?? spec.roles;
      t.true(roles.every((r) => spec.roles.includes(r)), `${spec.name}.${option.name}: ${roles.join(', ')}`);
      const named = rolesNamedIn(option.doc);
      if (named.size === 0) continue;
      // A dead letter target is a sink too: options for sinks may also apply to it.
      t.deepEqual(new Set(roles.filter((r) => r !== 'dead-letter')), named, `${spec.name}.${option.name}: roles ${roles.join(', ')}, doc "${option.doc}"`);
    }
  }
});
