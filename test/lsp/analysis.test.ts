// The analysis pipeline in process: what the server computes per document version.
import test from 'ava';
import { join } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { Analyzer } from '../../src/tooling/lsp/analysis.ts';
import { tempFiles } from './client.ts';
import { bigPipeline } from '../../bench/lsp.ts';

const SHARED = 'pipeline shared\nschema Order { id: string, amount: double }\n';
const MAIN = 'pipeline main\nimport "shared.sensei"\nsource orders: Order from datagen {}\nstream s = orders | where amount > 0\nsink s to stdout {}\n';

test('an edit re-parses the edited file only: imports keep their parse', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': SHARED });
  const analyzer = new Analyzer(builtinConnectorSpecs());
  const main = join(dir, 'main.sensei');
  const first = await analyzer.analyze(main, 1, MAIN, new Map());
  t.deepEqual(first.diagnostics, []);
  const sharedParse = analyzer.cache.get(join(dir, 'shared.sensei'));
  t.truthy(sharedParse);
  const second = await analyzer.analyze(main, 2, MAIN.replace('> 0', '> 1'), new Map());
  t.deepEqual(second.diagnostics, []);
  t.is(analyzer.cache.get(join(dir, 'shared.sensei')), sharedParse, 'the same parse object, not a new one');
  t.is(second.version, 2);
});

test('a file with a syntax error still has names and scopes for the editor', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': SHARED });
  const analyzer = new Analyzer(builtinConnectorSpecs());
  const broken = MAIN.replace('sink s to stdout {}', 'sink s to stdout { format: ');
  const a = await analyzer.analyze(join(dir, 'main.sensei'), 1, broken, new Map());
  t.true(a.diagnostics.some((d) => d.code === 'parse-error'));
  t.true(a.resolved!.symbols.some((s) => s.name === 'Order' && s.kind === 'schema'));
  const stream = a.ast.declarations.find((d) => d.kind === 'stream')!;
  const where = stream.kind === 'stream' ? stream.operators[0]! : undefined;
  t.deepEqual(a.scopes()!.operators.get(where!)!.fields.map((f) => f.name), ['id', 'amount']);
});

test('open documents are read instead of the disk', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': SHARED });
  const analyzer = new Analyzer(builtinConnectorSpecs());
  const overlay = new Map([[join(dir, 'shared.sensei'), 'pipeline shared\nschema Order { id: string }\n']]);
  const a = await analyzer.analyze(join(dir, 'main.sensei'), 1, MAIN, overlay);
  t.deepEqual(a.diagnostics.map((d) => d.code), ['unknown-field']);
});

test('re-checking only what an edit reaches gives the diagnostics of a check from scratch, edit after edit', async (t) => {
  const analyzer = new Analyzer(builtinConnectorSpecs());
  const path = '/memo/big.sensei';
  let text = bigPipeline(200);
  // Each edit with the diagnostics it leads to: none, errors or warnings.
  const edits: [string, (s: string) => string, 'none' | 'error' | 'warning'][] = [
    ['a literal', (s) => s.replace('where f1 > 0', 'where f1 > 1'), 'none'],
    ['an upstream select drops fields downstream streams read', (s) => s.replace('| select { *, g0: upper(f0) }', '| select { f1, status }'), 'error'],
    ['a line above everything', (s) => `\n${s}`, 'error'],
    ['the select back', (s) => s.replace('| select { f1, status }', '| select { *, g0: upper(f0) }'), 'none'],
    ['a stream nobody reads: a warning', (s) => s.replace('stream s3 =', 'stream unread = s2 | where f1 > 2\n\nstream s3 ='), 'warning'],
    ['a dedupe downstream, repartitioned by its key', (s) => s.replace(/(stream s4 = [^\n]*\n[^\n]*\n[^\n]*\n {2}\| key by f0)/, '$1\n  | dedupe by f0 within 1m'), 'warning'],
    ['lines above the warnings', (s) => s.replace('stream s1 =', '// a comment\n\nstream s1 ='), 'warning'],
    ['a schema field changes type', (s) => s.replace('f1: long', 'f1: string'), 'error'],
    ['and back', (s) => s.replace('f1: string', 'f1: long'), 'warning'],
  ];
  await analyzer.analyze(path, 0, text, new Map());
  let version = 0;
  for (const [what, edit, expected] of edits) {
    text = edit(text);
    const incremental = await analyzer.analyze(path, ++version, text, new Map());
    const fresh = await new Analyzer(builtinConnectorSpecs()).analyze(path, version, text, new Map());
    t.deepEqual(incremental.diagnostics, fresh.diagnostics, what);
    const worst = fresh.diagnostics.some((d) => d.severity === 'error') ? 'error' : fresh.diagnostics.length > 0 ? 'warning' : 'none';
    t.is(worst, expected, what);
  }
  t.true(version === edits.length);
});
