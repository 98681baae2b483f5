/**
 * Go to definition, find references and rename (streams, sources, schemas,
 * named types and fields), the outline, and folding ranges.
 */
import {
  FoldingRangeKind, ResponseError, ErrorCodes, SymbolKind, type DocumentSymbol, type FoldingRange, type Location, type Range,
  type TextEdit, type WorkspaceEdit,
} from 'vscode-languageserver';
import type { Span } from '../../diagnostics/diagnostic.ts';
import { resolvePath, type SymbolInfo } from '../../resolve/resolve.ts';
import type { Declaration, FieldDecl, Identifier, Node, StringLiteral, TypeExpr } from '../../syntax/ast.ts';
import { textToTokens } from '../../syntax/parse.ts';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './diagnostics.ts';
import { fieldAt } from './fields.ts';
import { forEachNode, nodesAt, spanContains, symbolAt } from './locate.ts';
import type { PathMap } from './paths.ts';

const RENAMABLE = new Set<SymbolInfo['kind']>(['stream', 'source', 'schema', 'type', 'route-target']);

const sameSpan = (x: Span, y: Span) => x.file === y.file && x.start.offset === y.start.offset && x.end.offset === y.end.offset;
const sameSymbol = (x: SymbolInfo, y: SymbolInfo) => x.name === y.name && x.kind === y.kind && sameSpan(x.span, y.span);

function location(paths: PathMap, span: Span): Location {
  return { uri: paths.uriOf(span.file), range: spanToRange(span) };
}

export function definitionAt(a: Analysis, offset: number, paths: PathMap): Location | null {
  const symbol = symbolAt(a, offset);
  if (symbol) return location(paths, symbol.span);
  const path = nodesAt(a.ast, offset);
  const field = fieldAt(a, path);
  if (field?.definition) return location(paths, field.definition);
  const file = fileNamedAt(a, path);
  return file ? { uri: paths.uriOf(file), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } } : null;
}

/** The file an `import "…"` or `avro "…"` string names. */
function fileNamedAt(a: Analysis, path: readonly Node[]): string | undefined {
  const literal = path.at(-1) as Partial<StringLiteral>;
  if (literal.kind !== 'string') return undefined;
  const owner = path.at(-2) as Partial<Declaration>;
  const named = owner.kind === 'import' || (owner.kind === 'schema' && owner.body?.kind === 'avro-file');
  return named ? resolvePath(a.path, literal.value!) : undefined;
}

/**
 * Places that name the same thing as the one at `offset`, in this analysis
 * and in `others` (analyses of open documents that import this one).
 */
function occurrences(a: Analysis, offset: number, others: readonly Analysis[]): Span[] | undefined {
  const symbol = symbolAt(a, offset);
  if (symbol) {
    const spans: Span[] = [];
    for (const x of [a, ...others]) {
      for (const s of x.resolved?.symbols ?? []) if (sameSymbol(s, symbol)) spans.push(s.span);
      for (const r of x.resolved?.references ?? []) if (sameSymbol(r.symbol, symbol)) spans.push(r.span);
    }
    return unique(spans);
  }
  const field = fieldAt(a, nodesAt(a.ast, offset));
  if (!field?.definition) return undefined;
  const target = field.definition;
  const spans: Span[] = [target];
  for (const x of [a, ...others]) {
    for (const file of x.files.keys()) {
      const ast = file.endsWith('.avsc') ? undefined : x.astOf(file);
      if (!ast) continue;
      forEachNode(ast, (node, parents) => {
        if ((node as Identifier).name === undefined || 'kind' in node) return;
        const found = fieldAt(x, [...parents, node]);
        if (found?.definition && sameSpan(found.definition, target)) spans.push(node.span);
      });
    }
  }
  return unique(spans);
}

