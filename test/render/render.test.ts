import test from 'ava';
import type { Diagnostic, Position, Severity } from '../../src/diagnostics/diagnostic.ts';
import { diagnosticsToJson, renderDiagnostics, summaryLine } from '../../src/diagnostics/render.ts';

const FILE = 'pipelines/x.sensei';

/** Strips one `«…»` marker pair from the text and returns the span it marks. */
function marked(source: string): { text: string; start: Position; end: Position } {
  const open = source.indexOf('«');
  const close = source.indexOf('»') - 1;
  const text = source.replace('«', '').replace('»', '');
  return { text, start: positionAt(text, open), end: positionAt(text, close) };
}

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { offset, line: before.length, column: before.at(-1)!.length + 1 };
}

function diag(
  source: string,
  extra: { code?: string; severity?: Severity; message?: string; hints?: string[]; file?: string } = {},
): { diagnostic: Diagnostic; text: string } {
  const { text, start, end } = marked(source);
  return {
    text,
    diagnostic: {
      code: extra.code ?? 'unknown-field',
      severity: extra.severity ?? 'error',
      message: extra.message ?? 'unknown field `amout`',
      span: { file: extra.file ?? FILE, start, end },
      hints: extra.hints ?? [],
    },
  };
}

function render(source: string, extra: Parameters<typeof diag>[1] = {}, summary = false): string {
  const { diagnostic, text } = diag(source, extra);
  return renderDiagnostics([diagnostic], new Map([[extra.file ?? FILE, text]]), { summary });
}

test('a single-line span is underlined under its columns, with location and hints', (t) => {
  const source = 'source orders: Order from datagen {}\nstream paid = orders\n  | where «amout» > 0\n';
  const out = render(source, { hints: ['did you mean `amount`?'] });
  t.is(
    out,
    [
      'error[unknown-field]: unknown field `amout`',
      ' --> pipelines/x.sensei:3:11',
      '  |',
      '3 |   | where amout > 0',
      '  |           ^^^^^',
      '  = hint: did you mean `amount`?',
      '',
    ].join('\n'),
  );
});

test('messages, hints and excerpts show URLs with their passwords masked, the caret still under its span', (t) => {
  const text = 'sink a to postgres { url: "postgres://app:s3cret@db/app", table: t }\nsink b to redis { url: "redis://:pw-2@cache:6379" }\n';
  const span = (needle: string, skip = 0) => {
    const offset = text.indexOf(needle);
    return { file: FILE, start: positionAt(text, offset + skip), end: positionAt(text, offset + needle.length) };
  };
  const diagnostics: Diagnostic[] = [
    { code: 'invalid-option', severity: 'error', message: 'no such table', span: span('table: t', 7), hints: [] },
    { code: 'registry-unavailable', severity: 'error', message: 'cannot reach https://u:pw-3@registry', span: span('"redis://:pw-2@cache:6379"'), hints: ['is https://u:pw-3@registry up?'] },
  ];
  const out = renderDiagnostics(diagnostics, new Map([[FILE, text]]));
  const json = JSON.stringify(diagnosticsToJson(diagnostics));
  for (const secret of ['s3cret', 'pw-2', 'pw-3']) t.false(out.includes(secret) || json.includes(secret), secret);
  t.true(out.includes('cannot reach https://u:***@registry') && json.includes('is https://u:***@registry up?'));
  const lines = out.split('\n');
  t.deepEqual(lines.slice(3, 5), [
    '1 | sink a to postgres { url: "postgres://app:***@db/app", table: t }',
    '  |' + ' '.repeat(63) + '^',
  ]);
  t.deepEqual(lines.slice(9, 11), [
    '2 | sink b to redis { url: "redis://:***@cache:6379" }',
    '  |' + ' '.repeat(24) + '^'.repeat(25),
  ]);
});

test('the gutter grows with the line number', (t) => {
  const source = '\n'.repeat(11) + 'stream s = «o»\n';
  const out = render(source);
  t.true(out.includes('  --> pipelines/x.sensei:12:12\n'));
  t.true(out.includes('12 | stream s = o\n'));
  t.true(out.includes('   |            ^\n'));
});

test('a multi-line span shows its first line underlined to the end and an ellipsis', (t) => {
  const out = render('stream s = o\n  | where «a >\n    0»\nsink s to stdout {}\n');
  t.true(out.includes('2 |   | where a >\n  |           ^^^\n  | ...\n'));
  t.false(out.includes('0\n'));
});

test('a span that ends at the start of the next line covers one line, without ellipsis', (t) => {
  const out = render('stream s = «o\n»sink s to stdout {}\n');
  t.true(out.includes('1 | stream s = o\n  |            ^\n'));
  t.false(out.includes('...'));
});

test('an empty span gets one caret', (t) => {
  const out = render('stream s = o |«» \n');
  t.true(out.includes('1 | stream s = o | \n  |               ^\n'));
});

test('tabs are expanded and the caret follows them', (t) => {
  const out = render('stream s = o\n\t|\twhere «amout» > 0\n');
  t.true(out.includes('2 |     |    where amout > 0\n  |                ^^^^^\n'));
});

