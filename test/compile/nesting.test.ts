// Deep nesting is a located `nested-too-deeply` diagnostic from every stage that recurses, never an
// internal error: expressions and types nested past the parser's limit, operator chains past the
// syntax tree's, schemas and .avsc files past the type depth, and chains of streams. Up to the
// limits, every stage (parse, resolve, check, codegen, lower, the formatter) takes the file.
import test from 'ava';
import { MAX_NESTING } from '../../grammar/parser.ts';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { compile, type CompileResult } from '../../src/compile.ts';
import { formatText } from '../../src/format/format.ts';
import { MAX_TREE_DEPTH } from '../../src/syntax/depth.ts';
import { MAX_TYPE_DEPTH } from '../../src/types/type-utils.ts';

const connectors = builtinConnectorSpecs();

function compileFiles(files: Record<string, string>): CompileResult {
  return compile({ entry: 'main.sensei', files: new Map(Object.entries(files)), connectors });
}

/** A pipeline whose `where` holds `condition` on line 3, followed by a second, valid stream. */
function pipeline(condition: string): string {
  return [
    'pipeline p',
    'source s: record R { id: long, tags: array<long> } from datagen { count: 1 }',
    `stream deep = s | where ${condition}`,
    'stream after = s | where id > 1',
    'sink deep to stdout',
    'sink after to stdout',
    '',
  ].join('\n');
}

/** Conditions nested `n` levels deep, each kind through another rule of the grammar. */
const nested: Record<string, (n: number) => string> = {
  parentheses: (n) => `${'('.repeat(n)}id${')'.repeat(n)} > 1`,
  arrays: (n) => `size(${'['.repeat(n - 1)}1${']'.repeat(n - 1)}) > 0`,
  calls: (n) => `${'abs('.repeat(n - 1)}id${')'.repeat(n - 1)} > 1`,
  'if in then': (n) => `${'if id > 1 then '.repeat(n - 1)}true${' else false'.repeat(n - 1)}`,
  'else if': (n) => `${'if id > 1 then false else '.repeat(n - 1)}true`,
  'case in case': (n) => `${'case when id > 1 then '.repeat(n - 1)}true${' else false end'.repeat(n - 1)}`,
  not: (n) => `${'not '.repeat(n - 1)}id > 1`,
  minus: (n) => `${'-'.repeat(n - 1)}id > 1`,
  indexes: (n) => `tags${'[tags'.repeat(n - 2)}[0${']'.repeat(n - 1)} > 1`,
};

/** Chains that the parser reads in a loop, but that make the syntax tree one level deeper per operator. */
const chains: Record<string, (n: number) => string> = {
  'a + b + …': (n) => `${Array(n).fill('id').join(' + ')} > 1`,
  'x or y or …': (n) => Array(n).fill('id > 1').join(' or '),
  'a ?? b ?? …': (n) => `(${Array(n).fill('id').join(' ?? ')}) > 1`,
};

function assertOneDiagnostic(t: import('ava').ExecutionContext, result: CompileResult, line: number, message: RegExp): void {
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  t.deepEqual(errors.map((d) => d.code), ['nested-too-deeply']);
  const [d] = errors;
  t.is(d!.span.file, 'main.sensei');
  t.is(d!.span.start.line, line);
  t.regex(d!.message, message);
  t.true(d!.hints.length > 0);
}

for (const [kind, make] of Object.entries(nested)) {
  test(`${kind}: ${MAX_NESTING} levels compile and format; 1,000 and 100,000 levels are one located diagnostic`, (t) => {
    const atLimit = compileFiles({ 'main.sensei': pipeline(make(MAX_NESTING - 1)) });
    t.deepEqual(atLimit.diagnostics, []);
    t.truthy(atLimit.plan);
    t.truthy(formatText('main.sensei', pipeline(make(MAX_NESTING - 1))).text);

    for (const depth of [MAX_NESTING + 1, 1_000, 100_000]) {
      const result = compileFiles({ 'main.sensei': pipeline(make(depth)) });
      assertOneDiagnostic(t, result, 3, new RegExp(`this expression nests more than ${MAX_NESTING} levels deep`));
      // The other declarations are parsed: the stream after it is there, the deep one is left out.
      t.deepEqual(result.ast!.declarations.filter((d) => d.kind === 'stream').map((d) => d.name.name), ['after']);
    }
    t.is(formatText('main.sensei', pipeline(make(1_000))).text, undefined);
  });
}

test('nesting that passes the limit where the file ends is reported at the end', (t) => {
  // The where's expression is the first level, each parenthesis opens one more.
  const text = `pipeline p\nstream s = i | where ${'('.repeat(MAX_NESTING)}`;
  const result = compileFiles({ 'main.sensei': text });
  const deep = result.diagnostics.filter((d) => d.code === 'nested-too-deeply');
  t.deepEqual(deep.map((d) => [d.span.start.offset, d.span.end.offset]), [[text.length, text.length]]);
});

