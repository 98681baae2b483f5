import test from 'ava';
import { readFileSync } from 'node:fs';
import { functionsMarkdown } from '../../scripts/gen-functions-doc.ts';
import { FUNCTIONS } from '../../src/check/functions.ts';

test('docs/functions.md is up to date (regenerate with npx tsx scripts/gen-functions-doc.ts)', (t) => {
  t.is(readFileSync(new URL('../../docs/functions.md', import.meta.url), 'utf8'), functionsMarkdown());
});

test('every function has a doc line and a unique name', (t) => {
  t.is(new Set(FUNCTIONS.map((f) => f.name)).size, FUNCTIONS.length);
  for (const f of FUNCTIONS) t.true(f.doc.length > 10, f.name);
  t.true(FUNCTIONS.filter((f) => f.examples.length === 0).every((f) => f.name === 'now'), 'only now() lacks an example');
});
