/**
 * Inlay hints: the Avro type the checker infers for each computed `select`
 * field (`total: amount * 2` shows `: double` after the expression) and each
 * computed key and aggregate of a `group by`, so the shape of a stream's
 * records reads off the text.
 */
import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver';
import type { AvroType } from '../../types/avro-type.ts';
import { typeToString } from '../../types/type-utils.ts';
import type { Analysis } from './analysis.ts';
import { positionBefore, spanToRange } from './diagnostics.ts';
import { checkExpr, outputAt, scopeAt } from './scope.ts';

/** Hints whose position lies in `range`. */
export function inlayHints(a: Analysis, range: Range): InlayHint[] {
  const scopes = a.scopes();
  const out: InlayHint[] = [];
  for (const stream of a.ast.declarations) {
    if (stream.kind !== 'stream') continue;
    stream.operators.forEach((operator, index) => {
      if (operator.kind !== 'select' && operator.kind !== 'group') return;
      const place = { stream, operator, index };
      const scope = scopeAt(scopes, place);
      if (!scope) return;
      // An aggregate types only inside its group: the group's output record has the types.
      const output = operator.kind === 'group' ? outputAt(scopes, place) : undefined;
      const items = operator.kind === 'select' ? operator.items : [...operator.keys, ...operator.aggregates];
      for (const item of items) {
        if (item.kind !== 'compute') continue;
        const position = spanToRange(item.value.span).end;
        if (positionBefore(position, range.start) || positionBefore(range.end, position)) continue;
        const type: AvroType | undefined = output ? output.fields.find((f) => f.name === item.name.name)?.type : checkExpr(scope, item.value)?.type;
        if (type) out.push({ position, label: `: ${typeToString(type)}`, kind: InlayHintKind.Type, tooltip: `the type of \`${item.name.name}\`` });
      }
    });
  }
  return out;
}
