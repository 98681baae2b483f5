/**
 * The parse stage: text → tokens → CST → AST. Never throws: lexer and parser
 * errors become `lex-error` / `parse-error` diagnostics, the parser recovers
 * and goes on, so one run reports every error in the file.
 */
import { EOF, tokenMatcher, type CstNode, type ILexingError, type IRecognitionException, type IToken, type TokenType } from '../../grammar/chevrotain.ts';
import { MAX_NESTING, NestingTooDeep, SenseiParser } from '../../grammar/parser.ts';
import * as T from '../../grammar/tokens.ts';
import type { Diagnostic, Span } from '../diagnostics/diagnostic.ts';
import { diagnostic } from '../diagnostics/codes.ts';
import type { Comment, SourceFile } from './ast.ts';
import { CstToAst } from './cst-to-ast.ts';
import { MAX_TREE_DEPTH, nodeTooDeep } from './depth.ts';
import { LineIndex } from './line-index.ts';
import { decodeParseMessage, parseMessageProvider } from './parse-messages.ts';
import { badEscapes } from './strings.ts';

export interface SyntaxToken {
  /** The token type's name: `Where`, `Identifier`, `StringLiteral`, `LineComment`, ... */
  type: string;
  image: string;
  span: Span;
}

let sharedParser: SenseiParser | undefined;

/** Building a Chevrotain parser analyses the whole grammar, so there is one per process. */
function parser(): SenseiParser {
  sharedParser ??= new SenseiParser(parseMessageProvider);
  return sharedParser;
}

interface Lexed {
  index: LineIndex;
  /** Tokens the parser reads. */
  tokens: IToken[];
  comments: IToken[];
  diagnostics: Diagnostic[];
  binary: boolean;
}

/** NUL bytes, or many control or undecodable characters, mean the file is not text. */
function binaryOffset(text: string): number | undefined {
  const nul = text.indexOf('\0');
  if (nul >= 0) return nul;
  const sample = text.slice(0, 8192);
  let odd = 0;
  let first = -1;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) || c === 0xfffd) {
      odd++;
      if (first < 0) first = i;
    }
  }
  return sample.length > 0 && odd / sample.length > 0.1 ? first : undefined;
}

const lexHints: Record<string, { message: string; hints: string[] }> = {
  ';': { message: 'unexpected `;`', hints: ['declarations and operators need no separator; remove the `;`'] },
  '&': { message: 'unexpected `&`', hints: ['use `and` to combine conditions'] },
};

function lexErrorDiagnostic(index: LineIndex, e: ILexingError): Diagnostic {
  const text = index.text.substr(e.offset, e.length);
  const first = text[0] ?? '';
  const known = lexHints[first];
  const span = index.span(e.offset, e.offset + Math.max(1, e.length));
  if (known && text.length === 1) return diagnostic('lex-error', span, known.message, { hints: known.hints });
  const shown = JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}…` : text).slice(1, -1);
  const hints = /[^\x00-\x7f]/.test(text)
    ? ['names use ASCII letters, digits and `_`; write other names in backticks: `größe`']
    : [];
  return diagnostic('lex-error', span, `unexpected ${text.length === 1 ? 'character' : 'characters'} \`${shown}\``, { hints });
}

const tokenEnd = (t: IToken) => t.startOffset + t.image.length;

