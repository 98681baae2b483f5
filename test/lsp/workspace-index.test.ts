// References and rename reach files on disk that import the edited file,
// directly or through another file, without being open; the index follows
// files created, changed and deleted (workspace/didChangeWatchedFiles).
import test from 'ava';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Range } from 'vscode-languageserver-protocol';
import { initialize, mark, spawnServer, tempFiles, uriOf, type LspClient } from './client.ts';

const SHARED = 'pipeline shared\nschema «Or‸der» { id: string }\n';
const MAIN = 'pipeline main\nimport "shared.sensei"\nsource o: «Order» from datagen {}\nsink o to stdout {}\n';
/** Imports shared.sensei only through main.sensei. */
const LATER = 'pipeline later\nimport "../main.sensei"\nsource l: «Order» from datagen {}\nsink l to stdout {}\n';
const UNRELATED = 'pipeline other\nschema Order { id: string }\nsource u: Order from datagen {}\nsink u to stdout {}\n';

const FILE_CREATED = 1;
const FILE_CHANGED = 2;
const FILE_DELETED = 3;

async function workspace(files: Record<string, string>): Promise<{ dir: string; client: LspClient }> {
  const dir = await tempFiles(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, mark(text).text])));
  const client = spawnServer();
  await initialize(client, { diagnosticsDelay: 0 }, dir);
  return { dir, client };
}

const rangesOf = (source: string) => mark(source).ranges;
const sorted = (ranges: Range[]) => [...ranges].sort((a, b) => a.start.line - b.start.line || a.start.character - b.start.character);

test('references and rename include files on disk that import the file, directly or not, and no others', async (t) => {
  const { dir, client } = await workspace({ 'shared.sensei': SHARED, 'main.sensei': MAIN, 'nested/later.sensei': LATER, 'unrelated.sensei': UNRELATED });
  try {
    const shared = mark(SHARED);
    const sharedUri = uriOf(join(dir, 'shared.sensei'));
    client.open(sharedUri, shared.text);
    const refs = (await client.references(sharedUri, shared.cursor))!;
    const byFile = (name: string) => sorted(refs.filter((r) => r.uri === uriOf(join(dir, name))).map((r) => r.range));
    t.deepEqual(byFile('shared.sensei'), shared.ranges);
    t.deepEqual(byFile('main.sensei'), rangesOf(MAIN));
    t.deepEqual(byFile('nested/later.sensei'), rangesOf(LATER));
    t.deepEqual(byFile('unrelated.sensei'), []);
    const edit = (await client.rename(sharedUri, shared.cursor, 'Purchase'))!;
    t.deepEqual(Object.keys(edit.changes!).sort(), ['main.sensei', 'nested/later.sensei', 'shared.sensei'].map((f) => uriOf(join(dir, f))).sort());
    t.deepEqual(sorted(edit.changes![uriOf(join(dir, 'main.sensei'))]!.map((e) => e.range)), rangesOf(MAIN));
  } finally {
    await client.stop();
  }
});

test('the index follows files created, changed and deleted on disk', async (t) => {
  const { dir, client } = await workspace({ 'shared.sensei': SHARED });
  try {
    const shared = mark(SHARED);
    const sharedUri = uriOf(join(dir, 'shared.sensei'));
    client.open(sharedUri, shared.text);
    const files = async () => new Set((await client.references(sharedUri, shared.cursor))!.map((r) => r.uri));
    const watched = (changes: [string, number][]) =>
      client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: changes.map(([name, type]) => ({ uri: uriOf(join(dir, name)), type })) });
    t.deepEqual([...(await files())], [sharedUri]);

    const mainUri = uriOf(join(dir, 'main.sensei'));
    await writeFile(join(dir, 'main.sensei'), mark(MAIN).text);
    await watched([['main.sensei', FILE_CREATED]]);
    t.true((await files()).has(mainUri), 'created');

    await writeFile(join(dir, 'main.sensei'), mark(UNRELATED).text);
    await watched([['main.sensei', FILE_CHANGED]]);
    t.false((await files()).has(mainUri), 'changed: no longer imports it');

    await writeFile(join(dir, 'main.sensei'), mark(MAIN).text);
    await watched([['main.sensei', FILE_CHANGED]]);
    t.true((await files()).has(mainUri), 'changed back');

    await rm(join(dir, 'main.sensei'));
    await watched([['main.sensei', FILE_DELETED]]);
    t.false((await files()).has(mainUri), 'deleted');
  } finally {
    await client.stop();
  }
});
