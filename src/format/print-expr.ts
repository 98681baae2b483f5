/**
 * Prints expressions, types and names on one line, with the fewest
 * parentheses that re-parse to the same tree, and backticks only where a
 * name would otherwise read as a keyword.
 */
import { tokenMatcher } from '../../grammar/chevrotain.ts';
import * as T from '../../grammar/tokens.ts';
import type { Expr, FieldDecl, Identifier, TypeExpr } from '../syntax/ast.ts';
import { quoteString } from '../syntax/strings.ts';

/**
 * Where a name stands decides which words need backticks: `any` after `.`
 * and before `:` (every keyword is fine), `name` where a bare name is read
 * (reserved words are not), `type` in a type (every keyword means itself).
 */
export type NamePosition = 'any' | 'name' | 'type';

const bareCache = new Map<string, IdentifierClass>();
type IdentifierClass = 'identifier' | 'soft' | 'reserved' | 'other';

function classify(name: string): IdentifierClass {
  let cls = bareCache.get(name);
  if (cls) return cls;
  const { tokens, errors, groups } = T.senseiLexer.tokenize(name);
  const token = tokens[0];
  if (errors.length > 0 || tokens.length !== 1 || (groups.comments?.length ?? 0) > 0 || token!.image !== name) cls = 'other';
  else if (token!.tokenType === T.Identifier) cls = 'identifier';
  else if (tokenMatcher(token!, T.Name) && T.keywordSpelling.has(token!.tokenType)) cls = 'soft';
  else if (tokenMatcher(token!, T.AnyName) && T.keywordSpelling.has(token!.tokenType)) cls = 'reserved';
  else cls = 'other';
  bareCache.set(name, cls);
  return cls;
}

export function printName(id: Identifier | string, position: NamePosition): string {
  const name = typeof id === 'string' ? id : id.name;
  const cls = classify(name);
  const bare =
    cls === 'identifier' || (cls === 'soft' && position !== 'type') || (cls === 'reserved' && position === 'any');
  return bare ? name : `\`${name}\``;
}

/** Binding strength: an operand weaker than its context gets parentheses. */
const Level = {
  Conditional: 0,
  Coalesce: 1,
  Or: 2,
  And: 3,
  Not: 4,
  Comparison: 5,
  Additive: 6,
  Multiplicative: 7,
  Unary: 8,
  Postfix: 9,
} as const;
type Level = number;

const binaryLevels: Record<string, Level> = {
  '??': Level.Coalesce, or: Level.Or, and: Level.And,
  '==': Level.Comparison, '!=': Level.Comparison, '<': Level.Comparison, '<=': Level.Comparison,
  '>': Level.Comparison, '>=': Level.Comparison, like: Level.Comparison, matches: Level.Comparison,
  '+': Level.Additive, '-': Level.Additive, '*': Level.Multiplicative, '/': Level.Multiplicative, '%': Level.Multiplicative,
};

function level(e: Expr): Level {
  switch (e.kind) {
    case 'binary':
      return binaryLevels[e.op]!;
    case 'in':
    case 'between':
      return Level.Comparison;
    case 'unary':
      return e.op === 'not' ? Level.Not : Level.Unary;
    case 'if':
      return Level.Conditional;
    default:
      return Level.Postfix;
  }
}