function lex(file: string, text: string): Lexed {
  const index = new LineIndex(file, text);
  const binaryAt = binaryOffset(text);
  if (binaryAt !== undefined) {
    const d = diagnostic('binary-input', index.span(binaryAt, binaryAt + 1), 'this file is not text', {
      hints: ['a .sensei file is UTF-8 text; check that the right file was given'],
    });
    return { index, tokens: [], comments: [], diagnostics: [d], binary: true };
  }
  const result = T.senseiLexer.tokenize(text);
  const diagnostics = result.errors.map((e) => lexErrorDiagnostic(index, e));
  const comments = result.groups.comments ?? [];
  const span = (t: IToken) => index.span(t.startOffset, tokenEnd(t));
  const tokens: IToken[] = [];
  for (const t of result.tokens) {
    const previous = tokens.at(-1);
    switch (t.tokenType) {
      case T.UnterminatedString:
      case T.UnterminatedSingleQuotedString:
        diagnostics.push(diagnostic('lex-error', span(t), 'unterminated string', {
          hints: [`add a closing \`${t.image[0]}\` before the end of the line`],
        }));
        break;
      case T.UnterminatedQuotedIdentifier:
        diagnostics.push(diagnostic('lex-error', span(t), 'unterminated quoted name', { hints: ['add a closing backtick before the end of the line'] }));
        break;
    }
    if (tokenMatcher(t, T.StringLiteral)) {
      for (const bad of badEscapes(t.image)) {
        diagnostics.push(diagnostic('lex-error', index.span(t.startOffset + bad.offset, t.startOffset + bad.offset + bad.text.length),
          `unknown escape \`${bad.text}\` in string`, { hints: ['escapes are \\n \\t \\r \\" \\\\ \\/ \\0 and \\uXXXX'] }));
      }
    }
    // `10min`, `12abc`: a number glued to a word. One error for both, and the word is not parsed.
    if (previous && (previous.tokenType === T.NumberLiteral || previous.tokenType === T.Duration) &&
        tokenMatcher(t, T.AnyName) && tokenEnd(previous) === t.startOffset) {
      diagnostics.push(diagnostic('lex-error', index.span(previous.startOffset, tokenEnd(t)),
        `\`${previous.image}${t.image}\` is not a number or a duration`, {
          hints: ['durations are written `500ms`, `10s`, `5m`, `2h` or `1d`; number suffixes are `L` (long), `f` (float) and `d` (decimal)'],
        }));
      continue;
    }
    tokens.push(t);
  }
  for (const c of comments) {
    if (c.tokenType === T.HashComment) {
      diagnostics.push(diagnostic('lex-error', index.span(c.startOffset, c.startOffset + 1), 'comments start with `//`, not `#`', {
        fixes: [{ title: 'use `//`', span: index.span(c.startOffset, c.startOffset + 1), replacement: '//' }],
      }));
    }
    if (c.tokenType === T.UnterminatedBlockComment) {
      diagnostics.push(diagnostic('lex-error', index.span(c.startOffset, c.startOffset + 2), 'unterminated block comment', {
        hints: ['close it with `*/`'],
      }));
    }
  }
  return { index, tokens, comments, diagnostics, binary: false };
}

export function textToTokens(file: string, text: string): { tokens: SyntaxToken[]; diagnostics: Diagnostic[] } {
  try {
    const lexed = lex(file, text);
    const all = [...lexed.tokens, ...lexed.comments].sort((a, b) => a.startOffset - b.startOffset);
    const tokens = all.map((t) => ({ type: t.tokenType.name, image: t.image, span: lexed.index.span(t.startOffset, tokenEnd(t)) }));
    return { tokens, diagnostics: lexed.diagnostics };
  } catch (error) {
    return { tokens: [], diagnostics: [internalError(file, text, error)] };
  }
}

export function textToAst(file: string, text: string): { ast: SourceFile; diagnostics: Diagnostic[] } {
  try {
    return parseText(file, text);
  } catch (error) {
    const index = new LineIndex(file, text);
    return {
      ast: { file, declarations: [], comments: [], span: index.span(0, text.length) },
      diagnostics: [internalError(file, text, error)],
    };
  }
}

/** A bug in the parser must not take the caller down; it is reported like a syntax error. */
function internalError(file: string, text: string, error: unknown): Diagnostic {
  const message = error instanceof Error ? error.message : String(error);
  return diagnostic('parse-error', new LineIndex(file, text).span(0, 0), `internal error in the parser: ${message}`, {
    hints: ['this is a bug in Sensei; please report it with the file that caused it'],
  });
}

const softDeclarationWords = new Map<TokenType, T.DeclarationWord>(
  (Object.keys(T.DeclarationStart) as T.DeclarationWord[]).map((w) => [T.Kw[w], w]),
);
const hardDeclarationStarts = new Set(Object.values(T.DeclarationStart));

