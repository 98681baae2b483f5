/**
 * Types at a place in a stream: the record an operator reads (from the
 * checker's scopes) and the type of any expression in it, checked again with
 * the compiler's own expression checker so hover and completion agree with
 * the diagnostics.
 */
import type { CheckScopes } from '../../check/check.ts';
import { ExprChecker } from '../../check/expr.ts';
import type { TypedExpr } from '../../check/typed.ts';
import type { Expr, Identifier } from '../../syntax/ast.ts';
import type { RecordType } from '../../types/avro-type.ts';
import { spanContains, type StreamPlace } from './locate.ts';

/** The record an operator reads; for an operator the checker did not reach, the nearest record before it. */
export function scopeAt(scopes: CheckScopes | undefined, place: StreamPlace): RecordType | undefined {
  if (!scopes) return undefined;
  const ops = place.stream.operators;
  const last = place.index >= 0 ? place.index : ops.length;
  for (let i = Math.min(last, ops.length - 1); i >= 0; i--) {
    const scope = scopes.operators.get(ops[i]!);
    if (scope) return scope;
  }
  return scopes.outputs.get(place.stream.input.name);
}

/** The record an operator gives: what the next one reads (`on error` reads nothing), or the stream's output after the last. */
export function outputAt(scopes: CheckScopes | undefined, place: StreamPlace): RecordType | undefined {
  const next = place.stream.operators.slice(place.index + 1).find((op) => op.kind !== 'on-error');
  return next ? scopes?.operators.get(next) : scopes?.outputs.get(place.stream.name.name);
}

/** Checks an expression against a record; undefined when it has errors. */
export function checkExpr(scope: RecordType, e: Expr): TypedExpr | undefined {
  try {
    return new ExprChecker([], scope).check(e, new Set());
  } catch {
    return undefined; // an expression the recovering parser left half-built
  }
}

/**
 * The typed expression at `offset`: the smallest typed part of the first
 * root that checks cleanly, else `fallback` (the innermost expression there)
 * checked alone.
 */
export function typedAt(scope: RecordType, roots: readonly Expr[], offset: number, fallback?: Expr): TypedExpr | undefined {
  for (const root of roots) {
    if (!spanContains(root.span, offset)) continue;
    const typed = checkExpr(scope, root);
    if (typed) return smallestAt(typed, offset);
  }
  return fallback ? checkExpr(scope, fallback) : undefined;
}

function smallestAt(e: TypedExpr, offset: number): TypedExpr {
  let best = e;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    const x = value as Partial<TypedExpr>;
    if (typeof x.k === 'string' && x.span && x.type) {
      if (!spanContains(x.span, offset)) return;
      const width = x.span.end.offset - x.span.start.offset;
      if (width <= best.span.end.offset - best.span.start.offset) best = x as TypedExpr;
    }
    for (const [key, child] of Object.entries(value)) if (key !== 'span' && key !== 'type') visit(child);
  };
  visit(e);
  return best;
}

/** `a.b.c` as written in a select: a null-safe member chain up to `upTo` (inclusive). */
export function pathExpr(path: readonly Identifier[], upTo = path.length - 1): Expr {
  let e: Expr = { kind: 'field', name: path[0]!, span: path[0]!.span };
  for (const part of path.slice(1, upTo + 1)) {
    e = { kind: 'member', object: e, property: part, nullSafe: true, span: { file: part.span.file, start: path[0]!.span.start, end: part.span.end } };
  }
  return e;
}
