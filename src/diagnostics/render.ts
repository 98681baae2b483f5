/**
 * Renders diagnostics for people (rustc-style snippets) and for tools (a
 * stable JSON shape). This is the only place where spans become text; the
 * compiler stages never format positions themselves. Messages, hints and
 * source excerpts show URLs with their passwords masked: rendered
 * diagnostics end up in CI and daemon logs.
 */
import { maskUrlPasswords } from '../plan/url-passwords.ts';
import type { Diagnostic, Position, Severity } from './diagnostic.ts';

export interface RenderOptions {
  /** Emit ANSI colors (only when the caller knows the output is a terminal). */
  color?: boolean;
  /** Append the `2 errors, 1 warning` line (default true). */
  summary?: boolean;
}

/** The JSON shape of one diagnostic for `--format json`. Lines and columns are 1-based; the end is exclusive. */
export interface JsonDiagnostic {
  code: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hints: string[];
}

const TAB = '    ';

/** Orders by file, then start position, then end position; stable for equal spans. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareText(a.span.file, b.span.file) ||
      comparePosition(a.span.start, b.span.start) ||
      comparePosition(a.span.end, b.span.end),
  );
}

export function diagnosticsToJson(diagnostics: readonly Diagnostic[]): JsonDiagnostic[] {
  return sortDiagnostics(diagnostics).map((d) => ({
    code: d.code,
    severity: d.severity,
    message: maskUrlPasswords(d.message),
    file: d.span.file,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
    hints: d.hints.map(maskUrlPasswords),
  }));
}

/** `2 errors, 1 warning`; `no problems` when there are none. */
export function summaryLine(diagnostics: readonly Diagnostic[]): string {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const d of diagnostics) counts[d.severity]++;
  const parts = [
    plural(counts.error, 'error'),
    plural(counts.warning, 'warning'),
    counts.info > 0 ? `${counts.info} info` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? parts.join(', ') : 'no problems';
}

/**
 * Renders every diagnostic as a snippet of its source:
 *
 * ```
 * error[unknown-field]: unknown field `amout`
 *   --> pipelines/x.sensei:12:9
 *    |
 * 12 |   | where amout > 0
 *    |         ^^^^^
 *    = hint: did you mean `amount`?
 * ```
 *
 * `files` maps a span's file to its text; a diagnostic whose file is not
 * there is rendered without the excerpt.
 */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  files: ReadonlyMap<string, string>,
  opts: RenderOptions = {},
): string {
  if (diagnostics.length === 0) return '';
  const style = stylesFor(opts.color ?? false);
  const lineCache = new Map<string, string[]>();
  const linesOf = (file: string): string[] | undefined => {
    const text = files.get(file);
    if (text === undefined) return undefined;
    let lines = lineCache.get(file);
    if (!lines) lineCache.set(file, (lines = text.split(/\r\n|\r|\n/)));
    return lines;
  };
  const blocks = sortDiagnostics(diagnostics).map((d) => renderOne(d, linesOf(d.span.file), style));
  if (opts.summary ?? true) blocks.push(style.bold(summaryLine(diagnostics)) + '\n');
  return blocks.join('\n');
}

function renderOne(d: Diagnostic, lines: string[] | undefined, style: Styles): string {
  const out: string[] = [];
  const sev = style.severity[d.severity];
  out.push(`${sev(`${d.severity}[${d.code}]`)}${style.bold(`: ${sanitize(d.message)}`)}`);

  const excerpt = lines ? excerptOf(d, lines) : undefined;
  const gutterWidth = excerpt ? String(excerpt.line).length : 1;
  const pad = ' '.repeat(gutterWidth);
  const bar = style.gutter('|');
  if (d.span.file !== '') {
    const where = excerpt ? `${excerpt.line}:${excerpt.column}` : `${d.span.start.line}:${d.span.start.column}`;
    out.push(`${pad}${style.gutter('-->')} ${sanitize(d.span.file)}:${where}`);
  }
  if (excerpt) {
    out.push(`${pad} ${bar}`);
    out.push(`${style.gutter(String(excerpt.line).padStart(gutterWidth))} ${bar} ${excerpt.text}`);
    out.push(`${pad} ${bar} ${' '.repeat(excerpt.caretStart)}${sev('^'.repeat(excerpt.caretWidth))}`);
    if (excerpt.continues) out.push(`${pad} ${bar} ${style.gutter('...')}`);
  }
  for (const hint of d.hints) out.push(`${pad} ${style.gutter('=')} ${style.bold('hint')}: ${sanitize(hint)}`);
  return out.join('\n') + '\n';
}

interface Excerpt {
  /** 1-based line and column after clamping to the text. */
  line: number;
  column: number;
  /** The display text of the line: tabs expanded, control characters replaced. */
  text: string;
  /** Display columns before the caret and under it. */
  caretStart: number;
  caretWidth: number;
  /** The span goes on past this line. */
  continues: boolean;
}

/** Clamps the span to the text and measures it in display columns (tabs, wide characters). */
function excerptOf(d: Diagnostic, lines: string[]): Excerpt {
  const lineIndex = clamp(d.span.start.line, 1, lines.length) - 1;
  const source = lines[lineIndex]!;
  const start = clamp(d.span.start.column - 1, 0, source.length);
  const endLine = Math.max(d.span.end.line, lineIndex + 1);
  // A span that ends at the very start of the next line covers only this one.
  const continues = endLine > lineIndex + 2 || (endLine === lineIndex + 2 && d.span.end.column > 1);
  const end =
    endLine === lineIndex + 1 ? clamp(d.span.end.column - 1, start, source.length) : source.length;
  // Spans start and end at token boundaries, never inside a password, so the masked text before a column measures its masked position.
  const widthTo = (column: number) => displayWidth(maskUrlPasswords(source.slice(0, column)));
  const before = widthTo(start);
  return {
    line: lineIndex + 1,
    column: start + 1,
    text: displayText(maskUrlPasswords(source)),
    caretStart: before,
    caretWidth: Math.max(1, widthTo(end) - before),
    continues,
  };
}

function displayText(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? TAB : isControl(ch) ? '\uFFFD' : ch;
  return out;
}

/** Terminal columns the text occupies, with tabs expanded as in `displayText`. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += ch === '\t' ? TAB.length : isControl(ch) ? 1 : charWidth(ch);
  return width;
}

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200B-\u200F\u2060\uFEFF]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** East Asian wide and fullwidth characters and emoji take two columns. */
function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd) ||
    EMOJI.test(ch);
  return wide ? 2 : 1;
}

function isControl(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/** Messages may quote user text; never let it reach the terminal as control sequences, extra lines or a URL's password. */
function sanitize(text: string): string {
  let out = '';
  for (const ch of maskUrlPasswords(text)) out += ch === '\n' ? ' ' : ch !== '\t' && isControl(ch) ? '\uFFFD' : ch;
  return out;
}

interface Styles {
  bold(s: string): string;
  gutter(s: string): string;
  severity: Record<Severity, (s: string) => string>;
}

function stylesFor(color: boolean): Styles {
  const ansi = (open: string) => (color ? (s: string) => `\x1b[${open}m${s}\x1b[0m` : (s: string) => s);
  return {
    bold: ansi('1'),
    gutter: ansi('1;34'),
    severity: { error: ansi('1;31'), warning: ansi('1;33'), info: ansi('1;36') },
  };
}

function plural(n: number, word: string): string {
  return n === 0 ? '' : `${n} ${word}${n === 1 ? '' : 's'}`;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(n, lo), hi);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePosition(a: Position, b: Position): number {
  return a.line - b.line || a.column - b.column;
}
