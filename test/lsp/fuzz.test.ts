// Protocol fuzz: random, binary, truncated and deeply nested texts, pushed
// through didChange (whole and incremental) with requests in between. The
// server must answer every request and stay up.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Position } from 'vscode-languageserver-protocol';
import { docUri, ROOT, sharedServer } from './client.ts';

const client = sharedServer(test);

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const corpus = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.sensei')).map((f) => readFileSync(join(ROOT, 'pipelines', f), 'utf8'));
const WORDS = ['stream', 'source', 'schema', 'sink', '|', 'where', 'select', '{', '}', '(', ')', '[', ']', '.', '?.', ':', ',', '=', '==',
  'and', 'x', 'orders', '"s', '"', '`q', '/*', '//', '\n', '1.5d', '10m', 'route', 'when', '=>', 'else', 'from', 'to', 'datagen', '??'];

function text(next: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const base = pick(corpus);
  switch (Math.floor(next() * 6)) {
    case 0: // truncated
      return base.slice(0, Math.floor(next() * base.length));
    case 1: // a piece cut out
      return base.slice(0, Math.floor(next() * base.length)) + base.slice(Math.floor(next() * base.length));
    case 2: // binary
      return Array.from({ length: 1 + Math.floor(next() * 300) }, () => String.fromCharCode(Math.floor(next() * 0xffff))).join('');
    case 3: // token salad
      return Array.from({ length: Math.floor(next() * 200) }, () => pick(WORDS)).join(next() < 0.5 ? ' ' : '');
    case 4: // deep nesting
      return `${base}\nstream z = orders | where ${'('.repeat(2000 + Math.floor(next() * 3000))}x`;
    default: // random characters spliced in
      return base.replace(/./g, (c) => (next() < 0.03 ? pick(WORDS) : c));
  }
}

function anywhere(next: () => number, t: string): Position {
  const lines = t.split('\n');
  const line = Math.floor(next() * (lines.length + 2));
  return { line, character: Math.floor(next() * ((lines[line]?.length ?? 0) + 3)) };
}

test('random, binary, truncated and nested texts never take the server down', async (t) => {
  const next = random(20240501);
  const uri = docUri('fuzz.sensei');
  client.open(uri, '');
  let current = '';
  for (let i = 0; i < 120; i++) {
    if (next() < 0.5) {
      current = text(next);
      client.change(uri, current);
    } else {
      const start = anywhere(next, current);
      const end = anywhere(next, current);
      client.edit(uri, { start, end }, text(next).slice(0, 40));
    }
    if (i % 6 === 0) {
      const at = anywhere(next, current);
      const answers = await Promise.all([
        client.hover(uri, at),
        client.completion(uri, at),
        client.definition(uri, at),
        client.references(uri, at),
        client.symbols(uri),
        client.folding(uri),
        client.formatting(uri),
        client.codeActions(uri, { start: at, end: at }, []),
      ]);
      t.is(answers.length, 8);
    }
  }
  t.is(client.child.exitCode, null, 'still running');
  // Still answering, and correctly, after all that.
  const last = client.change(uri, corpus[0]!);
  const diagnostics = await client.diagnostics(uri, { version: last });
  t.true(Array.isArray(diagnostics));
  const symbols = await client.symbols(uri);
  t.true(symbols!.length > 0);
});

test('requests on a document that was never opened answer empty', async (t) => {
  const uri = docUri('never-opened.sensei');
  t.is(await client.hover(uri, { line: 0, character: 0 }), null);
  t.deepEqual(await client.completion(uri, { line: 0, character: 0 }), []);
  t.deepEqual(await client.symbols(uri), []);
});
