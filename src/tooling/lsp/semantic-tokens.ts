/**
 * Semantic tokens, for editors without the TextMate grammar (and to colour
 * what a grammar cannot know: a soft keyword used as a field name, a stream
 * against a schema). Names take their kind from the AST and the resolver;
 * the rest (keywords, literals, comments, operators) from the lexer's tokens.
 */
import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend } from 'vscode-languageserver';
import { Kw } from '../../../grammar/tokens.ts';
import { AGGREGATES } from '../../check/aggregates.ts';
import { FUNCTIONS_BY_NAME } from '../../check/functions.ts';
import type { SymbolInfo } from '../../resolve/resolve.ts';
import type { Identifier, Node } from '../../syntax/ast.ts';
import { textToTokens } from '../../syntax/parse.ts';
import type { Analysis } from './analysis.ts';
import { forEachNode, identifierAt, isEventTimeClause, isPartitionClause } from './locate.ts';

const TYPES = ['namespace', 'type', 'enumMember', 'variable', 'property', 'function', 'class', 'keyword', 'string', 'number', 'comment', 'operator'] as const;
const MODIFIERS = ['declaration', 'defaultLibrary'] as const;
type TokenType = (typeof TYPES)[number];
type Modifier = (typeof MODIFIERS)[number];

export const SEMANTIC_LEGEND: SemanticTokensLegend = { tokenTypes: [...TYPES], tokenModifiers: [...MODIFIERS] };

interface Token {
  start: number;
  end: number;
  type: TokenType;
  modifiers: Modifier[];
}

const SYMBOL_TYPES: Record<SymbolInfo['kind'], TokenType> = { stream: 'variable', source: 'variable', 'route-target': 'variable', schema: 'type', type: 'type' };
const KEYWORDS = new Set(Object.values(Kw).map((t) => t.name));
const OPERATORS = new Set([
  'EqualEqual', 'NotEqual', 'LessEqual', 'GreaterEqual', 'Less', 'Greater', 'Arrow', 'QuestionQuestion', 'QuestionDot', 'Question', 'Pipe',
  'Plus', 'Minus', 'Star', 'Slash', 'Percent', 'Equals', 'AmpAmp', 'PipePipe', 'Bang',
]);

export function semanticTokens(a: Analysis): SemanticTokens {
  const named = nameTokens(a);
  const taken = new Set(named.map((t) => t.start));
  const tokens = [...named, ...lexicalTokens(a).filter((t) => !taken.has(t.start))].sort((x, y) => x.start - y.start);
  const builder = new SemanticTokensBuilder();
  for (const t of tokens) {
    const modifiers = t.modifiers.reduce((bits, m) => bits | (1 << MODIFIERS.indexOf(m)), 0);
    // Tokens may not span lines: a block comment is sent line by line.
    for (const [start, end] of lineParts(a.text, t.start, t.end)) {
      const at = a.index.position(start);
      builder.push(at.line - 1, at.column - 1, end - start, TYPES.indexOf(t.type), modifiers);
    }
  }
  return builder.build();
}

/** Names, by what they name: streams, schemas, fields, functions, connectors, options. */
function nameTokens(a: Analysis): Token[] {
  const symbols = new Map<number, { symbol: SymbolInfo; declaration: boolean }>();
  for (const s of a.resolved?.symbols ?? []) if (s.span.file === a.path) symbols.set(s.span.start.offset, { symbol: s, declaration: true });
  for (const r of a.resolved?.references ?? []) if (r.span.file === a.path) symbols.set(r.span.start.offset, { symbol: r.symbol, declaration: false });
  const out: Token[] = [];
  const add = (node: Node, type: TokenType, ...modifiers: Modifier[]) => out.push({ start: node.span.start.offset, end: node.span.end.offset, type, modifiers });
  forEachNode(a.ast, (node, parents) => {
    if ((node as { kind?: string }).kind === 'primitive') return add(node, 'type');
    const id = identifierAt([node]);
    if (!id) return;
    const found = symbols.get(id.span.start.offset);
    if (found) return add(id, SYMBOL_TYPES[found.symbol.kind], ...(found.declaration ? ['declaration' as const] : []));
    if (id === a.ast.pipeline) return add(id, 'namespace', 'declaration');
    const parent = parents.at(-1);
    // The field an event time reads, and those a source is partitioned by.
    if (isEventTimeClause(parent) || isPartitionClause(parent)) return add(id, 'property');
    const type = nameType(id, parent as Node & Record<string, unknown>);
    if (type) add(id, ...type);
  });
  return out;
}

function nameType(id: Identifier, parent: (Node & Record<string, unknown>) | undefined): [TokenType, ...Modifier[]] | undefined {
  switch (parent?.kind) {
    case 'call':
      return FUNCTIONS_BY_NAME.has(id.name) || AGGREGATES.has(id.name) ? ['function', 'defaultLibrary'] : ['function'];
    case 'source':
    case 'sink':
    case 'dead-letter':
    case 'stream':
    case 'union':
    case 'route':
      return parent.connector === id ? ['class'] : ['variable'];
    case 'lookup':
      // A lookup adds a field of its name.
      return parent.connector === id ? ['class'] : ['property', 'declaration'];
    case 'named':
      return ['type'];
    case 'window':
      // The shape and the emit mode: words from a fixed set, as the policies of `on error`.
      return ['enumMember'];
    case 'on-error':
    case 'enum':
      return parent.name === id ? ['type', 'declaration'] : ['enumMember'];
    case 'record':
    case 'fixed':
      return ['type', 'declaration'];
    case 'compute':
    case 'flat-map':
      return parent.name === id || parent.as === id ? ['property', 'declaration'] : ['property'];
    case 'field':
    case 'member':
    case 'keep':
    case 'drop':
      return ['property'];
    case undefined:
      // A schema field (`name: type`) or a connector option (`name: value`).
      if (parent?.name !== id) return undefined;
      return 'type' in parent ? ['property', 'declaration'] : ['property'];
    default:
      return undefined;
  }
}

/** Keywords, literals, comments and operators, from the lexer. */
function lexicalTokens(a: Analysis): Token[] {
  const out: Token[] = [];
  for (const t of textToTokens(a.path, a.text).tokens) {
    const type = lexicalType(t.type);
    if (type) out.push({ start: t.span.start.offset, end: t.span.end.offset, type, modifiers: [] });
  }
  return out;
}

function lexicalType(type: string): TokenType | undefined {
  if (type.endsWith('Comment')) return 'comment';
  if (type.endsWith('String')) return 'string';
  if (type === 'NumberLiteral' || type === 'Duration') return 'number';
  if (OPERATORS.has(type)) return 'operator';
  return KEYWORDS.has(type) ? 'keyword' : undefined;
}

/** [start, end) cut at line breaks. */
function lineParts(text: string, start: number, end: number): [number, number][] {
  const parts: [number, number][] = [];
  let from = start;
  for (const m of text.slice(start, end).matchAll(/\r\n|\r|\n/g)) {
    parts.push([from, start + m.index]);
    from = start + m.index + m[0].length;
  }
  parts.push([from, end]);
  return parts.filter(([s, e]) => e > s);
}
