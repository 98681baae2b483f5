/**
 * Finding things in the AST by offset. The AST is plain data with a span on
 * every node, so one generic walk serves every node kind; ranges always come
 * from those spans.
 */
import type { Span } from '../../diagnostics/diagnostic.ts';
import type { SymbolInfo } from '../../resolve/resolve.ts';
import type { EventTimeClause, Expr, Identifier, Node, Operator, PartitionClause, SourceFile, StreamDecl } from '../../syntax/ast.ts';
import type { Analysis } from './analysis.ts';

/** A walk deeper than this is not an AST the parser made; stop rather than overflow. */
const MAX_DEPTH = 400;

export function spanContains(span: Span, offset: number): boolean {
  return span.start.offset <= offset && offset <= span.end.offset;
}

function isSpan(value: unknown): value is Span {
  return typeof value === 'object' && value !== null && 'start' in value && 'end' in value;
}

/**
 * Walks the nodes under `root`, parents before children. `enter` sees each
 * node with its ancestors and says whether to go into it.
 */
function walk(root: unknown, enter: (node: Node, parents: readonly Node[]) => boolean): void {
  const parents: Node[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    const isNode = isSpan(record.span);
    if (isNode) {
      if (!enter(record as unknown as Node, parents)) return;
      parents.push(record as unknown as Node);
    }
    for (const [key, child] of Object.entries(record)) {
      if (key !== 'span' && key !== 'comments') visit(child, depth + 1);
    }
    if (isNode) parents.pop();
  };
  visit(root, 0);
}

/** Calls `visit` for every node under `root` (depth first, parents before children), with its ancestors. */
export function forEachNode(root: unknown, visit: (node: Node, parents: readonly Node[]) => void): void {
  walk(root, (node, parents) => {
    visit(node, parents);
    return true;
  });
}

/** Nodes whose span contains the offset, outermost first (the innermost is last). */
export function nodesAt(root: SourceFile, offset: number): Node[] {
  const out: Node[] = [];
  walk(root, (node) => {
    if (!spanContains(node.span, offset)) return false;
    out.push(node);
    return true;
  });
  return out;
}

/** The declared name at `offset` in the analysed document: a declaration's name or a use of it. */
export function symbolAt(a: Analysis, offset: number): SymbolInfo | undefined {
  const r = a.resolved;
  if (!r) return undefined;
  const here = (s: { span: Span }) => s.span.file === a.path && spanContains(s.span, offset);
  return r.references.find(here)?.symbol ?? r.symbols.find(here);
}

/** Where an offset is inside a stream: the stream, the operator (if any) and its index. */
export interface StreamPlace {
  stream: StreamDecl;
  operator?: Operator;
  index: number;
}

export function streamPlace(path: readonly Node[]): StreamPlace | undefined {
  const stream = path.find((n): n is StreamDecl => (n as StreamDecl).kind === 'stream' && 'operators' in n);
  if (!stream) return undefined;
  const index = stream.operators.findIndex((op) => path.includes(op));
  return index >= 0 ? { stream, operator: stream.operators[index]!, index } : { stream, index: -1 };
}

const EXPR_KINDS = new Set<string>([
  'number', 'string', 'boolean', 'null', 'typed', 'duration', 'array', 'map', 'field', 'member', 'index', 'call', 'unary',
  'binary', 'in', 'between', 'if', 'case', 'error',
]);

/** The expressions of an operator that the checker types against the record in scope. */
export function operatorExprs(op: Operator): Expr[] {
  switch (op.kind) {
    case 'where':
      return [op.condition];
    case 'select':
      return op.items.flatMap((i) => (i.kind === 'compute' ? [i.value] : []));
    case 'key-by':
    case 'dedupe':
      return [op.key];
    case 'flat-map':
      return [op.field];
    case 'route':
      return op.branches.map((b) => b.condition);
    case 'lookup':
      // `key` is an expression over the record; the other options are constants.
      return op.options.filter((o) => o.name.name === 'key').map((o) => o.value);
    case 'group': {
      const keys = op.keys.flatMap((i) => (i.kind === 'compute' ? [i.value] : []));
      // An aggregate call is no expression of its own (outside a group it is an error); its argument is.
      const args = op.aggregates.flatMap((i) => (i.kind === 'compute' && i.value.kind === 'call' ? i.value.args : []));
      return [...keys, ...args];
    }
    default:
      return [];
  }
}

/** The innermost expression on the path, if the path ends inside one. */
export function innermostExpr(path: readonly Node[]): Expr | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i] as Partial<Expr>;
    if (typeof n.kind === 'string' && EXPR_KINDS.has(n.kind) && !('declarations' in n)) return n as Expr;
  }
  return undefined;
}

/** `event time f lateness D idle D` of a source: the one node with a `path` of identifiers and no kind. */
export function isEventTimeClause(node: Node | undefined): node is EventTimeClause {
  return node !== undefined && !('kind' in node) && Array.isArray((node as Partial<EventTimeClause>).path);
}

/** `partitioned by f, g.h` of a source: the one node with `keys` (paths of identifiers) and no kind. */
export function isPartitionClause(node: Node | undefined): node is PartitionClause {
  return node !== undefined && !('kind' in node) && Array.isArray((node as Partial<PartitionClause>).keys);
}

/**
 * The field path, in a source's `event time` or `partitioned by` clause,
 * that holds `ident` (a field of the source's schema, or of a record in it).
 */
export function sourceClausePath(clause: Node | undefined, ident: Identifier): Identifier[] | undefined {
  if (isEventTimeClause(clause)) return clause.path.includes(ident) ? clause.path : undefined;
  if (isPartitionClause(clause)) return clause.keys.find((key) => key.includes(ident));
  return undefined;
}

/** The identifier the offset is on, if the innermost node is one (identifiers have a name and no kind). */
export function identifierAt(path: readonly Node[]): Identifier | undefined {
  const last = path.at(-1) as Partial<Identifier & { kind: unknown }> | undefined;
  return last && typeof last.name === 'string' && last.kind === undefined ? (last as Identifier) : undefined;
}
