// Code lenses over JSON-RPC: on a pipeline's first line, run (when it has a
// sink), run tests (when X.test.yaml is beside it) and show graph, each a
// command the VS Code extension contributes, with the document's URI.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { COMMANDS } from '../../src/tooling/lsp/protocol.ts';
import { ROOT, sharedServer, tempFiles, uriOf } from './client.ts';

const client = sharedServer(test);

const RUNNABLE = '// orders\npipeline orders\nschema Order { id: string }\nsource o: Order from datagen { count: 1 }\nsink o to stdout {}\n';
const LIBRARY = 'pipeline shared\nschema Order { id: string }\n';

const lenses = (uri: string): Promise<CodeLens[] | null> => client.connection.sendRequest('textDocument/codeLens', { textDocument: { uri } });
const commands = (all: CodeLens[]) => all.map((l) => [l.command!.title, l.command!.command]);

test('a runnable pipeline with tests: run, run tests and show graph on its pipeline line', async (t) => {
  const dir = await tempFiles({ 'orders.sensei': RUNNABLE, 'orders.test.yaml': 'tests: []\n' });
  const uri = uriOf(join(dir, 'orders.sensei'));
  client.open(uri, RUNNABLE);
  const all = (await lenses(uri))!;
  t.deepEqual(commands(all), [['Run pipeline', COMMANDS.runPipeline], ['Run tests', COMMANDS.runTests], ['Show graph', COMMANDS.showGraph]]);
  t.true(all.every((l) => l.range.start.line === 1 && JSON.stringify(l.command!.arguments) === JSON.stringify([uri])));
});

test('a file without sinks or tests only shows its graph', async (t) => {
  const dir = await tempFiles({ 'shared.sensei': LIBRARY });
  const uri = uriOf(join(dir, 'shared.sensei'));
  client.open(uri, LIBRARY);
  t.deepEqual(commands((await lenses(uri))!), [['Show graph', COMMANDS.showGraph]]);
});

test('the VS Code extension contributes every command the lenses invoke', async (t) => {
  const manifest = JSON.parse(await readFile(join(ROOT, 'editors/vscode/package.json'), 'utf8'));
  const contributed = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const command of Object.values(COMMANDS)) t.true(contributed.has(command), command);
  const extension = await readFile(join(ROOT, 'editors/vscode/src/extension.ts'), 'utf8');
  for (const key of Object.keys(COMMANDS)) t.regex(extension, new RegExp(`registerCommand\\(COMMANDS\\.${key}\\b`), key);
});
