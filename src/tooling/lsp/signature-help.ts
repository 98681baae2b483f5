/**
 * Signature help inside a function call: the function's signature from the
 * checker's function table, with the parameter the cursor is on; inside a
 * `group by` block, an aggregate's from the aggregate table. The call is
 * found from the tokens before the cursor (the innermost `(` still open,
 * after a function name), so it works while the call is half written and
 * does not parse.
 */
import { MarkupKind, type SignatureHelp } from 'vscode-languageserver';
import { AGGREGATES, type AggregateInfo } from '../../check/aggregates.ts';
import { FUNCTIONS_BY_NAME, signatureText, type FunctionSpec } from '../../check/functions.ts';
import { textToTokens, type SyntaxToken } from '../../syntax/parse.ts';
import type { Analysis } from './analysis.ts';
import { segmentStart } from './segments.ts';

const OPENING = new Set(['LParen', 'LBracket', 'LCurly']);
const CLOSING = new Set(['RParen', 'RBracket', 'RCurly']);

export function signatureHelpAt(a: Analysis, offset: number): SignatureHelp | null {
  const from = segmentStart(a.text, offset);
  const { tokens } = textToTokens(a.path, a.text.slice(from, offset));
  // A comment runs up to the cursor: no call there.
  if (/LineComment|HashComment|UnterminatedBlockComment/.test(tokens.at(-1)?.type ?? '')) return null;
  const code = tokens.filter((t) => !t.type.endsWith('Comment'));
  let depth = 0;
  let commas = 0;
  for (let i = code.length - 1; i >= 0; i--) {
    const t = code[i]!;
    if (CLOSING.has(t.type)) depth++;
    else if (OPENING.has(t.type)) {
      if (depth > 0) depth--;
      else {
        if (t.type !== 'LParen') return null;
        const name = code[i - 1]?.image ?? '';
        const f = FUNCTIONS_BY_NAME.get(name);
        if (f) return help(f, commas);
        const aggregate = AGGREGATES.get(name);
        return aggregate && inGroupBlock(code.slice(0, i - 1)) ? aggregateHelp(aggregate) : null;
      }
    } else if (t.type === 'Comma' && depth === 0) commas++;
  }
  return null;
}

/** Whether the tokens end inside the `{ … }` of a `group by`: its `{` is the innermost one open, and `group` began its operator. */
function inGroupBlock(tokens: readonly SyntaxToken[]): boolean {
  let depth = 0;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i]!;
    if (CLOSING.has(t.type)) depth++;
    else if (OPENING.has(t.type) && depth > 0) depth--;
    else if (OPENING.has(t.type)) {
      if (t.type !== 'LCurly') return false;
      const pipe = tokens.findLastIndex((x, j) => j < i && x.type === 'Pipe');
      return tokens[pipe + 1]?.type === 'Group';
    }
  }
  return false;
}

/** An aggregate's one parameter is the `x` of its signature (`count() / count(x) → long`). */
function aggregateHelp(info: AggregateInfo): SignatureHelp {
  const start = info.signature.indexOf('(x)') + 1;
  return {
    signatures: [{ label: info.signature, documentation: { kind: MarkupKind.Markdown, value: info.doc }, parameters: [{ label: [start, start + 1] }], activeParameter: 0 }],
    activeSignature: 0,
    activeParameter: 0,
  };
}

function help(f: FunctionSpec, argument: number): SignatureHelp {
  const label = signatureText(f);
  // Each parameter's part of the label, `name: type`, found in order (a type may hold a comma).
  const starts: number[] = [];
  for (const p of f.params) starts.push(label.indexOf(`${p.variadic ? '...' : ''}${p.name}${p.optional ? '?' : ''}: `, (starts.at(-1) ?? f.name.length) + 1));
  const paramsEnd = label.length - f.returns.length - '): '.length;
  const parameters = starts.map((start, i) => ({ label: [start, i + 1 < starts.length ? starts[i + 1]! - ', '.length : paramsEnd] as [number, number] }));
  const variadic = f.params.at(-1)?.variadic === true;
  const activeParameter = variadic ? Math.min(argument, f.params.length - 1) : argument;
  return {
    signatures: [{ label, documentation: { kind: MarkupKind.Markdown, value: f.doc }, parameters, activeParameter }],
    activeSignature: 0,
    activeParameter,
  };
}
