// Golden diagnostics for malformed files: each test/fixtures/syntax/NAME.sensei is parsed and
// its diagnostics, rendered as the CLI shows them, must equal NAME.expected.txt.
// Regenerate after an intended change with UPDATE_GOLDEN=1 npx ava test/syntax/diagnostics.test.ts
import test from 'ava';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderDiagnostics } from '../../src/diagnostics/render.ts';
import { textToAst } from '../../src/syntax/parse.ts';

const dir = resolve(import.meta.dirname, '../fixtures/syntax');
const update = process.env.UPDATE_GOLDEN === '1';
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.sensei')).sort();

test('there are syntax fixtures', (t) => {
  t.true(fixtures.length >= 10);
});

for (const name of fixtures) {
  test(`diagnostics of ${name}`, (t) => {
    const text = readFileSync(join(dir, name), 'utf8');
    const { diagnostics } = textToAst(name, text);
    t.true(diagnostics.length > 0, 'a malformed file reports at least one error');
    for (const d of diagnostics) t.true(['lex-error', 'parse-error', 'binary-input'].includes(d.code), d.code);
    const rendered = renderDiagnostics(diagnostics, new Map([[name, text]]), { color: false });
    const golden = join(dir, name.replace(/\.sensei$/, '.expected.txt'));
    if (update || !existsSync(golden)) writeFileSync(golden, rendered);
    t.is(rendered, readFileSync(golden, 'utf8'));
  });
}
