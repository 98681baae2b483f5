// The VS Code extension builds into a .vsix that holds the grammar, the
// language configuration, the snippets and both bundles; the bundled server
// (the whole compiler in one file) runs on its own and answers like the
// sources do.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { docUri, ROOT, startServer } from '../lsp/client.ts';

/** Names of the entries in a zip file, from its central directory. */
function zipEntries(zip: Buffer): string[] {
  const END = 0x06054b50;
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END) end--;
  if (end < 0) throw new Error('not a zip file: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

const built = (async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'sensei-vsix-')), 'sensei.vsix');
  await promisify(execFile)(process.execPath, [join(ROOT, 'editors/vscode/build.mjs'), '--out', out], { cwd: ROOT, timeout: 300_000 });
  return out;
})();

test('the .vsix holds the manifest, grammar, language configuration, snippets and bundles', async (t) => {
  const entries = zipEntries(await readFile(await built));
  for (const entry of [
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/syntaxes/sensei.tmLanguage.json',
    'extension/language-configuration.json',
    'extension/snippets/sensei.json',
    'extension/dist/extension.js',
    'extension/dist/server.mjs',
  ]) {
    t.true(entries.includes(entry), entry);
  }
  t.false(entries.some((e) => e.startsWith('extension/src/') || e.startsWith('extension/node_modules/')), 'sources and dependencies stay out');
});

test('the manifest contributes the language, grammar, snippets and the graph command', async (t) => {
  await built;
  const manifest = JSON.parse(await readFile(join(ROOT, 'editors/vscode/package.json'), 'utf8'));
  t.deepEqual(manifest.contributes.languages[0].extensions, ['.sensei']);
  t.is(manifest.contributes.grammars[0].scopeName, 'source.sensei');
  t.true(manifest.contributes.commands.some((c: { command: string }) => c.command === 'sensei.showGraph'));
  const grammar = JSON.parse(await readFile(join(ROOT, 'editors/vscode/syntaxes/sensei.tmLanguage.json'), 'utf8'));
  t.is(grammar.scopeName, 'source.sensei');
});

test('the bundled server checks a pipeline and renders its graph', async (t) => {
  await built;
  const client = await startServer({ diagnosticsDelay: 0 }, [join(ROOT, 'editors/vscode/dist/server.mjs')]);
  try {
    const uri = docUri('bundled.sensei');
    client.open(uri, 'pipeline p\nschema A { id: string, n: long }\nsource a: A from datagen { count: 1 }\nstream b = a | where m > 0\nsink b to stdout {}\n');
    const diagnostics = await client.diagnostics(uri, { version: 1 });
    t.deepEqual(diagnostics.map((d) => d.code), ['unknown-field']);
    const fixed = client.change(uri, 'pipeline p\nschema A { id: string, n: long }\nsource a: A from datagen { count: 1 }\nstream b = a | where n > 0\nsink b to stdout {}\n');
    t.deepEqual(await client.diagnostics(uri, { version: fixed }), []);
    t.regex((await client.graph(uri)).svg ?? '', /<svg/);
    t.is(client.stderr, '');
  } finally {
    await client.stop();
  }
});
