import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CODES } from '../../src/diagnostics/codes.ts';
import { diagnosticsDoc } from '../../scripts/gen-diagnostics-doc.ts';

const root = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('docs/diagnostics.md documents every code and is up to date', (t) => {
  t.is(readFileSync(join(root, 'docs/diagnostics.md'), 'utf8'), diagnosticsDoc(), 'run `npx tsx scripts/gen-diagnostics-doc.ts`');
});

test('every registered code is emitted by some stage', (t) => {
  const sources = ['src', 'connectors']
    .flatMap(files)
    .filter((f) => !f.endsWith('codes.ts'))
    .map((f) => readFileSync(join(root, f), 'utf8'))
    .join('\n');
  const unused = Object.keys(CODES).filter((code) => !sources.includes(`'${code}'`));
  t.deepEqual(unused, []);
});
