import test from 'ava';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { compile, type ParseCache } from '../../src/compile.ts';
import { compileFile } from '../../src/tooling/host/load.ts';
import { MISSING_FILE } from '../../src/resolve/resolve.ts';

const connectors = builtinConnectorSpecs();

const shared = `pipeline shared
schema Order { id: string, amount: int, country: string? }
`;
const main = `pipeline main
import "lib/shared.sensei"
source orders: Order from datagen { count: 3 }
stream big = orders | where amount > 10 | select { id, amount }
sink big to stdout { format: json }
`;

const codes = (r: { diagnostics: { code: string }[] }) => r.diagnostics.map((d) => d.code);

test('a file the caller has not supplied is a need', (t) => {
  const first = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', main]]), connectors });
  t.deepEqual(first.needs, ['app/lib/shared.sensei']);
  t.deepEqual(first.diagnostics, []);
  t.truthy(first.ast);
  t.is(first.plan, undefined);

  const second = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', main], ['app/lib/shared.sensei', shared]]), connectors });
  t.deepEqual(second.needs, []);
  t.deepEqual(second.diagnostics, []);
  t.truthy(second.resolved);
  t.truthy(second.typed);
  t.is(second.plan?.pipeline, 'main');
  t.deepEqual(Object.keys(second.schemas), ['big', 'sink:big:0']);
  t.like(second.schemas['big'] as object, { type: 'record', fields: [{ name: 'id', type: 'string' }, { name: 'amount', type: 'int' }] });
});

test('the entry itself can be a need', (t) => {
  t.deepEqual(compile({ entry: 'x.sensei', files: new Map(), connectors }).needs, ['x.sensei']);
});

test('a file that does not exist is reported where it is imported', (t) => {
  const r = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', main], ['app/lib/shared.sensei', MISSING_FILE]]), connectors });
  t.deepEqual(r.needs, []);
  t.true(codes(r).includes('import-not-found'));
  t.like(r.diagnostics.find((d) => d.code === 'import-not-found')!.span, { file: 'app/main.sensei', start: { line: 2 } });
  t.is(r.typed, undefined);
});

test('a missing entry file is a diagnostic', (t) => {
  const r = compile({ entry: 'gone.sensei', files: new Map([['gone.sensei', MISSING_FILE]]), connectors });
  t.deepEqual(codes(r), ['import-not-found']);
});

test('syntax errors stop compilation after parsing', (t) => {
  const r = compile({ entry: 'm.sensei', files: new Map([['m.sensei', 'pipeline m\nstream = = orders\n']]), connectors });
  t.true(r.diagnostics.length > 0);
  t.true(r.diagnostics.every((d) => d.span.file === 'm.sensei'));
  t.truthy(r.ast);
  t.is(r.resolved, undefined);
});