/** `e` printed where an expression of at least `min` binding strength is expected. */
function operand(e: Expr, min: Level): string {
  const text = printExpr(e);
  return level(e) < min ? `(${text})` : text;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.text + e.suffix;
    case 'string':
      return quoteString(e.value);
    case 'boolean':
      return String(e.value);
    case 'null':
      return 'null';
    case 'typed':
      return `${e.type} ${quoteString(e.value.value)}`;
    case 'duration':
      return e.text;
    case 'array':
      return `[${e.items.map(printExpr).join(', ')}]`;
    case 'map':
      return e.entries.length === 0
        ? 'map {}'
        : `map { ${e.entries.map((en) => `${quoteString(en.key.value)}: ${printExpr(en.value)}`).join(', ')} }`;
    case 'field':
      return printName(e.name, 'name');
    case 'member':
      return `${operand(e.object, Level.Postfix)}${e.nullSafe ? '?.' : '.'}${printName(e.property, 'any')}`;
    case 'index':
      return `${operand(e.object, Level.Postfix)}${e.nullSafe ? '?' : ''}[${printExpr(e.index)}]`;
    case 'call':
      return `${printName(e.callee, 'name')}(${e.args.map(printExpr).join(', ')})`;
    case 'unary':
      return e.op === 'not' ? `not ${operand(e.operand, Level.Not)}` : `-${operand(e.operand, Level.Unary)}`;
    case 'binary': {
      const own = binaryLevels[e.op]!;
      // Left-associative: the left operand may bind as weakly as the operator itself, the right one must bind tighter.
      return `${operand(e.left, own)} ${e.op} ${operand(e.right, own + 1)}`;
    }
    case 'in':
      return `${operand(e.value, Level.Comparison)} ${e.negated ? 'not in' : 'in'} (${e.list.map(printExpr).join(', ')})`;
    case 'between':
      return `${operand(e.value, Level.Comparison)} ${e.negated ? 'not between' : 'between'} ${operand(e.low, Level.Additive)} and ${operand(e.high, Level.Additive)}`;
    case 'if':
      return `if ${printExpr(e.condition)} then ${printExpr(e.then)} else ${printExpr(e.otherwise)}`;
    case 'case': {
      const branches = e.branches.map((b) => `when ${printExpr(b.condition)} then ${printExpr(b.value)}`);
      const otherwise = e.otherwise ? [`else ${printExpr(e.otherwise)}`] : [];
      return ['case', ...branches, ...otherwise, 'end'].join(' ');
    }
    case 'error':
      // Unreachable: the formatter refuses files with syntax errors.
      return '<error>';
  }
}

/**
 * The operands of a top-level chain of `and` (or of `or`), each printed as
 * it must stand in the chain, with the operator that joins it to the one
 * before: `a and b and c` → ['a', 'and b', 'and c']. A lone expression is
 * one part.
 */
export function logicalChain(e: Expr): string[] {
  if (e.kind !== 'binary' || (e.op !== 'and' && e.op !== 'or')) return [printExpr(e)];
  const op = e.op;
  const operands: Expr[] = [];
  let current: Expr = e;
  while (current.kind === 'binary' && current.op === op) {
    operands.unshift(current.right);
    current = current.left;
  }
  operands.unshift(current);
  const own = binaryLevels[op]!;
  return operands.map((o, i) => (i === 0 ? operand(o, own) : `${op} ${operand(o, own + 1)}`));
}

/** A type on one line; nested records inline (`record R { a: int, b: string }`). */
export function printType(t: TypeExpr): string {
  switch (t.kind) {
    case 'primitive':
      return t.name;
    case 'decimal':
      return `decimal(${t.precision}, ${t.scale})`;
    case 'fixed':
      return `fixed ${printName(t.name, 'name')}(${t.size})`;
    case 'enum':
      return `enum ${printName(t.name, 'name')} { ${t.symbols.map((s) => printName(s, 'any')).join(', ')} }`;
    case 'array':
      return `array<${printType(t.items)}>`;
    case 'map':
      return `map<${printType(t.values)}>`;
    case 'record':
      return t.fields.length === 0
        ? `record ${printName(t.name, 'name')} {}`
        : `record ${printName(t.name, 'name')} { ${t.fields.map(printField).join(', ')} }`;
    case 'named':
      return printName(t.name, 'type');
    case 'nullable':
      return `${printType(t.inner)}?`;
  }
}

/** What follows a field's type: ` = default doc "..."`. */
export function printFieldTail(f: FieldDecl): string {
  return `${f.default ? ` = ${printExpr(f.default)}` : ''}${f.doc !== undefined ? ` doc ${quoteString(f.doc)}` : ''}`;
}

export function printField(f: FieldDecl): string {
  return `${printName(f.name, 'any')}: ${printType(f.type)}${printFieldTail(f)}`;
}
