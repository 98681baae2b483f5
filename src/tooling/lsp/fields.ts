/**
 * Where a field was named. A field of the record an operator reads comes
 * from an earlier `select` or `group by` item or `flat map … as`, else from
 * the stream's input, back to the source's schema; a field of a nested
 * record comes from the record type's declaration. A source's `event time`
 * and `partitioned by` name fields of its schema. Used by go-to-definition and references.
 */
import type { Span } from '../../diagnostics/diagnostic.ts';
import type { Expr, FieldDecl, GroupOp, Identifier, Node, Operator, SelectItem, SourceDecl, StreamDecl, TypeExpr } from '../../syntax/ast.ts';
import type { RecordType } from '../../types/avro-type.ts';
import { LineIndex } from '../../syntax/line-index.ts';
import { nonNull } from '../../types/type-utils.ts';
import { resolvePath } from '../../resolve/resolve.ts';
import type { Analysis } from './analysis.ts';
import { identifierAt, isEventTimeClause, isPartitionClause, sourceClausePath, streamPlace } from './locate.ts';
import { checkExpr, pathExpr, scopeAt } from './scope.ts';

/** Streams can read streams read by streams…; a chain longer than this is a cycle. */
const MAX_HOPS = 200;

/** The field-like identifier at the end of `path` and where it was named (a span in some file). */
export function fieldAt(a: Analysis, path: readonly Node[]): { ident: Identifier; definition?: Span } | undefined {
  const ident = identifierAt(path);
  const parent = path.at(-2) as (Node & { kind?: string }) | undefined;
  if (!ident || !parent) return undefined;
  if (!parent.kind && 'type' in parent && (parent as FieldDecl).name === ident) return { ident, definition: ident.span };
  if (isEventTimeClause(parent) || isPartitionClause(parent)) {
    // By name: the clause may be in an imported file, parsed apart from the resolved program.
    const source = a.resolved?.sources.find((s) => s.name === (path.at(-3) as Partial<SourceDecl>).name?.name);
    const fieldPath = sourceClausePath(parent, ident);
    if (!source || !fieldPath) return undefined;
    const at = fieldPath.indexOf(ident);
    const schema = source.schema.kind === 'record' ? source.schema : undefined;
    const origin = at === 0 ? typeExprField(a, source.decl.schema, source.file, ident.name) : memberOrigin(a, schema, pathExpr(fieldPath, at - 1), ident.name);
    return { ident, ...definedAs(origin) };
  }
  const place = streamPlace(path);
  if (!place?.operator) return undefined;
  const { stream, operator: op, index } = place;
  switch (parent.kind) {
    case 'field':
      return { ident, ...definedAs(fieldOrigin(a, stream, index, ident.name)) };
    case 'member': {
      const member = parent as Extract<Expr, { kind: 'member' }>;
      return member.property === ident ? { ident, ...definedAs(memberOrigin(a, scopeAt(a.scopes(), place), member.object, ident.name)) } : undefined;
    }
    case 'keep': {
      const keep = parent as Extract<SelectItem, { kind: 'keep' }>;
      const at = keep.path.indexOf(ident);
      const origin = at === 0 ? fieldOrigin(a, stream, index, ident.name) : memberOrigin(a, scopeAt(a.scopes(), place), pathExpr(keep.path, at - 1), ident.name);
      return { ident, ...definedAs(origin) };
    }
    case 'drop':
      return { ident, ...definedAs(fieldOrigin(a, stream, index, ident.name)) };
    case 'compute':
      return (parent as Extract<SelectItem, { kind: 'compute' }>).name === ident ? { ident, definition: ident.span } : undefined;
    case 'flat-map':
      return op.kind === 'flat-map' && op.as === ident ? { ident, definition: ident.span } : undefined;
    case 'lookup':
      return op.kind === 'lookup' && op.name === ident ? { ident, definition: ident.span } : undefined;
    default:
      return undefined;
  }
}

/**
 * Where a group's output field was named: an aggregate's or a renamed key's
 * name, the `window` for its bounds; `passed` for a key kept under its own
 * name, which was named upstream.
 */
function groupFieldOrigin(op: GroupOp, before: Operator | undefined, name: string): Span | 'passed' | undefined {
  for (const item of [...op.keys, ...op.aggregates]) {
    if (item.kind === 'compute' && item.name.name === name) return item.name.span;
    if (item.kind === 'keep' && item.path.at(-1)!.name === name) return item.path.length > 1 ? item.path.at(-1)!.span : 'passed';
  }
  return before?.kind === 'window' && (name === 'window_start' || name === 'window_end') ? before.span : undefined;
}

function definedAs(span: Span | undefined): { definition?: Span } {
  return span ? { definition: span } : {};
}

