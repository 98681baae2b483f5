/**
 * Tokens of the .sensei language (Chevrotain lexer definitions).
 *
 * Keywords are "soft" where the grammar allows: every keyword belongs to the
 * `AnyName` category, so it can be written as a field name after `.` and
 * before `:`; all keywords except the few that can continue or start an
 * expression (`and`, `or`, `not`, `if`, `true`, ...) also belong to `Name`, so
 * `where key == 1` and `stream select = ...` work too. Backtick-quoted names
 * (`` `order id` ``) are always names.
 */
import { createToken, Lexer, type TokenType } from './chevrotain.ts';

/** Any word usable as a name after `.`, before `:` and in declarations' name slots. */
export const AnyName = createToken({ name: 'AnyName', pattern: Lexer.NA });
/** Words usable as a bare name in an expression: identifiers and soft keywords. */
export const Name = createToken({ name: 'Name', pattern: Lexer.NA, categories: [AnyName] });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: Lexer.NA });
/** Keywords that may not stand as a bare field name in expressions. */
export const ReservedKeyword = createToken({ name: 'ReservedKeyword', pattern: Lexer.NA, categories: [AnyName] });
export const SoftKeyword = createToken({ name: 'SoftKeyword', pattern: Lexer.NA, categories: [Name] });
/** `timestamp`, `date`, `time`, `uuid`, `bytes`: prefixes of typed literals. */
export const TypedLiteralWord = createToken({ name: 'TypedLiteralWord', pattern: Lexer.NA, categories: [SoftKeyword] });
/** Names of the primitive types, which double as cast functions (`long(x)`). */
export const PrimitiveTypeWord = createToken({ name: 'PrimitiveTypeWord', pattern: Lexer.NA, categories: [SoftKeyword] });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [Name] });
export const QuotedIdentifier = createToken({ name: 'QuotedIdentifier', pattern: /`[^`\r\n]+`/, categories: [Name] });
/** A backtick name missing its closing backtick; reported as a lex error, parsed as a name. */
export const UnterminatedQuotedIdentifier = createToken({
  name: 'UnterminatedQuotedIdentifier',
  pattern: /`[^`\r\n]*/,
  categories: [Name],
});

function pascalCase(word: string): string {
  return word
    .split('_')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

const declarationWords = ['pipeline', 'import', 'schema', 'source', 'stream', 'sink', 'dead'] as const;
export type DeclarationWord = (typeof declarationWords)[number];

/**
 * The keywords that begin declarations, as the grammar consumes them. A
 * declaration keyword is a soft keyword (a field may be called `source`),
 * except where it begins a line and what follows looks like a declaration:
 * there `parse.ts` retypes it to its hard twin (`DeclarationStart.stream`),
 * which is no name, so a block or an expression missing its end cannot
 * swallow the next declaration.
 */
export const DeclarationKeyword = Object.fromEntries(
  declarationWords.map((word) => [word, createToken({ name: `${pascalCase(word)}Keyword`, pattern: Lexer.NA })]),
) as Record<DeclarationWord, TokenType>;

export const DeclarationStart = Object.fromEntries(
  declarationWords.map((word) => [
    word,
    createToken({ name: pascalCase(word), pattern: Lexer.NA, categories: [DeclarationKeyword[word]] }),
  ]),
) as Record<DeclarationWord, TokenType>;

/** Each keyword's category: reserved words cannot be bare names in expressions. */
const keywordCategories = {
  // declarations
  pipeline: [SoftKeyword, DeclarationKeyword.pipeline], import: [SoftKeyword, DeclarationKeyword.import],
  schema: [SoftKeyword, DeclarationKeyword.schema], source: [SoftKeyword, DeclarationKeyword.source],
  stream: [SoftKeyword, DeclarationKeyword.stream], sink: [SoftKeyword, DeclarationKeyword.sink],
  dead: [SoftKeyword, DeclarationKeyword.dead],
  avro: [SoftKeyword], doc: [SoftKeyword], from: [SoftKeyword], to: [SoftKeyword], letter: [SoftKeyword],
  // operators
  where: [SoftKeyword], select: [SoftKeyword], key: [SoftKeyword], by: [SoftKeyword], flat: [SoftKeyword],
  as: [SoftKeyword], union: [SoftKeyword], route: [SoftKeyword], on: [SoftKeyword], error: [SoftKeyword],
  dedupe: [SoftKeyword], within: [SoftKeyword], lookup: [SoftKeyword],
  window: [SoftKeyword], every: [SoftKeyword], gap: [SoftKeyword], emit: [SoftKeyword], group: [SoftKeyword],
  event: [SoftKeyword], lateness: [SoftKeyword], idle: [SoftKeyword], partitioned: [SoftKeyword],
  // types
  record: [SoftKeyword], enum: [SoftKeyword], array: [SoftKeyword], map: [SoftKeyword], fixed: [SoftKeyword],
  decimal: [SoftKeyword],
  timestamp_millis: [PrimitiveTypeWord], timestamp_micros: [PrimitiveTypeWord],
  time_millis: [PrimitiveTypeWord], time_micros: [PrimitiveTypeWord],
  timestamp: [TypedLiteralWord], time: [TypedLiteralWord],
  boolean: [PrimitiveTypeWord], int: [PrimitiveTypeWord], long: [PrimitiveTypeWord], float: [PrimitiveTypeWord],
  double: [PrimitiveTypeWord], string: [PrimitiveTypeWord],
  date: [TypedLiteralWord, PrimitiveTypeWord], uuid: [TypedLiteralWord, PrimitiveTypeWord],
  bytes: [TypedLiteralWord, PrimitiveTypeWord],
  // expressions
  and: [ReservedKeyword], or: [ReservedKeyword], not: [ReservedKeyword], in: [ReservedKeyword],
  between: [ReservedKeyword], like: [ReservedKeyword], matches: [ReservedKeyword], if: [ReservedKeyword],
  then: [ReservedKeyword], else: [ReservedKeyword], case: [ReservedKeyword], when: [ReservedKeyword],
  end: [ReservedKeyword], true: [ReservedKeyword], false: [ReservedKeyword], null: [ReservedKeyword],
} satisfies Record<string, TokenType[]>;

export type KeywordWord = keyof typeof keywordCategories;

/** Keyword tokens by spelling: `Kw.where`, `Kw.map`. Token names are PascalCase (`Where`). */
export const Kw = Object.fromEntries(
  Object.entries(keywordCategories).map(([word, categories]) => [
    word,
    createToken({ name: pascalCase(word), pattern: new RegExp(word), longer_alt: Identifier, categories }),
  ]),
) as Record<KeywordWord, TokenType>;

/** Longest first, so a keyword that is a prefix of another (`by`, `bytes`) does not shadow it. */
export const keywordTokens: TokenType[] = Object.entries(Kw)
  .sort(([a], [b]) => b.length - a.length)
  .map(([, token]) => token);

// Literals. Durations come before numbers: `1d` is a day, `1.5d` a decimal.
export const Duration = createToken({ name: 'Duration', pattern: /\d+(?:ms|s|m|h|d)(?![A-Za-z0-9_])/ });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[Lfd]?/ });
export const DoubleQuotedString = createToken({
  name: 'DoubleQuotedString',
  pattern: /"(?:[^"\\\r\n]|\\.)*"/,
  categories: [StringLiteral],
});
export const SingleQuotedString = createToken({
  name: 'SingleQuotedString',
  pattern: /'(?:[^'\\\r\n]|\\.)*'/,
  categories: [StringLiteral],
});
/** A string missing its closing quote; reported as a lex error, parsed as a string. */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /"(?:[^"\\\r\n]|\\.)*\\?/,
  categories: [StringLiteral],
});
export const UnterminatedSingleQuotedString = createToken({
  name: 'UnterminatedSingleQuotedString',
  pattern: /'(?:[^'\\\r\n]|\\.)*\\?/,
  categories: [StringLiteral],
});

// Punctuation
export const Arrow = createToken({ name: 'Arrow', pattern: /=>/ });
export const EqualEqual = createToken({ name: 'EqualEqual', pattern: /==/ });
export const NotEqual = createToken({ name: 'NotEqual', pattern: /!=/ });
export const LessEqual = createToken({ name: 'LessEqual', pattern: /<=/ });
export const GreaterEqual = createToken({ name: 'GreaterEqual', pattern: />=/ });
export const Less = createToken({ name: 'Less', pattern: /</ });
export const Greater = createToken({ name: 'Greater', pattern: />/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });
export const QuestionQuestion = createToken({ name: 'QuestionQuestion', pattern: /\?\?/ });
export const QuestionDot = createToken({ name: 'QuestionDot', pattern: /\?\./ });
export const Question = createToken({ name: 'Question', pattern: /\?/ });
/** `&&`, `||` and `!` are aliases of `and`, `or` and `not`. */
export const AmpAmp = createToken({ name: 'AmpAmp', pattern: /&&/, categories: [Kw.and] });
export const PipePipe = createToken({ name: 'PipePipe', pattern: /\|\|/, categories: [Kw.or] });
export const Bang = createToken({ name: 'Bang', pattern: /!/, categories: [Kw.not] });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/ });
export const LCurly = createToken({ name: 'LCurly', pattern: /\{/ });
export const RCurly = createToken({ name: 'RCurly', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });

// Trivia. Comments go to their own group: the parser never sees them, the formatter keeps them.
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\r\n]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, line_breaks: true, group: 'comments' });
/** `#` comments from other languages: kept as a comment (so parsing goes on) and reported. */
export const HashComment = createToken({ name: 'HashComment', pattern: /#[^\r\n]*/, group: 'comments' });
export const UnterminatedBlockComment = createToken({
  name: 'UnterminatedBlockComment',
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
  group: 'comments',
});


/** Every token type, in lexing order (order matters: first match wins, keywords before identifiers). */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedBlockComment,
  HashComment,
  DoubleQuotedString,
  UnterminatedString,
  SingleQuotedString,
  UnterminatedSingleQuotedString,
  Duration,
  NumberLiteral,
  Arrow,
  EqualEqual,
  NotEqual,
  LessEqual,
  GreaterEqual,
  Less,
  Greater,
  Equals,
  QuestionQuestion,
  QuestionDot,
  Question,
  AmpAmp,
  PipePipe,
  Bang,
  Pipe,
  LCurly,
  RCurly,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Dot,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  ...keywordTokens,
  Identifier,
  QuotedIdentifier,
  UnterminatedQuotedIdentifier,
  // Not lexed, but the parser must know them: categories, and the hard declaration keywords.
  ...Object.values(DeclarationKeyword),
  ...Object.values(DeclarationStart),
  AnyName,
  Name,
  StringLiteral,
  ReservedKeyword,
  SoftKeyword,
  TypedLiteralWord,
  PrimitiveTypeWord,
];

/** The keyword spelled by each keyword token, for messages ("did you mean `where`?") and the formatter. */
export const keywordSpelling: ReadonlyMap<TokenType, string> = new Map([
  ...keywordTokens.map((t) => [t, (t.PATTERN as RegExp).source] as const),
  ...declarationWords.flatMap((w) => [[DeclarationKeyword[w], w] as const, [DeclarationStart[w], w] as const]),
]);

export const senseiLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