/** What follows a declaration keyword when it does begin a declaration: `stream x =`, `source x:`. */
function followsDeclaration(word: T.DeclarationWord, next: IToken | undefined, after: IToken | undefined): boolean {
  const is = (t: IToken | undefined, type: TokenType) => t !== undefined && tokenMatcher(t, type);
  switch (word) {
    case 'stream':
      return is(next, T.Name) && is(after, T.Equals);
    case 'source':
      return is(next, T.Name) && is(after, T.Colon);
    case 'sink':
      return is(next, T.Name) && is(after, T.Kw.to);
    case 'schema':
      return is(next, T.Name) && (is(after, T.Equals) || is(after, T.LCurly) || is(after, T.Kw.doc));
    case 'import':
      return is(next, T.StringLiteral);
    case 'pipeline':
      return is(next, T.Name);
    case 'dead':
      return is(next, T.Kw.letter) && is(after, T.Kw.to);
  }
}

/**
 * Retypes the declaration keywords that begin declarations to their hard
 * twins (see `DeclarationStart`): a keyword first on its line, followed by
 * what a declaration has there, or at column 1 followed by a name.
 */
function hardenDeclarationKeywords(tokens: IToken[]): IToken[] {
  return tokens.map((t, i) => {
    const word = softDeclarationWords.get(t.tokenType);
    if (!word) return t;
    const previous = tokens[i - 1];
    if (previous && previous.endLine! >= t.startLine!) return t;
    const next = tokens[i + 1];
    const atMargin = t.startColumn === 1 && next !== undefined && (tokenMatcher(next, T.Name) || tokenMatcher(next, T.StringLiteral));
    if (!atMargin && !followsDeclaration(word, next, tokens[i + 2])) return t;
    const hard = T.DeclarationStart[word];
    return { ...t, tokenType: hard, tokenTypeIdx: hard.tokenTypeIdx! };
  });
}

/** Where parsing can start again after text that is no declaration: the next declaration keyword. */
function restartIndex(tokens: IToken[], from: number): number {
  for (let i = from; i < tokens.length; i++) {
    if (hardDeclarationStarts.has(tokens[i]!.tokenType)) return i;
  }
  return -1;
}

/** Where the declaration holding token `at` begins, not before `from`. */
function declarationStart(tokens: IToken[], from: number, at: number): number {
  for (let i = Math.min(at, tokens.length - 1); i > from; i--) {
    if (hardDeclarationStarts.has(tokens[i]!.tokenType)) return i;
  }
  return from;
}

interface ParsedTokens {
  roots: CstNode[];
  errors: IRecognitionException[];
  /** Where nesting passed MAX_NESTING: a token's index (the length of the list: at its end). */
  tooDeep: { at: number; what: NestingTooDeep['what'] }[];
}

/**
 * Parses a token list. Where the parser stops at text that starts no
 * declaration, it starts again at the next line that begins with one, so
 * every declaration gets parsed. A declaration nested too deeply is left
 * out: the declarations before it are parsed again without it, and parsing
 * goes on at the next declaration after the point where it went too deep.
 */
function parseTokens(tokens: IToken[]): ParsedTokens {
  const p = parser();
  const parsed: ParsedTokens = { roots: [], errors: [], tooDeep: [] };
  const parse = (from: number, to: number): NestingTooDeep | undefined => {
    p.input = tokens.slice(from, to);
    try {
      parsed.roots.push(p.sourceFile());
    } catch (error) {
      if (error instanceof NestingTooDeep) return error;
      throw error;
    }
    parsed.errors.push(...p.errors);
    return undefined;
  };
  let start = 0;
  while (start < tokens.length || parsed.roots.length === 0) {
    const deep = parse(start, tokens.length);
    let resumeAfter: number;
    if (deep) {
      const found = tokens.indexOf(deep.token, start);
      const at = found < 0 ? tokens.length : found;
      parsed.tooDeep.push({ at, what: deep.what });
      parse(start, declarationStart(tokens, start, at));
      resumeAfter = at;
    } else {
      const leftover = p.errors.find((e) => e.name === 'NotAllInputParsedException');
      if (!leftover) break;
      const at = tokens.indexOf(leftover.token, start);
      if (at < 0) break;
      resumeAfter = at;
    }
    const next = restartIndex(tokens, resumeAfter + 1);
    if (next < 0) break;
    start = next;
  }
  p.input = [];
  return parsed;
}