function unique(spans: Span[]): Span[] {
  const seen = new Set<string>();
  return spans.filter((s) => {
    const key = `${s.file}:${s.start.offset}:${s.end.offset}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function referencesAt(a: Analysis, offset: number, paths: PathMap, includeDeclaration: boolean, others: readonly Analysis[] = []): Location[] {
  const spans = occurrences(a, offset, others) ?? [];
  const declaration = symbolAt(a, offset)?.span ?? fieldAt(a, nodesAt(a.ast, offset))?.definition;
  return spans.filter((s) => includeDeclaration || !declaration || !sameSpan(s, declaration)).map((s) => location(paths, s));
}

export function prepareRename(a: Analysis, offset: number): { range: Range; placeholder: string } | null {
  const symbol = symbolAt(a, offset);
  if (!symbol || !RENAMABLE.has(symbol.kind)) return null;
  const at = [...(a.resolved?.references ?? []).map((r) => r.span), symbol.span].find((s) => s.file === a.path && spanContains(s, offset));
  return at ? { range: spanToRange(at), placeholder: symbol.name } : null;
}

export function renameAt(a: Analysis, offset: number, newName: string, paths: PathMap, others: readonly Analysis[] = []): WorkspaceEdit | null {
  const symbol = symbolAt(a, offset);
  if (!symbol || !RENAMABLE.has(symbol.kind)) return null;
  const tokens = textToTokens('', newName).tokens;
  if (tokens.length !== 1 || tokens[0]!.type !== 'Identifier' || tokens[0]!.image !== newName) {
    throw new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is not a valid name`);
  }
  const clash = a.resolved?.symbols.find((s) => s.name === newName && s !== symbol && sameNamespace(s, symbol));
  if (clash) throw new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is already declared`);
  const changes: Record<string, TextEdit[]> = {};
  for (const span of occurrences(a, offset, others) ?? []) {
    (changes[paths.uriOf(span.file)] ??= []).push({ range: spanToRange(span), newText: newName });
  }
  return { changes };
}

/** Schemas and types share one namespace, sources and streams another. */
function sameNamespace(x: SymbolInfo, y: SymbolInfo): boolean {
  const types = (s: SymbolInfo) => s.kind === 'schema' || s.kind === 'type';
  return types(x) === types(y);
}

export function documentSymbols(a: Analysis): DocumentSymbol[] {
  const symbol = (name: string, kind: SymbolKind, node: Node, selection: Node, children?: DocumentSymbol[], detail?: string): DocumentSymbol => ({
    name: name || '?',
    kind,
    range: spanToRange(node.span),
    selectionRange: spanToRange(spanContainsSpan(node.span, selection.span) ? selection.span : node.span),
    ...(detail ? { detail } : {}),
    ...(children && children.length > 0 ? { children } : {}),
  });
  const fields = (list: FieldDecl[]): DocumentSymbol[] =>
    list.map((f) => symbol(f.name.name, SymbolKind.Field, f, f.name, nestedFields(f.type), a.text.slice(f.type.span.start.offset, f.type.span.end.offset)));
  const nestedFields = (te: TypeExpr): DocumentSymbol[] | undefined => {
    if (te.kind === 'record') return fields(te.fields);
    if (te.kind === 'nullable') return nestedFields(te.inner);
    if (te.kind === 'array') return nestedFields(te.items);
    if (te.kind === 'map') return nestedFields(te.values);
    return undefined;
  };
  const out: DocumentSymbol[] = [];
  if (a.ast.pipeline) out.push(symbol(a.ast.pipeline.name, SymbolKind.Namespace, a.ast.pipeline, a.ast.pipeline, undefined, 'pipeline'));
  for (const d of a.ast.declarations) {
    switch (d.kind) {
      case 'import':
        out.push(symbol(d.path.value, SymbolKind.Module, d, d.path, undefined, 'import'));
        break;
      case 'schema':
        out.push(symbol(d.name.name, SymbolKind.Struct, d, d.name, d.body.kind === 'record' ? fields(d.body.fields) : undefined, d.body.kind === 'avro-file' ? d.body.path.value : 'schema'));
        break;
      case 'source':
        out.push(symbol(d.name.name, SymbolKind.Event, d, d.name, undefined, `source from ${d.connector.name}`));
        break;
      case 'stream': {
        const targets = d.operators.flatMap((op) => (op.kind === 'route' ? [...op.branches.map((b) => b.target), ...(op.otherwise ? [op.otherwise] : [])] : []));
        out.push(symbol(d.name.name, SymbolKind.Function, d, d.name, targets.map((t) => symbol(t.name, SymbolKind.Variable, t, t, undefined, 'route target')), `stream from ${d.input.name}`));
        break;
      }
      case 'sink':
        out.push(symbol(`sink ${d.input.name}`, SymbolKind.Interface, d, d.input, undefined, `to ${d.connector.name}`));
        break;
      case 'dead-letter':
        out.push(symbol('dead letter', SymbolKind.Interface, d, d.connector, undefined, `to ${d.connector.name}`));
        break;
    }
  }
  return out;
}

function spanContainsSpan(outer: Span, inner: Span): boolean {
  return outer.start.offset <= inner.start.offset && inner.end.offset <= outer.end.offset;
}

export function foldingRanges(a: Analysis): FoldingRange[] {
  const out: FoldingRange[] = [];
  const add = (span: Span, kind?: FoldingRangeKind) => {
    // A span that ends at the start of a line ends on the line before.
    const endLine = span.end.column === 1 && span.end.line > span.start.line ? span.end.line - 1 : span.end.line;
    if (endLine > span.start.line) out.push({ startLine: span.start.line - 1, endLine: endLine - 1, ...(kind ? { kind } : {}) });
  };
  forEachNode(a.ast, (node) => {
    const kind = (node as { kind?: string }).kind;
    if (kind === 'import') return;
    if (kind && ['schema', 'source', 'stream', 'sink', 'dead-letter', 'select', 'group', 'route', 'record', 'case', 'map', 'array'].includes(kind)) add(node.span);
  });
  const imports = a.ast.declarations.filter((d) => d.kind === 'import');
  if (imports.length > 1) add({ ...imports[0]!.span, end: imports.at(-1)!.span.end }, FoldingRangeKind.Imports);
  let run: Span | undefined;
  for (const c of a.ast.comments) {
    if (c.kind === 'block') add(c.span, FoldingRangeKind.Comment);
    if (c.kind === 'line' && run && c.span.start.line === run.end.line + 1) run = { ...run, end: c.span.end };
    else {
      if (run) add(run, FoldingRangeKind.Comment);
      run = c.kind === 'line' ? c.span : undefined;
    }
  }
  if (run) add(run, FoldingRangeKind.Comment);
  return out;
}
