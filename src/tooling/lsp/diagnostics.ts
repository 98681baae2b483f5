/**
 * Compiler diagnostics → LSP diagnostics for one document. A problem in an
 * imported file is shown at the `import` that (directly or through other
 * imports) brings that file in, as `import-error`, pointing at the real
 * place through related information.
 */
import { posix } from 'node:path';
import {
  DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type Range,
} from 'vscode-languageserver';
import type { Diagnostic, Severity, Span } from '../../diagnostics/diagnostic.ts';
import type { ImportDecl } from '../../syntax/ast.ts';
import { importsOf, type Analysis } from './analysis.ts';
import type { PathMap } from './paths.ts';

export function spanToRange(span: Span): Range {
  return {
    start: { line: Math.max(0, span.start.line - 1), character: Math.max(0, span.start.column - 1) },
    end: { line: Math.max(0, span.end.line - 1), character: Math.max(0, span.end.column - 1) },
  };
}

/** Whether LSP position `x` comes before `y`. */
export function positionBefore(x: Range['start'], y: Range['start']): boolean {
  return x.line < y.line || (x.line === y.line && x.character < y.character);
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

/** Codes whose subject is dead code, which editors fade out. */
const UNNECESSARY = new Set(['unused-stream', 'unnecessary-coalesce']);

export interface DiagnosticOptions {
  /** `docs/diagnostics.md` as a URL; each diagnostic links to `#<code>`. */
  docsUrl?: string;
  paths: PathMap;
}

export function toLspDiagnostics(a: Analysis, opts: DiagnosticOptions): LspDiagnostic[] {
  const viaImport = importReaching(a);
  const out: LspDiagnostic[] = [];
  for (const d of a.diagnostics) {
    if (d.span.file === a.path) {
      out.push(lspDiagnostic(d, d.code, spanToRange(d.span), withHints(d.message, d.hints), opts));
      continue;
    }
    const decl = viaImport.get(d.span.file);
    const range = decl ? spanToRange(decl.span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const where = `${relativeTo(a.path, d.span.file)}:${d.span.start.line}:${d.span.start.column}`;
    const lsp = lspDiagnostic(d, 'import-error', range, withHints(`${where}: ${d.message} [${d.code}]`, d.hints), opts);
    lsp.relatedInformation = [{ location: { uri: opts.paths.uriOf(d.span.file), range: spanToRange(d.span) }, message: `${d.code}: ${d.message}` }];
    out.push(lsp);
  }
  return out;
}

function lspDiagnostic(d: Diagnostic, code: string, range: Range, message: string, opts: DiagnosticOptions): LspDiagnostic {
  return {
    range,
    severity: SEVERITY[d.severity],
    code,
    source: 'sensei',
    message,
    ...(opts.docsUrl ? { codeDescription: { href: `${opts.docsUrl}#${code}` } } : {}),
    ...(UNNECESSARY.has(code) ? { tags: [DiagnosticTag.Unnecessary] } : {}),
  };
}

function withHints(message: string, hints: readonly string[]): string {
  return [message, ...hints.map((h) => `hint: ${h}`)].join('\n');
}

function relativeTo(from: string, file: string): string {
  const rel = posix.relative(posix.dirname(from), file);
  return rel.startsWith('..') || posix.isAbsolute(rel) ? file : rel;
}

/** For every file the document reaches through imports, the document's own import that leads there. */
function importReaching(a: Analysis): Map<string, ImportDecl> {
  const reach = new Map<string, ImportDecl>();
  for (const { path, decl } of importsOf(a.ast)) {
    const queue = [path];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (reach.has(file) || file === a.path) continue;
      reach.set(file, decl);
      const ast = a.astOf(file);
      if (ast) queue.push(...importsOf(ast).map((i) => i.path));
    }
  }
  return reach;
}