function parseText(file: string, text: string): { ast: SourceFile; diagnostics: Diagnostic[] } {
  const lexed = lex(file, text);
  const { index } = lexed;
  // Past the 100th lexer error nothing more would be shown: the parser, whose recovery is the slow part
  // of a broken file, reads only the tokens before it (the errors it would find there count in "more").
  const lexErrors = lexed.diagnostics.filter((d) => d.severity === 'error');
  const cut = lexErrors.length > MAX_DIAGNOSTICS ? lexErrors[MAX_DIAGNOSTICS]!.span.start.offset : undefined;
  const tokens = cut === undefined ? lexed.tokens : lexed.tokens.filter((t) => t.startOffset < cut);
  const diagnostics = [...lexed.diagnostics];
  const comments: Comment[] = lexed.comments.map((c) => ({
    kind: c.tokenType === T.LineComment || c.tokenType === T.HashComment ? 'line' : 'block',
    text: c.image,
    span: index.span(c.startOffset, tokenEnd(c)),
  }));
  const fileSpan = index.span(0, text.length);
  if (lexed.binary) return { ast: { file, declarations: [], comments: [], span: fileSpan }, diagnostics };

  // A misspelled keyword (`wher`) is reported once, then read as the keyword in a new pass, so the
  // parser recovers as if it were spelled right and reports the errors behind it too.
  let current = hardenDeclarationKeywords(tokens);
  let parsed = parseTokens(current);
  const typos: Diagnostic[] = [];
  for (let pass = 0; pass < 3; pass++) {
    const fixes = new Map<IToken, TokenType>();
    const positions = tokenPositions(current);
    for (const e of parsed.errors) {
      const word = decodeParseMessage(e.message).replaceWith;
      if (word && word in T.Kw && e.token.tokenType === T.Identifier) {
        typos.push(parseErrorDiagnostic(index, current, positions, e, typos.length < MAX_DIAGNOSTICS));
        fixes.set(e.token, T.Kw[word as T.KeywordWord]);
      }
    }
    if (fixes.size === 0) break;
    current = current.map((t) => {
      const type = fixes.get(t);
      return type ? { ...t, tokenType: type, tokenTypeIdx: type.tokenTypeIdx! } : t;
    });
    parsed = parseTokens(current);
  }

  const seen = new Set<number>();
  const positions = tokenPositions(current);
  // Only the diagnostics that will be shown get the unclosed-bracket hint, whose search reads the tokens before the error.
  for (const d of [...typos, ...parsed.errors.map((e, i) => parseErrorDiagnostic(index, current, positions, e, typos.length + i < MAX_DIAGNOSTICS))]) {
    if (seen.has(d.span.start.offset)) continue;
    seen.add(d.span.start.offset);
    diagnostics.push(d);
  }

  const converter = new CstToAst(index, (range, message, hints = []) => {
    diagnostics.push(diagnostic('parse-error', index.span(range[0], range[1]), message, { hints }));
  });
  const converted = converter.sourceFile(parsed.roots);
  for (const deep of parsed.tooDeep) diagnostics.push(nestingDiagnostic(index, current, deep));
  // A declaration too deep for the later stages is reported and left out, like one the parser could not read.
  const declarations = converted.declarations.filter((d) => {
    const deep = nodeTooDeep(d);
    if (deep) {
      diagnostics.push(diagnostic('nested-too-deeply', index.span(deep.span.start.offset, deep.span.start.offset), `this expression nests more than ${MAX_TREE_DEPTH} levels deep`, {
        hints: ['each operator of a chain such as `a + b + …` or `x or y or …` is one level; compute parts as fields of an earlier `select`, or test many values with `in (…)`'],
      }));
    }
    return !deep;
  });
  const ast: SourceFile = {
    file,
    ...(converted.pipeline ? { pipeline: converted.pipeline } : {}),
    declarations,
    comments,
    span: fileSpan,
  };
  return { ast, diagnostics: capped(diagnostics.sort((a, b) => a.span.start.offset - b.span.start.offset)) };
}

