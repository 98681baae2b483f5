// The VS Code extension builds into a .vsix that holds the grammar, the
// language configuration, the snippets, the icon, the JSON schemas and both
// bundles; the bundled server (the compiler and the connectors' specs in one
// file, no connector client library) runs on its own and answers like the
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
    'extension/icon.png',
    'extension/schemas/sensei-run.schema.json',
    'extension/schemas/sensei-test.schema.json',
  ]) {
    t.true(entries.includes(entry), entry);
  }
  t.false(entries.some((e) => e.startsWith('extension/src/') || e.startsWith('extension/node_modules/')), 'sources and dependencies stay out');
});

test('the manifest names its icon and repository, and contributes the schemas of sensei-run configs and pipeline tests', async (t) => {
  const entries = zipEntries(await readFile(await built));
  const manifest = JSON.parse(await readFile(join(ROOT, 'editors/vscode/package.json'), 'utf8'));
  const inPackage = (path: string) => entries.includes(`extension/${path.replace(/^\.\//, '')}`);
  t.true(inPackage(manifest.icon), manifest.icon);
  t.regex(manifest.repository.url, /^https:\/\/github\.com\//);
  const schemas = [...manifest.contributes.jsonValidation, ...manifest.contributes.yamlValidation] as { fileMatch: string[]; url: string }[];
  const schemaOf = (file: string) => schemas.find((s) => s.fileMatch.some((m) => new RegExp(`^${m.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(file)))?.url;
  t.is(schemaOf('sensei-run.yaml'), './schemas/sensei-run.schema.json');
  t.is(schemaOf('prod.sensei-run.json'), './schemas/sensei-run.schema.json');
  t.is(schemaOf('quickstart.test.yaml'), './schemas/sensei-test.schema.json');
  for (const s of schemas) t.true(inPackage(s.url), s.url);
});

test('the bundled server holds the compiler and the connectors\' specs, not their client libraries', async (t) => {
  await built;
  const server = await readFile(join(ROOT, 'editors/vscode/dist/server.mjs'), 'utf8');
  // esbuild marks where each bundled file starts with a comment holding its path.
  const files = [...server.matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((m) => m[1]!);
  const packages = new Set(files.flatMap((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? []));
  t.deepEqual([...packages].filter((p) => !/^(chevrotain|@chevrotain\/.*|lodash-es|@viz-js\/viz|vscode-jsonrpc|vscode-languageserver(-.*)?)$/.test(p)), []);
  const own = files.filter((f) => !f.includes('node_modules/'));
  t.true(own.some((f) => f.startsWith('src/check/')), 'the compiler is in');
  t.deepEqual(own.filter((f) => f.startsWith('connectors/') && !/^connectors\/(specs|[a-z]+\/spec)\.ts$/.test(f)), []);
  t.deepEqual(own.filter((f) => f.startsWith('runtime/')), []);
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