test('wide characters take two columns', (t) => {
  const out = render('stream s = o | where name == "東京" and «amout» > 0\n');
  // `東京` is 2 characters but 4 columns wide, so the caret sits 2 columns right of the character index.
  const prefix = '1 | stream s = o | where name == "';
  t.true(out.includes(`${prefix}東京" and amout > 0\n  | ${' '.repeat(prefix.length - 4 + 4 + 6)}^^^^^\n`));
});

test('an emoji before the span shifts the caret by two columns', (t) => {
  const out = render('x = "🚀" «y»\n');
  t.true(out.includes('1 | x = "🚀" y\n  |          ^\n'));
});

test('spans beyond the text are clamped to the last line and its end', (t) => {
  const { diagnostic, text } = diag('stream s = «o»\n');
  diagnostic.span.start = { offset: 500, line: 40, column: 99 };
  diagnostic.span.end = { offset: 510, line: 41, column: 3 };
  const out = renderDiagnostics([diagnostic], new Map([[FILE, 'stream s = o']]), { summary: false });
  t.is(text, 'stream s = o\n');
  t.true(out.includes(' --> pipelines/x.sensei:1:13\n'));
  t.true(out.includes('1 | stream s = o\n  |             ^\n'));
});

test('a column past the end of its line is clamped to that line', (t) => {
  const { diagnostic, text } = diag('ab\n«cd»\n');
  diagnostic.span.start = { ...diagnostic.span.start, line: 1, column: 20 };
  diagnostic.span.end = { ...diagnostic.span.end, line: 1, column: 30 };
  const out = renderDiagnostics([diagnostic], new Map([[FILE, text]]), { summary: false });
  t.true(out.includes('1 | ab\n  |   ^\n'));
});

test('a file that is not supplied is rendered without an excerpt', (t) => {
  const { diagnostic } = diag('«x»', { code: 'import-not-found', message: 'cannot read `shared.sensei`' });
  const out = renderDiagnostics([diagnostic], new Map(), { summary: false });
  t.is(out, 'error[import-not-found]: cannot read `shared.sensei`\n --> pipelines/x.sensei:1:1\n');
});

test('control characters in the source and the message never reach the terminal', (t) => {
  const out = render('x = "\x1b[31m" «y»\n', { message: 'bad\x1b[2J\nname' });
  t.false(out.includes('\x1b'));
  t.true(out.startsWith('error[unknown-field]: bad\uFFFD[2J name\n'));
});

test('color adds ANSI sequences only when asked', (t) => {
  const source = 'stream s = «o»\n';
  t.false(render(source).includes('\x1b['));
  const { diagnostic, text } = diag(source);
  const colored = renderDiagnostics([diagnostic], new Map([[FILE, text]]), { color: true });
  t.true(colored.includes('\x1b[1;31merror[unknown-field]\x1b[0m'));
  t.is(colored.replace(/\x1b\[[0-9;]*m/g, ''), renderDiagnostics([diagnostic], new Map([[FILE, text]])));
});

test('diagnostics are sorted by file then position and followed by a summary', (t) => {
  const text = 'ab\ncd\n';
  const at = (file: string, line: number, column: number, severity: Severity, code: string): Diagnostic => ({
    code,
    severity,
    message: code,
    span: { file, start: { offset: 0, line, column }, end: { offset: 0, line, column: column + 1 } },
    hints: [],
  });
  const diagnostics = [
    at('b.sensei', 1, 1, 'error', 'third'),
    at('a.sensei', 2, 1, 'warning', 'second'),
    at('a.sensei', 1, 2, 'error', 'first'),
  ];
  const files = new Map([
    ['a.sensei', text],
    ['b.sensei', text],
  ]);
  const out = renderDiagnostics(diagnostics, files);
  const order = ['first', 'second', 'third'].map((c) => out.indexOf(`[${c}]`));
  t.deepEqual([...order].sort((x, y) => x - y), order);
  t.true(out.endsWith('\n2 errors, 1 warning\n'));
  t.deepEqual(
    diagnosticsToJson(diagnostics).map((d) => d.code),
    ['first', 'second', 'third'],
  );
});

test('summary line counts each severity and says when there is nothing', (t) => {
  const d = (severity: Severity): Diagnostic => diag('«x»', { severity }).diagnostic;
  t.is(summaryLine([]), 'no problems');
  t.is(summaryLine([d('error')]), '1 error');
  t.is(summaryLine([d('warning'), d('warning')]), '2 warnings');
  t.is(summaryLine([d('error'), d('info'), d('error'), d('warning')]), '2 errors, 1 warning, 1 info');
  t.is(renderDiagnostics([], new Map()), '');
});

test('json has the stable shape', (t) => {
  const { diagnostic } = diag('stream s = o\n  | where «amout» > 0\n', { hints: ['did you mean `amount`?'] });
  t.deepEqual(diagnosticsToJson([diagnostic]), [
    {
      code: 'unknown-field',
      severity: 'error',
      message: 'unknown field `amout`',
      file: FILE,
      line: 2,
      column: 11,
      endLine: 2,
      endColumn: 16,
      hints: ['did you mean `amount`?'],
    },
  ]);
});