/** Where the field `name` of the record read by operator `index` of `stream` was named. */
export function fieldOrigin(a: Analysis, stream: StreamDecl, index: number, name: string, hops = 0): Span | undefined {
  if (hops > MAX_HOPS) return undefined;
  for (let i = Math.min(index, stream.operators.length) - 1; i >= 0; i--) {
    const op = stream.operators[i]!;
    if (op.kind === 'flat-map' && op.as.name === name) return op.as.span;
    if (op.kind === 'lookup' && op.name.name === name) return op.name.span;
    if (op.kind === 'group') {
      const origin = groupFieldOrigin(op, stream.operators[i - 1], name);
      if (origin === 'passed') continue;
      return origin;
    }
    if (op.kind !== 'select') continue;
    let passes = false;
    for (const item of op.items) {
      if (item.kind === 'all') passes = true;
      else if (item.kind === 'compute' && item.name.name === name) return item.name.span;
      else if (item.kind === 'keep' && item.path.at(-1)!.name === name) {
        if (item.path.length > 1) return item.path.at(-1)!.span;
        passes = true;
      }
    }
    if (!passes) return undefined;
  }
  const input = stream.input.name;
  const resolved = a.resolved;
  if (!resolved) return undefined;
  const upstream = resolved.streams.find((s) => s.name === input);
  if (upstream?.kind === 'declared') return fieldOrigin(a, upstream.decl, upstream.decl.operators.length, name, hops + 1);
  if (upstream?.kind === 'routed') {
    const owner = resolved.streams.find((s) => s.name === upstream.from);
    if (owner?.kind !== 'declared') return undefined;
    const route = owner.decl.operators.findIndex((op) => op.kind === 'route');
    return fieldOrigin(a, owner.decl, route, name, hops + 1);
  }
  const source = resolved.sources.find((s) => s.name === input);
  return source ? typeExprField(a, source.decl.schema, source.file, name) : undefined;
}

/** The field `name` of a record written as a type expression (a schema name, or a record). */
function typeExprField(a: Analysis, te: TypeExpr, file: string, name: string): Span | undefined {
  if (te.kind === 'nullable') return typeExprField(a, te.inner, file, name);
  if (te.kind === 'record') return te.fields.find((f) => f.name.name === name)?.name.span;
  if (te.kind === 'named') return recordField(a, te.name.name, name);
  return undefined;
}

/** The declaration of field `name` in the record type called `typeName`: a schema, a nested record, or an .avsc file. */
export function recordField(a: Analysis, typeName: string, name: string): Span | undefined {
  for (const file of a.files.keys()) {
    const ast = file.endsWith('.avsc') ? undefined : a.astOf(file);
    if (!ast) continue;
    for (const decl of ast.declarations) {
      if (decl.kind !== 'schema') continue;
      if (decl.name.name === typeName) {
        if (decl.body.kind === 'record') return decl.body.fields.find((f) => f.name.name === name)?.name.span;
        return avscField(a, resolvePath(file, decl.body.path.value), name);
      }
      if (decl.body.kind === 'record') {
        const nested = nestedRecord(decl.body.fields, typeName);
        if (nested) return nested.find((f) => f.name.name === name)?.name.span;
      }
    }
  }
  return undefined;
}

function nestedRecord(fields: FieldDecl[], typeName: string): FieldDecl[] | undefined {
  const inType = (te: TypeExpr): FieldDecl[] | undefined => {
    switch (te.kind) {
      case 'record':
        return te.name.name === typeName ? te.fields : nestedRecord(te.fields, typeName);
      case 'array':
        return inType(te.items);
      case 'map':
        return inType(te.values);
      case 'nullable':
        return inType(te.inner);
      default:
        return undefined;
    }
  };
  for (const f of fields) {
    const found = inType(f.type);
    if (found) return found;
  }
  return undefined;
}

/** A field in an .avsc file: the first `"name": "<field>"` in it. */
function avscField(a: Analysis, file: string, name: string): Span | undefined {
  const text = a.files.get(file);
  if (text === undefined) return undefined;
  const m = new RegExp(`"name"\\s*:\\s*"${name.replace(/[^A-Za-z0-9_]/g, '')}"`).exec(text);
  return m ? new LineIndex(file, text).span(m.index, m.index + m[0].length) : undefined;
}

/** Where field `name` of the record `object` evaluates to (over `scope`) was named. */
function memberOrigin(a: Analysis, scope: RecordType | undefined, object: Expr, name: string): Span | undefined {
  const typed = scope && checkExpr(scope, object);
  const t = typed && nonNull(typed.type);
  return t?.kind === 'record' ? recordField(a, t.name, name) : undefined;
}