test('syntax errors in an imported file stop compilation too', (t) => {
  const r = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', main], ['app/lib/shared.sensei', 'schema Order {{']]), connectors });
  t.true(r.diagnostics.some((d) => d.severity === 'error' && d.span.file === 'app/lib/shared.sensei'));
  t.is(r.resolved, undefined);
  t.is(r.plan, undefined);
});

/** A library whose streams nothing in `main` reads: one with a type error, one with a warning. */
const library = `pipeline lib
import "base.sensei"
source orders: Order from datagen { count: 3 }
stream bad = orders | where amount + "x" > 1
stream noisy = orders | select { id, n: null ?? id }
`;

test('errors in an imported file are errors: in their own file, and import-error at the import', (t) => {
  const files = new Map([
    ['app/main.sensei', 'pipeline main\nimport "lib/lib.sensei"\nsource own: Order from datagen { count: 1 }\nsink own to stdout\n'],
    ['app/lib/lib.sensei', library],
    ['app/lib/base.sensei', shared],
  ]);
  const r = compile({ entry: 'app/main.sensei', files, connectors });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  t.deepEqual(errors.map((d) => [d.code, d.span.file, d.span.start.line]), [
    ['type-mismatch', 'app/lib/lib.sensei', 4],
    ['import-error', 'app/main.sensei', 2],
  ]);
  t.is(errors[1]!.message, 'lib/lib.sensei has an error');
  t.deepEqual(errors[1]!.hints, ['it is at app/lib/lib.sensei:4:29: cannot apply `+` to int and string']);
  // Streams nobody reads never run: their warnings are left out, their errors are not.
  t.false(r.diagnostics.some((d) => d.code === 'unnecessary-coalesce'));
  t.is(r.plan, undefined);
});

test('an error two imports away is an import-error at the entry\'s import that reaches it', (t) => {
  const files = new Map([
    ['main.sensei', 'pipeline main\nimport "mid.sensei"\nimport "other.sensei"\nstream s = orders | where amount > 1\nsink s to stdout\n'],
    ['mid.sensei', 'pipeline mid\nimport "base.sensei"\n'],
    ['base.sensei', `${shared}source orders: Order from datagen { key: "idd" }\n`],
    ['other.sensei', 'pipeline other\n'],
  ]);
  const r = compile({ entry: 'main.sensei', files, connectors });
  t.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.span.file, d.span.start.line]), [
    ['unknown-field', 'base.sensei', 3],
    ['import-error', 'main.sensei', 2],
  ]);
});

test('syntax errors in an imported file are an import-error at the import too', (t) => {
  const r = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', main], ['app/lib/shared.sensei', 'schema Order {{']]), connectors });
  const d = r.diagnostics.find((x) => x.code === 'import-error');
  t.like(d, { span: { file: 'app/main.sensei', start: { line: 2 } }, message: 'lib/shared.sensei has an error' });
});

test('type errors stop compilation before lowering', (t) => {
  const bad = main.replace('amount > 10', 'amount > "ten"');
  const r = compile({ entry: 'app/main.sensei', files: new Map([['app/main.sensei', bad], ['app/lib/shared.sensei', shared]]), connectors });
  t.true(codes(r).includes('type-mismatch'));
  t.truthy(r.resolved);
  t.is(r.plan, undefined);
  t.deepEqual(r.schemas, {});
});

test('unchanged files are not parsed again', (t) => {
  const cache: ParseCache = new Map();
  const files = new Map([['app/main.sensei', main], ['app/lib/shared.sensei', shared]]);
  const first = compile({ entry: 'app/main.sensei', files, connectors, cache });
  const sharedAst = cache.get('app/lib/shared.sensei')!.ast;
  const edited = new Map(files).set('app/main.sensei', main.replace('> 10', '> 20'));
  const second = compile({ entry: 'app/main.sensei', files: edited, connectors, cache });
  t.is(cache.get('app/lib/shared.sensei')!.ast, sharedAst);
  t.not(second.ast, first.ast);
  t.truthy(second.plan);
});

test('compileFile reads imports and schemas relative to the importing file', async (t) => {
  const result = await compileFile('pipelines/routing.sensei', connectors);
  t.deepEqual(result.needs, []);
  t.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  t.truthy(result.plan);
  t.deepEqual([...result.files.keys()].sort(), ['pipelines/routing.sensei', 'pipelines/schemas/order.avsc', 'pipelines/shared.sensei']);
});

test('compileFile reports a missing import and prefers the overlay to the disk', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-compile-'));
  await mkdir(join(dir, 'lib'));
  await writeFile(join(dir, 'main.sensei'), main.replace('lib/shared.sensei', 'lib/nope.sensei'));
  const missing = await compileFile(join(dir, 'main.sensei'), connectors);
  t.true(codes(missing).includes('import-not-found'));
  t.false(missing.files.has(join(dir, 'lib', 'nope.sensei')));

  const overlay = new Map([[join(dir, 'main.sensei'), main], [join(dir, 'lib', 'shared.sensei'), shared]]);
  const fixed = await compileFile(join(dir, 'main.sensei'), connectors, overlay);
  t.deepEqual(fixed.diagnostics, []);
  t.truthy(fixed.plan);
});
