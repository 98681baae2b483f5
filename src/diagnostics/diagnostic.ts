/**
 * The one shape every compiler message has. Stages create diagnostics with
 * spans; rendering to text (file:line:col, excerpt, caret) happens only at
 * the edges (CLI, language server) through `render.ts`.
 */

/** A position in a source file. `offset` is 0-based; `line` and `column` are 1-based. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

/** A half-open range [start, end) in one source file. */
export interface Span {
  file: string;
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

/** A suggested text edit, used by quick fixes in the editor. */
export interface Fix {
  title: string;
  span: Span;
  replacement: string;
}

export interface Diagnostic {
  /** A stable kebab-case code from `codes.ts`, e.g. `unknown-field`. */
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  hints: string[];
  /** Typed facts about the problem (names, types) for tools and quick fixes. */
  data?: Record<string, unknown>;
  fixes?: Fix[];
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
