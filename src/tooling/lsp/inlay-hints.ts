/**
 * Inlay hints: the Avro type the checker infers for each computed `select`
 * field (`total: amount * 2` shows `: double` after the expression), so the
 * shape of a stream's records reads off the text.
 */
import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver';
import { typeToString } from '../../types/type-utils.ts';
import type { Analysis } from './analysis.ts';
import { positionBefore, spanToRange } from './diagnostics.ts';
import { checkExpr, scopeAt } from './scope.ts';

/** Hints whose position lies in `range`. */
export function inlayHints(a: Analysis, range: Range): InlayHint[] {
  const scopes = a.scopes();
  const out: InlayHint[] = [];
  for (const stream of a.ast.declarations) {
    if (stream.kind !== 'stream') continue;
    stream.operators.forEach((operator, index) => {
      if (operator.kind !== 'select') return;
      const scope = scopeAt(scopes, { stream, operator, index });
      if (!scope) return;
      for (const item of operator.items) {
        if (item.kind !== 'compute') continue;
        const position = spanToRange(item.value.span).end;
        if (positionBefore(position, range.start) || positionBefore(range.end, position)) continue;
        const typed = checkExpr(scope, item.value);
        if (typed) out.push({ position, label: `: ${typeToString(typed.type)}`, kind: InlayHintKind.Type, tooltip: `the type of \`${item.name.name}\`` });
      }
    });
  }
  return out;
}