/** Syntax diagnostics shown per file: a broken file (an unterminated string early on) reports the first ones and how many more. */
export const MAX_DIAGNOSTICS = 100;

function capped(diagnostics: Diagnostic[]): Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const next = diagnostics[MAX_DIAGNOSTICS]!;
  const more = diagnostics.length - MAX_DIAGNOSTICS;
  return [
    ...diagnostics.slice(0, MAX_DIAGNOSTICS),
    diagnostic('too-many-diagnostics', { ...next.span, end: next.span.start }, `and ${more} more syntax error${more === 1 ? '' : 's'} in this file, the next one here (the first ${MAX_DIAGNOSTICS} are shown)`, {
      hints: ['fix the first ones: one unterminated string or bracket often causes all that follow'],
    }),
  ];
}

function tokenPositions(tokens: IToken[]): Map<IToken, number> {
  return new Map(tokens.map((t, i) => [t, i]));
}

const nestingHints = {
  expression: 'compute inner parts as fields of an earlier `select` and refer to them by name',
  type: 'declare inner records as schemas of their own, or flatten them',
};

function nestingDiagnostic(index: LineIndex, tokens: IToken[], deep: ParsedTokens['tooDeep'][number]): Diagnostic {
  const token = tokens[deep.at];
  const at = token ? token.startOffset : tokens.length > 0 ? tokenEnd(tokens.at(-1)!) : 0;
  const span = token ? index.span(at, tokenEnd(token)) : index.span(at, at);
  return diagnostic('nested-too-deeply', span, `this ${deep.what} nests more than ${MAX_NESTING} levels deep`, { hints: [nestingHints[deep.what]] });
}

const openers = new Map([[T.LCurly, '}'], [T.LParen, ')'], [T.LBracket, ']']]);
const closers = new Map([[T.RCurly, T.LCurly], [T.RParen, T.LParen], [T.RBracket, T.LBracket]]);

/** The innermost bracket of the given kind that is still open before `end`. */
function unclosedOpener(tokens: IToken[], end: number, close: string): IToken | undefined {
  const stack: IToken[] = [];
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (openers.has(t.tokenType)) stack.push(t);
    else {
      const opener = closers.get(t.tokenType);
      if (opener) {
        const at = stack.findLastIndex((s) => s.tokenType === opener);
        if (at >= 0) stack.length = at;
      }
    }
  }
  return stack.findLast((t) => openers.get(t.tokenType) === close);
}

function parseErrorDiagnostic(index: LineIndex, tokens: IToken[], positions: Map<IToken, number>, e: IRecognitionException, bracketHint: boolean): Diagnostic {
  const decoded = decodeParseMessage(e.message);
  const token = e.token;
  const atEnd = token.tokenType === EOF || !Number.isFinite(token.startOffset);
  const position = atEnd ? tokens.length : (positions.get(token) ?? -1);
  const previous = position > 0 ? tokens[position - 1] : undefined;
  // Something missing at the end of a line is reported there, not at the next line's first token.
  const missingAfterPrevious = !decoded.stray && previous && (atEnd || token.startLine! > previous.endLine!);
  const at = missingAfterPrevious ? tokenEnd(previous) : atEnd ? 0 : -1;
  const span = at >= 0 ? index.span(at, at) : index.span(token.startOffset, tokenEnd(token));
  const hints = [...decoded.hints];
  if (bracketHint && decoded.expectedClose && decoded.expectedClose !== '>') {
    const opener = unclosedOpener(tokens, position < 0 ? tokens.length : position, decoded.expectedClose);
    if (opener) {
      const at = index.position(opener.startOffset);
      hints.push(`the \`${opener.image}\` at line ${at.line}, column ${at.column} is not closed`);
    }
  }
  return diagnostic('parse-error', span, decoded.message, { hints });
}
