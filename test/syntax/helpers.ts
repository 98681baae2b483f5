import type { Span } from '../../src/diagnostics/diagnostic.ts';
import type { Expr } from '../../src/syntax/ast.ts';

/**
 * Source text with span markers: `«` and `»` delimit a range, and are removed
 * from the text. Returns the text and the [start, end) offsets of each range
 * in order of their opening markers.
 */
export function marked(source: string): { text: string; ranges: [number, number][] } {
  let text = '';
  const ranges: [number, number][] = [];
  const open: number[] = [];
  for (const ch of source) {
    if (ch === '«') {
      open.push(ranges.length);
      ranges.push([text.length, -1]);
    } else if (ch === '»') {
      ranges[open.pop()!]![1] = text.length;
    } else {
      text += ch;
    }
  }
  return { text, ranges };
}

export const offsets = (span: Span): [number, number] => [span.start.offset, span.end.offset];

/** The value with every `span` removed, for comparing trees by shape. */
export function withoutSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSpans);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'span').map(([k, v]) => [k, withoutSpans(v)]));
  }
  return value;
}

/** A compact, fully parenthesized rendering of an expression, to test precedence. */
export function sexpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return e.text + e.suffix;
    case 'string':
      return JSON.stringify(e.value);
    case 'boolean':
      return String(e.value);
    case 'null':
      return 'null';
    case 'typed':
      return `(${e.type} ${JSON.stringify(e.value.value)})`;
    case 'duration':
      return `${e.text}=${e.millis}ms`;
    case 'array':
      return `[${e.items.map(sexpr).join(' ')}]`;
    case 'map':
      return `{${e.entries.map((en) => `${JSON.stringify(en.key.value)}:${sexpr(en.value)}`).join(' ')}}`;
    case 'field':
      return e.name.name;
    case 'member':
      return `(${e.nullSafe ? '?.' : '.'} ${sexpr(e.object)} ${e.property.name})`;
    case 'index':
      return `(${e.nullSafe ? '?[]' : '[]'} ${sexpr(e.object)} ${sexpr(e.index)})`;
    case 'call':
      return `(${e.callee.name}(${e.args.map(sexpr).join(' ')}))`;
    case 'unary':
      return `(${e.op} ${sexpr(e.operand)})`;
    case 'binary':
      return `(${e.op} ${sexpr(e.left)} ${sexpr(e.right)})`;
    case 'in':
      return `(${e.negated ? 'not in' : 'in'} ${sexpr(e.value)} ${e.list.map(sexpr).join(' ')})`;
    case 'between':
      return `(${e.negated ? 'not between' : 'between'} ${sexpr(e.value)} ${sexpr(e.low)} ${sexpr(e.high)})`;
    case 'if':
      return `(if ${sexpr(e.condition)} ${sexpr(e.then)} ${sexpr(e.otherwise)})`;
    case 'case':
      return `(case ${e.branches.map((b) => `${sexpr(b.condition)}=>${sexpr(b.value)}`).join(' ')}${e.otherwise ? ` else ${sexpr(e.otherwise)}` : ''})`;
    case 'error':
      return '<error>';
  }
}
