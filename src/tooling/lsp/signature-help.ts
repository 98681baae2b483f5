/**
 * Signature help inside a function call: the function's signature from the
 * checker's function table, with the parameter the cursor is on. The call is
 * found from the tokens before the cursor (the innermost `(` still open,
 * after a function name), so it works while the call is half written and
 * does not parse.
 */
import { MarkupKind, type SignatureHelp } from 'vscode-languageserver';
import { FUNCTIONS_BY_NAME, signatureText, type FunctionSpec } from '../../check/functions.ts';
import { textToTokens } from '../../syntax/parse.ts';
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
        const f = t.type === 'LParen' ? FUNCTIONS_BY_NAME.get(code[i - 1]?.image ?? '') : undefined;
        return f ? help(f, commas) : null;
      }
    } else if (t.type === 'Comma' && depth === 0) commas++;
  }
  return null;
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
