/**
 * Incremental parsing for the editor. A file is cut into segments at lines
 * that begin (column 1, outside comments) with a declaration keyword followed
 * by a name; the parser never lets a declaration run past such a line, not
 * even from inside brackets (grammar/tokens.ts, DeclarationStart), so parsing
 * the segments one by one gives the file's AST. Segments are cached by text,
 * so a keystroke re-parses only the declaration it touches.
 *
 * In exact mode (diagnostics) the result stands only when no segment has a
 * diagnostic and the file names its pipeline at most once; otherwise the
 * whole file is parsed, so messages are exactly the compiler's. In tolerant
 * mode (completion) the recovered segments are used as they are.
 */
import type { Diagnostic, Position, Span } from '../../diagnostics/diagnostic.ts';
import type { SourceFile } from '../../syntax/ast.ts';
import { LineIndex } from '../../syntax/line-index.ts';
import { textToAst } from '../../syntax/parse.ts';

export interface Parsed {
  ast: SourceFile;
  diagnostics: Diagnostic[];
}

interface Segment {
  text: string;
  offset: number;
  /** 0-based line of the segment's first character. */
  line: number;
}

interface CachedSegment {
  parsed: Parsed;
  /** Where the spans of `parsed.ast` are: it is moved in place as the segment moves (see place). */
  at: { offset: number; line: number };
}

const DECLARATION_LINE = /^(?:pipeline|import|schema|source|stream|sink|dead)[ \t]+[A-Za-z_"`]/;
/** Characters that make the lexer call a file binary or report errors; such files are parsed whole. */
const ODD_CHARACTERS = /[\u0000-\u0008\u000e-\u001f\ufffd]/;

export class SegmentParser {
  /** Segment parses by file, then by segment text; only the segments of the latest text are kept. */
  private readonly files = new Map<string, Map<string, CachedSegment>>();

  parse(file: string, text: string, mode: 'exact' | 'tolerant'): Parsed {
    if (ODD_CHARACTERS.test(text)) return textToAst(file, text);
    const segments = split(text);
    const previous = this.files.get(file) ?? new Map<string, CachedSegment>();
    const next = new Map<string, CachedSegment>();
    const parts: { segment: Segment; ast: SourceFile; diagnostics: Diagnostic[] }[] = [];
    const moved = new Set<CachedSegment>();
    for (const segment of segments) {
      let cached = next.get(segment.text) ?? previous.get(segment.text);
      if (!cached) cached = { parsed: textToAst(file, segment.text), at: { offset: 0, line: 0 } };
      next.set(segment.text, cached);
      parts.push({ segment, ast: place(cached, segment, mode === 'exact' && !moved.has(cached)), diagnostics: cached.parsed.diagnostics });
      moved.add(cached);
    }
    // A tolerant parse is of a variant of the text (completion); it must not evict the real segments.
    if (mode === 'exact') this.files.set(file, next);

    const pipelines = parts.filter((p) => p.ast.pipeline).length;
    if (mode === 'exact' && (pipelines > 1 || parts.some((p) => p.diagnostics.length > 0))) return textToAst(file, text);
    const index = new LineIndex(file, text);
    const pipeline = parts.find((p) => p.ast.pipeline)?.ast.pipeline;
    return {
      ast: {
        file,
        ...(pipeline ? { pipeline } : {}),
        declarations: parts.flatMap((p) => p.ast.declarations),
        comments: parts.flatMap((p) => p.ast.comments),
        span: index.span(0, text.length),
      },
      diagnostics: parts.flatMap((p) => p.diagnostics.map((d) => shiftValue(d, p.segment.offset, p.segment.line))),
    };
  }

  forget(file: string): void {
    this.files.delete(file);
  }
}

/** Where the declaration around `offset` starts: the start of its segment. */
export function segmentStart(text: string, offset: number): number {
  return split(text).findLast((s) => s.offset <= offset)?.offset ?? 0;
}

/**
 * The segment's AST at its place in the file. An exact parse moves the
 * cached AST there in place: a keystroke moves every later declaration, and
 * copying them all was most of a re-check. A tolerant parse (of a variant of
 * the text), a second segment of the same text, or a segment with
 * diagnostics (whose spans stay as parsed) gets a moved copy instead.
 */
function place(cached: CachedSegment, segment: Segment, inPlace: boolean): SourceFile {
  const offset = segment.offset - cached.at.offset;
  const lines = segment.line - cached.at.line;
  if (offset === 0 && lines === 0) return cached.parsed.ast;
  if (!inPlace || cached.parsed.diagnostics.length > 0) return shiftValue(cached.parsed.ast, offset, lines);
  moveSpans(cached.parsed.ast, offset, lines, new Set());
  cached.at = { offset: segment.offset, line: segment.line };
  return cached.parsed.ast;
}

/** Moves every span of the tree down by `lines` and on by `offset`, each position once (spans may share them). */
function moveSpans(value: unknown, offset: number, lines: number, moved: Set<Position>): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) moveSpans(item, offset, lines, moved);
    return;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (key !== 'span') {
      moveSpans(child, offset, lines, moved);
      continue;
    }
    for (const p of [(child as Span).start, (child as Span).end]) {
      if (moved.has(p)) continue;
      moved.add(p);
      p.offset += offset;
      p.line += lines;
    }
  }
}

/** A copy with every span moved down by `lines` and on by `offset`. Segments start at column 1, so columns stay. */
function shiftValue<T>(value: T, offset: number, lines: number): T {
  const shift = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(shift);
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(v)) out[key] = key === 'span' ? shiftSpan(child as Span, offset, lines) : shift(child);
    return out;
  };
  return shift(value) as T;
}

function shiftSpan(span: Span, offset: number, lines: number): Span {
  return {
    file: span.file,
    start: { offset: span.start.offset + offset, line: span.start.line + lines, column: span.start.column },
    end: { offset: span.end.offset + offset, line: span.end.line + lines, column: span.end.column },
  };
}

/**
 * Cuts the text before each line that starts a declaration at column 1,
 * outside block comments. A scanner, not the lexer: it only needs to know
 * where comments and strings are. A cut the parser would not make gives a
 * segment with errors, and an exact parse then reads the whole file.
 */
function split(text: string): Segment[] {
  const starts: { offset: number; line: number }[] = [{ offset: 0, line: 0 }];
  let line = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      if (DECLARATION_LINE.test(text.slice(i, i + 24))) starts.push({ offset: i, line });
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      for (let j = i; j < end; j++) {
        if (text[j] === '\n' || (text[j] === '\r' && text[j + 1] !== '\n')) line++;
      }
      i = end;
      continue;
    }
    if (c === '"' || c === '\'' || c === '`') {
      // Strings and quoted names end at their quote or at the end of the line.
      i++;
      while (i < n && text[i] !== c && text[i] !== '\n' && text[i] !== '\r') i += c !== '`' && text[i] === '\\' && text[i + 1] !== '\n' && text[i + 1] !== '\r' ? 2 : 1;
      if (text[i] === c) i++;
      continue;
    }
    i++;
  }
  return starts.map((s, k) => ({ text: text.slice(s.offset, starts[k + 1]?.offset ?? n), offset: s.offset, line: s.line }));
}
