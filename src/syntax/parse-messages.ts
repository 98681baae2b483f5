/**
 * Human messages for parse errors. Chevrotain's raw "Expecting token of type
 * X but found Y" is rewritten here into what the author wrote and what the
 * grammar wanted at that place, with "did you mean" hints for misspelled
 * keywords. The provider encodes message and hints as JSON in the
 * exception's message; `parse.ts` decodes it into a diagnostic.
 */
import { EOF, tokenMatcher, type IParserErrorMessageProvider, type IToken, type TokenType } from '../../grammar/chevrotain.ts';
import * as T from '../../grammar/tokens.ts';
import { closestMatch } from './suggest.ts';

export interface ParseMessage {
  message: string;
  hints: string[];
  /** Set when a closing bracket was expected, so the caller can point at the unclosed opener. */
  expectedClose?: '}' | ')' | ']' | '>';
  /** The found word is a misspelling of this expected keyword; parsing again with it in place recovers better. */
  replaceWith?: string;
  /** The found token is unexpected in itself (not a missing token after the previous one). */
  stray?: boolean;
}

const punctuation = new Map<TokenType, string>([
  [T.Arrow, '=>'], [T.EqualEqual, '=='], [T.NotEqual, '!='], [T.LessEqual, '<='], [T.GreaterEqual, '>='],
  [T.Less, '<'], [T.Greater, '>'], [T.Equals, '='], [T.QuestionQuestion, '??'], [T.QuestionDot, '?.'],
  [T.Question, '?'], [T.Pipe, '|'], [T.LCurly, '{'], [T.RCurly, '}'], [T.LParen, '('], [T.RParen, ')'],
  [T.LBracket, '['], [T.RBracket, ']'], [T.Comma, ','], [T.Colon, ':'], [T.Dot, '.'], [T.Plus, '+'],
  [T.Minus, '-'], [T.Star, '*'], [T.Slash, '/'], [T.Percent, '%'],
]);

const closers = new Map<TokenType, ParseMessage['expectedClose']>([
  [T.RCurly, '}'], [T.RParen, ')'], [T.RBracket, ']'], [T.Greater, '>'],
]);

const blockNames = { '}': 'block', ')': 'parenthesis', ']': 'bracket' } as const;

/** What the grammar wanted, for a token type: "`=`", "a name", "a string". */
export function describeExpected(type: TokenType): string {
  const spelled = T.keywordSpelling.get(type) ?? punctuation.get(type);
  if (spelled !== undefined) return `\`${spelled}\``;
  switch (type) {
    case T.Name:
    case T.AnyName:
    case T.Identifier:
      return 'a name';
    case T.StringLiteral:
      return 'a string';
    case T.NumberLiteral:
      return 'a number';
    case T.Duration:
      return 'a duration such as `10s` or `5m`';
    case EOF:
      return 'the end of the file';
    default:
      return `\`${type.name}\``;
  }
}

/** What the author wrote, for a token: "`foo`", "the end of the file". */
export function describeFound(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  const image = token.image.length > 30 ? `${token.image.slice(0, 27)}...` : token.image;
  if (tokenMatcher(token, T.StringLiteral)) return `the string ${image}`;
  return `\`${image}\``;
}

const declarationKeywords = ['pipeline', 'import', 'schema', 'source', 'stream', 'sink', 'dead letter'];
const operatorKeywords = ['where', 'select', 'key by', 'flat map', 'union', 'route', 'on error', 'dedupe by', 'lookup'];
const listOf = (words: string[]) => `${words.slice(0, -1).map((w) => `\`${w}\``).join(', ')} or \`${words.at(-1)}\``;

/** What a rule stands for, when none of its alternatives matched. */
const ruleDescriptions: Record<string, string> = {
  sourceFile: `a declaration (${listOf(declarationKeywords)})`,
  declaration: `a declaration (${listOf(declarationKeywords)})`,
  operator: `an operator (${listOf(operatorKeywords)})`,
  selectItem: 'a select item (`*`, `name`, `-name` or `name: expression`)',
  baseType: 'a type',
  typeExpr: 'a type',
  schemaDecl: '`=` and an .avsc path, or a `{` with the fields of the schema',
  optionEntry: 'an option name',
  comparisonTail: 'a comparison',
};

const expressionRules = new Set([
  'expression', 'orExpr', 'andExpr', 'notExpr', 'comparison', 'additive', 'multiplicative', 'unary', 'postfix',
  'postfixOp', 'primary', 'nestedExpression', 'expressionList', 'call', 'arrayLiteral', 'mapLiteral', 'ifExpr', 'caseExpr',
]);

function describeRule(ruleName: string): string {
  return ruleDescriptions[ruleName] ?? (expressionRules.has(ruleName) ? 'an expression' : 'more input');
}

/** Role of the name that precedes an error, by rule: "after the stream name `paid`". */
const nameRoles: Record<string, string> = {
  streamDecl: 'the stream name',
  sourceDecl: 'the source name',
  sinkDecl: 'the sink input',
  schemaDecl: 'the schema name',
  pipelineDecl: 'the pipeline name',
  fieldDecl: 'the field name',
  optionEntry: 'the option name',
};

