/**
 * Typed expressions as pipeline text, for the labels and key annotations of
 * the plan graph. Rebuilds the syntax tree and prints it with the
 * formatter's printer, so the text reads exactly like source.
 */
import type { TypedExpr, Constant } from '../check/typed.ts';
import type { Expr } from '../syntax/ast.ts';
import type { AvroType } from '../types/avro-type.ts';
import { printExpr } from '../format/print-expr.ts';
import { nonNull } from '../types/type-utils.ts';
import { decimalText } from '../plan/decimal.ts';

export function exprText(e: TypedExpr): string {
  return printExpr(toAst(e));
}

/** `600000` → `10m`: a duration as the language writes it. */
export function durationText(millis: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  const unit = units.find(([n]) => millis !== 0 && millis % n === 0);
  return unit ? `${millis / unit[0]}${unit[1]}` : `${millis}ms`;
}

function toAst(e: TypedExpr): Expr {
  const span = e.span;
  const id = (name: string) => ({ name, span });
  switch (e.k) {
    case 'literal':
      return literal(e.value, e.type, e);
    case 'field':
      return { kind: 'field', name: id(e.name), span };
    case 'member':
      return { kind: 'member', object: toAst(e.object), property: id(e.name), nullSafe: e.nullSafe, span };
    case 'index':
      return { kind: 'index', object: toAst(e.object), index: toAst(e.index), nullSafe: e.nullSafe, span };
    case 'call':
      return { kind: 'call', callee: id(e.fn), args: e.args.map(toAst), span };
    case 'unary':
      return { kind: 'unary', op: e.op, operand: toAst(e.operand), span };
    case 'binary':
      return { kind: 'binary', op: e.op, left: toAst(e.left), right: toAst(e.right), span };
    case 'in':
      return { kind: 'in', value: toAst(e.value), list: e.list.map(toAst), negated: e.negated, span };
    case 'between':
      return { kind: 'between', value: toAst(e.value), low: toAst(e.low), high: toAst(e.high), negated: e.negated, span };
    case 'if':
      return { kind: 'if', condition: toAst(e.condition), then: toAst(e.then), otherwise: toAst(e.otherwise), span };
    case 'case':
      return { kind: 'case', branches: e.branches.map((b) => ({ condition: toAst(b.condition), value: toAst(b.value) })), otherwise: toAst(e.otherwise), span };
    case 'array':
      return { kind: 'array', items: e.items.map(toAst), span };
    case 'map':
      return { kind: 'map', entries: e.entries.map((en) => ({ key: { kind: 'string', value: en.key, span }, value: toAst(en.value) })), span };
  }
}

function literal(value: Constant, type: AvroType, at: { span: TypedExpr['span'] }): Expr {
  const span = at.span;
  if (value === null) return { kind: 'null', span };
  const t = nonNull(type);
  const typed = (kind: 'timestamp' | 'date' | 'time' | 'uuid' | 'bytes', text: string): Expr => ({ kind: 'typed', type: kind, value: { kind: 'string', value: text, span }, span });
  const number = (suffix: '' | 'L' | 'f' | 'd', text = String(value)): Expr => ({ kind: 'number', text, suffix, span });
  switch (t.kind) {
    case 'boolean':
      return { kind: 'boolean', value: value as boolean, span };
    case 'int':
      return number('');
    case 'long':
      return number('L');
    case 'float':
      return number('f');
    case 'double':
      return number('', Number.isInteger(value) ? (value as number).toFixed(1) : String(value));
    case 'decimal':
      return number('d', decimalText(value as number | string, t.scale));
    case 'timestamp-millis':
      return typed('timestamp', new Date(value as number).toISOString());
    case 'date':
      return typed('date', new Date((value as number) * 86_400_000).toISOString().slice(0, 10));
    case 'time-millis':
      return typed('time', new Date(value as number).toISOString().slice(11, 23));
    case 'uuid':
      return typed('uuid', value as string);
    case 'bytes':
    case 'fixed':
      return typed('bytes', value as string);
    case 'array':
      return { kind: 'array', items: (value as Constant[]).map((v) => literal(v, t.items, at)), span };
    case 'map':
      return {
        kind: 'map',
        entries: Object.entries(value as Record<string, Constant>).map(([k, v]) => ({ key: { kind: 'string', value: k, span }, value: literal(v, t.values, at) })),
        span,
      };
    default:
      return typeof value === 'string' ? { kind: 'string', value, span } : number('');
  }
}
