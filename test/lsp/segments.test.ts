// The editor's incremental parse must give exactly the compiler's parse: the
// same AST (spans included) and the same diagnostics, before and after edits.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bigPipeline } from '../../bench/lsp.ts';
import { SegmentParser } from '../../src/tooling/lsp/segments.ts';
import { textToAst } from '../../src/syntax/parse.ts';
import { ROOT } from './client.ts';

const corpus = [
  ...['pipelines', 'test/fixtures/syntax'].flatMap((dir) =>
    readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.sensei')).map((f) => [`${dir}/${f}`, readFileSync(join(ROOT, dir, f), 'utf8')] as const)),
  ['big', bigPipeline(400)] as const,
  ['comments and brackets', 'pipeline p\n/*\nstream x = y\n*/\nschema A {\n  a: string\n}\nsource s: A from datagen {\nstream y = s\n}\n'] as const,
  ['crlf', 'pipeline p\r\nschema A { a: string }\r\nsource s: A from datagen {}\r\nstream t = s\r\n  | where a == "x"\r\nsink t to stdout {}\r\n'] as const,
];

for (const [name, text] of corpus) {
  test(`exact segment parse equals the whole-file parse: ${name}`, (t) => {
    const parser = new SegmentParser();
    t.deepEqual(parser.parse('f.sensei', text, 'exact'), textToAst('f.sensei', text));
  });
}

test('after edits that move, add and remove declarations, the parse still equals the whole-file parse', (t) => {
  const parser = new SegmentParser();
  let text = bigPipeline(200);
  const edits: ((s: string) => string)[] = [
    (s) => s.replace('where f1 > 0', 'where f1 > 100'),
    (s) => `// a comment on top\n\n${s}`,
    (s) => s.replace('stream s3 = ', 'stream s3 =\n   '),
    (s) => s.replace(/stream s5 = [\s\S]*?\n\n/, ''),
    (s) => s.replace('| key by f0', '| select {\n  a: f0,\n  stream: f1\n}'),
    (s) => s.replace('where f1 > 100', 'where (f1 > '),
    (s) => s.replace('where (f1 > ', 'where f1 > 7'),
    (s) => s + 'pipeline again\n',
  ];
  parser.parse('f.sensei', text, 'exact');
  for (const edit of edits) {
    text = edit(text);
    t.deepEqual(parser.parse('f.sensei', text, 'exact'), textToAst('f.sensei', text));
  }
});

test('a tolerant parse keeps the declarations around a broken one', (t) => {
  const text = 'pipeline p\nschema A { a: string }\nstream x = s | select { a.\nstream y = s | where a == ""\n';
  const { ast } = new SegmentParser().parse('f.sensei', text, 'tolerant');
  t.deepEqual(ast.declarations.map((d) => d.kind), ['schema', 'stream', 'stream']);
});

test('identical declarations, and a tolerant parse of a variant in between, leave every exact parse equal to the whole-file parse', (t) => {
  const parser = new SegmentParser();
  let text = 'pipeline p\nschema A { a: string }\nsource s: A from datagen {}\nsink s to stdout {}\n\nsink s to stdout {}\n';
  t.deepEqual(parser.parse('f.sensei', text, 'exact'), textToAst('f.sensei', text));
  // Both identical sinks move.
  text = text.replace('a: string', 'a: string, b: long');
  const exact = parser.parse('f.sensei', text, 'exact');
  t.deepEqual(exact, textToAst('f.sensei', text));
  parser.parse('f.sensei', `// a variant\n\n${text}`, 'tolerant');
  t.deepEqual(exact, textToAst('f.sensei', text), 'the tolerant parse moved nothing the exact one returned');
  t.deepEqual(parser.parse('f.sensei', text, 'exact'), textToAst('f.sensei', text));
});