test(`types: ${MAX_NESTING} levels of arrays and records compile; 1,000 and 100,000 levels are one located diagnostic`, (t) => {
  const arrays = (n: number) => `pipeline p\nschema S {\n  a: ${'array<'.repeat(n)}long${'>'.repeat(n)}\n}\n`;
  const records = (n: number) => `pipeline p\nschema S {\n  a: ${Array.from({ length: n }, (_, i) => `record R${i} { x: `).join('')}long${' }'.repeat(n)}\n}\n`;
  for (const make of [arrays, records]) {
    t.deepEqual(compileFiles({ 'main.sensei': make(MAX_NESTING - 2) }).diagnostics, []);
    for (const depth of [1_000, 100_000]) {
      assertOneDiagnostic(t, compileFiles({ 'main.sensei': make(depth) }), 3, new RegExp(`this type nests more than ${MAX_NESTING} levels deep`));
    }
  }
});

for (const [kind, make] of Object.entries(chains)) {
  test(`${kind}: ${MAX_TREE_DEPTH - 10} operators compile and format; 1,000 and 100,000 are one located diagnostic`, (t) => {
    const long = compileFiles({ 'main.sensei': pipeline(make(MAX_TREE_DEPTH - 10)) });
    t.deepEqual(long.diagnostics.filter((d) => d.severity === 'error'), []);
    t.truthy(long.plan);
    t.truthy(formatText('main.sensei', pipeline(make(MAX_TREE_DEPTH - 10))).text);
    for (const depth of [1_000, 100_000]) {
      const result = compileFiles({ 'main.sensei': pipeline(make(depth)) });
      assertOneDiagnostic(t, result, 3, new RegExp(`this expression nests more than ${MAX_TREE_DEPTH} levels deep`));
      t.deepEqual(result.ast!.declarations.filter((d) => d.kind === 'stream').map((d) => d.name.name), ['after']);
    }
  });
}

/** `n` schemas, each holding the one before (declared in that order, or in reverse). */
function schemaChain(n: number, order: 'forward' | 'reverse'): string {
  const schemas = Array.from({ length: n }, (_, i) => (i === 0 ? 'schema S0 { a: long }' : `schema S${i} { a: S${i - 1} }`));
  if (order === 'reverse') schemas.reverse();
  return ['pipeline p', ...schemas, `source s: S${n - 1} from datagen { count: 1 }`, 'sink s to stdout', ''].join('\n');
}

for (const order of ['forward', 'reverse'] as const) {
  test(`schemas holding one another (${order}): ${MAX_TYPE_DEPTH} levels compile; 1,000 and 10,000 deep are reported`, (t) => {
    t.deepEqual(compileFiles({ 'main.sensei': schemaChain(MAX_TYPE_DEPTH - 1, order) }).diagnostics, []);
    for (const depth of [1_000, 10_000]) {
      const result = compileFiles({ 'main.sensei': schemaChain(depth, order) });
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      t.true(errors.length > 0);
      t.deepEqual([...new Set(errors.map((d) => d.code))], ['nested-too-deeply']);
      t.true(errors.every((d) => d.span.file === 'main.sensei' && d.span.start.line > 1));
    }
  });
}

test(`an .avsc file ${MAX_TYPE_DEPTH} levels deep compiles; 1,000 and 100,000 levels are reported where it is named`, (t) => {
  // n - 1 records, each the type of the one before's field, around a long: n levels.
  const avsc = (n: number) =>
    `${Array.from({ length: n - 1 }, (_, i) => `{"type":"record","name":"R${i}","fields":[{"name":"a","type":`).join('')}"long"${'}]}'.repeat(n - 1)}`;
  const main = 'pipeline p\nschema S = avro "s.avsc"\nsource s: S from datagen { count: 1 }\nsink s to stdout\n';
  t.deepEqual(compileFiles({ 'main.sensei': main, 's.avsc': avsc(MAX_TYPE_DEPTH) }).diagnostics, []);
  for (const depth of [1_000, 100_000]) {
    const result = compileFiles({ 'main.sensei': main, 's.avsc': avsc(depth) });
    t.deepEqual(result.diagnostics.map((d) => [d.code, d.span.start.line]), [['nested-too-deeply', 2]]);
    t.regex(result.diagnostics[0]!.message, new RegExp(`s.avsc: the schema nests more than ${MAX_TYPE_DEPTH} levels deep`));
  }
});

/** `n` streams, each reading the one before (declared in that order, or in reverse). */
function streamChain(n: number, order: 'forward' | 'reverse'): string {
  const streams = Array.from({ length: n }, (_, i) => `stream s${i + 1} = s${i} | where id > ${i}`);
  if (order === 'reverse') streams.reverse();
  return ['pipeline p', 'source s0: record R { id: long } from datagen { count: 1 }', ...streams, `sink s${n} to stdout`, ''].join('\n');
}

for (const order of ['forward', 'reverse'] as const) {
  test(`streams reading one another (${order}): 200 compile; 1,000 and 10,000 are reported`, (t) => {
    const ok = compileFiles({ 'main.sensei': streamChain(200, order) });
    t.deepEqual(ok.diagnostics, []);
    t.truthy(ok.plan);
    for (const depth of [1_000, 10_000]) {
      const result = compileFiles({ 'main.sensei': streamChain(depth, order) });
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      t.true(errors.length > 0);
      t.deepEqual([...new Set(errors.map((d) => d.code))], ['nested-too-deeply']);
      t.regex(errors[0]!.message, /reads through more than 256 streams/);
    }
  });
}
