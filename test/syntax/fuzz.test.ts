// The parser never throws and never hangs, whatever the input, and every span it reports lies
// within the text with line and column matching the offset.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Span } from '../../src/diagnostics/diagnostic.ts';
import { textToAst, textToTokens } from '../../src/syntax/parse.ts';

const root = resolve(import.meta.dirname, '../..');
const corpus = [
  ...readdirSync(join(root, 'pipelines')).filter((f) => f.endsWith('.sensei')).map((f) => readFileSync(join(root, 'pipelines', f), 'utf8')),
  `schema C doc "c" { id: string doc "x", tier: enum T { A, B } = "A", a: record A { z: string? }, m: map<array<long>>, f: fixed F(4), d: decimal(9, 2) }
source s: C from datagen { rate: 10, "k.v": -1.5e3 }
dead letter to file { path: "dlq" }
stream x = s | on error skip | where a?.b[0] ?? 1 > 2 and not c in (1, 2) or d not between 1 and 2
  | select { *, -id, a.b, n: if p then 1L else case when q then 2f else 3.5d end, t: timestamp "2024-01-01T00:00:00Z" }
  | key by upper(id) | flat map xs as x | union y, z | dedupe by id within 500ms
  | route { when a like "x%" => r1 when b matches "^y" => r2 else => r3 }
sink x to stdout { format: json, tags: ["a", map { "k": 1 }] }`,
];

/** The 1-based line and column of an offset, counted independently of the parser's line index. */
function expectedPosition(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

function checkSpan(t: ExecutionContext, text: string, span: Span, what: string): boolean {
  const { start, end } = span;
  const ok =
    Number.isInteger(start.offset) && Number.isInteger(end.offset) &&
    start.offset >= 0 && start.offset <= end.offset && end.offset <= text.length;
  if (!ok) {
    t.fail(`${what}: span ${start.offset}..${end.offset} outside a text of ${text.length} characters`);
    return false;
  }
  for (const p of [start, end]) {
    // A position inside a CRLF pair has no line/column of its own; skip the comparison there.
    if (text[p.offset - 1] === '\r' && text[p.offset] === '\n') continue;
    const want = expectedPosition(text, p.offset);
    if (want.line !== p.line || want.column !== p.column) {
      t.fail(`${what}: offset ${p.offset} is ${p.line}:${p.column}, expected ${want.line}:${want.column}`);
      return false;
    }
  }
  return true;
}

function* spans(value: unknown, path = 'ast'): Generator<[string, Span]> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* spans(value[i], `${path}[${i}]`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'span') yield [path, v as Span];
      else yield* spans(v, `${path}.${k}`);
    }
  }
}

/** Parses and checks every span; returns false at the first bad one. */
function parsesSafely(t: ExecutionContext, text: string): boolean {
  const { ast, diagnostics } = textToAst('fuzz.sensei', text);
  for (const d of diagnostics) {
    if (!checkSpan(t, text, d.span, `${d.code} "${d.message}"`)) return false;
    if (d.span.file !== 'fuzz.sensei') return false;
  }
  for (const [path, span] of spans(ast)) if (!checkSpan(t, text, span, path)) return false;
  const tokens = textToTokens('fuzz.sensei', text);
  for (const token of tokens.tokens) if (!checkSpan(t, text, token.span, `token ${token.type}`)) return false;
  return true;
}

const vocabulary = [
  'pipeline', 'import', 'schema', 'avro', 'doc', 'source', 'from', 'stream', 'sink', 'to', 'dead', 'letter', 'where', 'select',
  'key', 'by', 'flat', 'map', 'as', 'union', 'route', 'on', 'error', 'dedupe', 'within', 'record', 'enum', 'array', 'fixed',
  'decimal', 'and', 'or', 'not', 'in', 'between', 'like', 'matches', 'if', 'then', 'else', 'case', 'when', 'end', 'true',
  'false', 'null', 'timestamp', 'date', 'bytes', 'string', 'long', 'x', 'y', '`a b`', '42', '1.5d', '10s', '"s"', '"un',
  '{', '}', '(', ')', '[', ']', '<', '>', ',', ':', '.', '?.', '??', '?', '|', '=>', '=', '==', '+', '-', '*', '/', '%',
  '//c', '/*c*/', '/*', '\n', '\r\n', '&&', '@', "'q'", '`',
];

const tokenSoup = fc
  .array(fc.tuple(fc.constantFrom(...vocabulary), fc.constantFrom(' ', '\n', '', '  ')), { maxLength: 60 })
  .map((parts) => parts.map(([a, b]) => a + b).join(''));

/** Edits of a valid pipeline: deletions, insertions, duplications, truncation. */
const mutated = fc
  .tuple(
    fc.constantFrom(...corpus),
    fc.array(
      fc.tuple(fc.nat(), fc.nat({ max: 12 }), fc.constantFrom('delete', 'insert', 'duplicate', 'truncate'), fc.constantFrom(...vocabulary)),
      { minLength: 1, maxLength: 5 },
    ),
  )
  .map(([text, edits]) => {
    let out = text;
    for (const [at, length, kind, word] of edits) {
      const i = out.length === 0 ? 0 : at % out.length;
      if (kind === 'delete') out = out.slice(0, i) + out.slice(i + length);
      else if (kind === 'insert') out = `${out.slice(0, i)} ${word} ${out.slice(i)}`;
      else if (kind === 'duplicate') out = out.slice(0, i + length) + out.slice(i, i + length) + out.slice(i + length);
      else out = out.slice(0, i);
    }
    return out;
  });

test('the corpus parses without diagnostics', (t) => {
  for (const text of corpus) t.deepEqual(textToAst('c.sensei', text).diagnostics, []);
});

test('random strings', (t) => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => parsesSafely(t, text)), { numRuns: 300 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => parsesSafely(t, text)), { numRuns: 300 });
  t.pass();
});

test('random bytes decoded as UTF-8 and Latin-1', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const buffer = Buffer.from(bytes);
      return parsesSafely(t, buffer.toString('utf8')) && parsesSafely(t, buffer.toString('latin1'));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('soups of language tokens', (t) => {
  fc.assert(fc.property(tokenSoup, (text) => parsesSafely(t, text)), { numRuns: 600 });
  t.pass();
});

test('mutations and truncations of valid pipelines', (t) => {
  fc.assert(fc.property(mutated, (text) => parsesSafely(t, text)), { numRuns: 600 });
  t.pass();
});

test('every prefix of a valid pipeline', (t) => {
  const text = corpus.at(-1)!;
  for (let i = 0; i <= text.length; i += 3) {
    if (!parsesSafely(t, text.slice(0, i))) return;
  }
  t.pass();
});

test('binary input is one binary-input diagnostic', (t) => {
  const { ast, diagnostics } = textToAst('b.sensei', 'stream a = b\0\x01\x02');
  t.deepEqual(diagnostics.map((d) => d.code), ['binary-input']);
  t.deepEqual(ast.declarations, []);
});
