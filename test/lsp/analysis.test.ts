// The analysis pipeline in process: what the server computes per document version.
import test from 'ava';
import { join } from 'node:path';
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { Analyzer } from '../../src/tooling/lsp/analysis.ts';
import { tempFiles } from './client.ts';

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