function describePrevious(previous: IToken | undefined, ruleName: string): string | undefined {
  if (!previous || previous.tokenType === EOF || previous.isInsertedInRecovery) return undefined;
  const isKeyword = T.keywordSpelling.has(previous.tokenType);
  if (!isKeyword && tokenMatcher(previous, T.AnyName) && nameRoles[ruleName]) {
    return `${nameRoles[ruleName]} \`${previous.image}\``;
  }
  return describeFound(previous);
}

/** The keyword the grammar accepts here that the found word misspells ("did you mean `where`?"). */
function misspelledKeyword(actual: IToken, expectedFirsts: TokenType[]): string | undefined {
  if (!tokenMatcher(actual, T.AnyName)) return undefined;
  const wanted = expectedFirsts.map((t) => T.keywordSpelling.get(t)).filter((w): w is string => w !== undefined);
  return closestMatch(actual.image, wanted);
}

/** Message parts for a possibly misspelled keyword. */
function keywordHint(actual: IToken, expectedFirsts: TokenType[]): Pick<ParseMessage, 'hints' | 'replaceWith'> {
  const match = misspelledKeyword(actual, expectedFirsts);
  // Only plain identifiers are replaced: a keyword in the wrong place is not a typo.
  const replace = match && actual.tokenType === T.Identifier ? { replaceWith: match } : {};
  return { hints: match ? [`did you mean \`${match}\`?`] : [], ...replace };
}

/** Extra hints from what was found: `=` for `==`, reserved words as names, `;`. */
function foundHints(actual: IToken, ruleName: string, expectedName: boolean): string[] {
  const hints: string[] = [];
  if (tokenMatcher(actual, T.Equals) && expressionRules.has(ruleName)) hints.push('use `==` to compare values');
  if (expectedName && tokenMatcher(actual, T.ReservedKeyword)) {
    hints.push(`\`${actual.image}\` is a keyword; write \`\`${actual.image}\`\` to use it as a name`);
  }
  return hints;
}

/** A token where a declaration should start. */
function strayTokenMessage(found: IToken): string {
  const typo = keywordHint(found, Object.values(T.DeclarationKeyword));
  const hints = typo.hints;
  if (tokenMatcher(found, T.Equals)) hints.push('use `==` to compare values');
  if (tokenMatcher(found, T.Pipe)) hints.push('an operator `| ...` must follow a stream declaration or another operator');
  if (hints.length === 0) hints.push(`a declaration starts with ${listOf(declarationKeywords)}`);
  return encode({ message: `unexpected ${describeFound(found)}`, ...typo, hints, stray: true });
}

const encode = (m: ParseMessage): string => JSON.stringify(m);

export function decodeParseMessage(text: string): ParseMessage {
  try {
    const parsed = JSON.parse(text) as ParseMessage;
    if (typeof parsed.message === 'string' && Array.isArray(parsed.hints)) return parsed;
  } catch {
    // not one of ours: keep the raw text
  }
  return { message: text, hints: [] };
}

export const parseMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    // Chevrotain expects EOF when the top-level repetition stops at a token that starts no declaration.
    if (expected === EOF) return strayTokenMessage(actual);
    const close = closers.get(expected);
    const after = close && close !== '>' ? undefined : describePrevious(previous, ruleName);
    const wanted = close && close !== '>' ? `${describeExpected(expected)} to close the ${blockNames[close]}` : describeExpected(expected);
    const message = `expected ${wanted}${after ? ` after ${after}` : ''}, found ${describeFound(actual)}`;
    const typo = keywordHint(actual, [expected]);
    const hints = [...typo.hints, ...foundHints(actual, ruleName, expected === T.Name || expected === T.AnyName)];
    if (expected === T.LParen && previous && tokenMatcher(previous, T.Kw.in)) hints.push('the values of `in` go in parentheses: `x in (1, 2)`');
    if (expected === T.Duration && tokenMatcher(actual, T.NumberLiteral)) hints.push(`add a unit: \`${actual.image}s\`, \`${actual.image}m\`, ...`);
    return encode({ message, ...typo, hints, ...(close ? { expectedClose: close } : {}) });
  },

  buildNotAllInputParsedMessage({ firstRedundant }) {
    return strayTokenMessage(firstRedundant);
  },

  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
    const found = actual[0]!;
    const after = describePrevious(previous, ruleName);
    const message = `expected ${describeRule(ruleName)}${after ? ` after ${after}` : ''}, found ${describeFound(found)}`;
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((p) => p[0]!)).filter((t) => t !== undefined);
    const typo = keywordHint(found, firsts);
    const hints = [...typo.hints, ...foundHints(found, ruleName, false)];
    if (ruleName === 'schemaDecl' && tokenMatcher(found, T.Kw.avro)) hints.push('write `= avro "path.avsc"`');
    if (ruleName === 'primary' && tokenMatcher(found, T.ReservedKeyword)) {
      hints.push(`\`${found.image}\` is a keyword; write \`\`${found.image}\`\` for a field of that name`);
    }
    return encode({ message, ...typo, hints });
  },

  buildEarlyExitMessage({ expectedIterationPaths, actual, previous, ruleName }) {
    const found = actual[0]!;
    const first = expectedIterationPaths[0]?.[0];
    const wanted = first ? describeExpected(first) : describeRule(ruleName);
    const after = describePrevious(previous, ruleName);
    const message = `expected ${wanted}${after ? ` after ${after}` : ''}, found ${describeFound(found)}`;
    return encode({ message, ...keywordHint(found, expectedIterationPaths.map((p) => p[0]!)) });
  },
};
