import test from 'ava';
import { compileResult } from '../support/compile.ts';
import { applyFix, check, expectClean, expectDiagnostic, markers } from './harness.ts';

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
