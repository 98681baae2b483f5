/**
 * Text edits: whole-document formatting with the canonical formatter, and
 * quick fixes from the `fixes` the compiler attaches to diagnostics
 * ("did you mean …?").
 */
import { CodeActionKind, type CodeAction, type CodeActionParams, type Range, type TextEdit } from 'vscode-languageserver';
import { formatText } from '../../format/format.ts';
import type { Analysis } from './analysis.ts';
import { positionBefore, spanToRange, toLspDiagnostics } from './diagnostics.ts';
import type { PathMap } from './paths.ts';

/** The formatter writes `\n`; the document keeps the line ending its first line has (block comments keep theirs, so both are replaced). */
export function formatDocument(a: Analysis): TextEdit[] {
  const eol = a.text.match(/\r?\n/)?.[0] ?? '\n';
  const formatted = formatText(a.path, a.text).text?.replace(/\r?\n/g, eol);
  if (formatted === undefined || formatted === a.text) return [];
  const end = a.index.position(a.text.length);
  return [{ range: { start: { line: 0, character: 0 }, end: { line: end.line - 1, character: end.column - 1 } }, newText: formatted }];
}

const overlaps = (a: Range, b: Range) => !(positionBefore(a.end, b.start) || positionBefore(b.end, a.start));

export function codeActions(a: Analysis, params: CodeActionParams, paths: PathMap, docsUrl: string | undefined): CodeAction[] {
  if (params.context.only && !params.context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) return [];
  const lsp = toLspDiagnostics(a, { paths, ...(docsUrl ? { docsUrl } : {}) });
  const actions: CodeAction[] = [];
  a.diagnostics.forEach((d, i) => {
    if (!d.fixes?.length || d.span.file !== a.path) return;
    const shown = lsp[i]!;
    if (!overlaps(shown.range, params.range)) return;
    for (const fix of d.fixes) {
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [shown],
        isPreferred: d.fixes.length === 1,
        edit: { changes: { [paths.uriOf(fix.span.file)]: [{ range: spanToRange(fix.span), newText: fix.replacement }] } },
      });
    }
  });
  return actions;
}
