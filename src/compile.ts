/**
 * The compiler: parse → resolve → check → lower (→ codegen), one call. Pure:
 * files it has not been given come back as `needs`, and the caller (the
 * host driver for the CLI, the language server with its open documents)
 * supplies them and calls again. Stops after the first stage with errors,
 * returning that stage's diagnostics and the outputs of the stages before.
 */
import type { ConnectorSpecs } from './spi/spec.ts';
import type { TypedProgram } from './check/typed.ts';
import { type CheckMemo, checkProgram, type CheckScopes } from './check/check.ts';
import type { Diagnostic } from './diagnostics/diagnostic.ts';
import { hasErrors } from './diagnostics/diagnostic.ts';
import { diagnostic } from './diagnostics/codes.ts';
import { typedToPlan } from './lower/lower.ts';
import type { Plan } from './plan/plan.ts';
import type { ResolvedProgram } from './resolve/resolve.ts';
import { MISSING_FILE, resolvePath, resolveProgram } from './resolve/resolve.ts';
import type { SourceFile } from './syntax/ast.ts';
import { textToAst } from './syntax/parse.ts';
import { typeToAvsc } from './types/to-avsc.ts';

/**
 * Parse results by file, reused while a file's text is unchanged (a language
 * server recompiles on every keystroke; the imports rarely change).
 */
export type ParseCache = Map<string, { text: string; ast: SourceFile; diagnostics: Diagnostic[] }>;

export interface CompileRequest {
  entry: string;
  /** File texts by path; MISSING_FILE (src/resolve/resolve.ts) for a file that does not exist. */
  files: ReadonlyMap<string, string>;
  connectors: ConnectorSpecs;
  cache?: ParseCache;
  /** False stops after type checking (no plan, no schemas): an editor needs only diagnostics and scopes. */
  lower?: boolean;
  /** Checked streams kept between compiles of edits of one program (the language server; check.ts). */
  memo?: CheckMemo;
}

export interface CompileResult {
  /** Files to supply before compiling again (imports, .avsc schemas). */
  needs: string[];
  diagnostics: Diagnostic[];
  ast?: SourceFile;
  resolved?: ResolvedProgram;
  typed?: TypedProgram;
  plan?: Plan;
  /** The record each operator reads, when checking ran (for editors). */
  scopes?: CheckScopes;
  /** Inferred Avro schema per stream name and per sink id. */
  schemas: Record<string, unknown>;
}

export function compile(req: CompileRequest): CompileResult {
  const cache = req.cache ?? new Map();
  const parse = (path: string) => {
    const text = req.files.get(path);
    if (text === undefined || text === MISSING_FILE) return undefined;
    let parsed = cache.get(path);
    if (parsed?.text !== text) cache.set(path, (parsed = { text, ...textToAst(path, text) }));
    return parsed;
  };

  const entry = parse(req.entry);
  if (!entry) {
    if (req.files.get(req.entry) === undefined) return { needs: [req.entry], diagnostics: [], schemas: {} };
    const at = { file: req.entry, start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };
    return { needs: [], diagnostics: [diagnostic('import-not-found', at, `cannot find ${req.entry}`)], schemas: {} };
  }
  const { ast } = entry;
  if (hasErrors(entry.diagnostics)) return { needs: [], diagnostics: entry.diagnostics, ast, schemas: {} };
  const withImportErrors = (diagnostics: Diagnostic[]) => [...diagnostics, ...importErrors(ast, diagnostics, (path) => parse(path)?.ast)];

  // Imports are parsed as resolution reaches them; their syntax errors stop compilation like the entry's.
  const parsed = new Set<string>();
  const parseDiagnostics = [...entry.diagnostics];
  const resolution = resolveProgram(ast, {
    ast: (path) => {
      const file = parse(path);
      if (file && !parsed.has(path)) {
        parsed.add(path);
        parseDiagnostics.push(...file.diagnostics);
      }
      return file?.ast;
    },
    text: (path) => req.files.get(path),
  });
  if (resolution.needs.length > 0) return { needs: resolution.needs, diagnostics: parseDiagnostics, ast, schemas: {} };
  if (hasErrors(parseDiagnostics)) return { needs: [], diagnostics: withImportErrors(parseDiagnostics), ast, schemas: {} };

  const diagnostics = [...parseDiagnostics, ...resolution.diagnostics];
  const { resolved } = resolution;
  const base = { needs: [], ast, resolved };
  if (!resolved?.complete || hasErrors(diagnostics)) return { ...base, diagnostics: withImportErrors(diagnostics), schemas: {} };

  const checked = checkProgram(resolved, req.connectors, req.memo);
  diagnostics.push(...checked.diagnostics);
  const { typed, scopes } = checked;
  if (!typed || hasErrors(diagnostics) || req.lower === false) {
    return { ...base, diagnostics: withImportErrors(diagnostics), scopes, ...(typed ? { typed } : {}), schemas: {} };
  }

  const plan = typedToPlan(typed);
  const schemas: Record<string, unknown> = {};
  for (const stream of typed.streams) schemas[stream.name] = typeToAvsc(stream.output);
  for (const sink of plan.sinks) schemas[sink.id] = sink.schema;
  return { ...base, diagnostics, scopes, typed, plan, schemas };
}

/**
 * `import-error` at each import of the entry file that brings in, directly
 * or through other imports, a file with errors. The errors themselves stay
 * in their own files; this says at the import why the entry does not compile.
 */
function importErrors(entry: SourceFile, diagnostics: Diagnostic[], astOf: (path: string) => SourceFile | undefined): Diagnostic[] {
  const elsewhere = diagnostics.filter((d) => d.severity === 'error' && d.span.file !== entry.file);
  if (elsewhere.length === 0) return [];
  const out: Diagnostic[] = [];
  for (const decl of entry.declarations) {
    if (decl.kind !== 'import') continue;
    const reached = new Set<string>();
    const pending = [resolvePath(entry.file, decl.path.value)];
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (reached.has(path) || path === entry.file) continue;
      reached.add(path);
      for (const d of astOf(path)?.declarations ?? []) if (d.kind === 'import') pending.push(resolvePath(path, d.path.value));
    }
    const errors = elsewhere.filter((d) => reached.has(d.span.file));
    const [first] = errors;
    if (!first) continue;
    const at = `${first.span.file}:${first.span.start.line}:${first.span.start.column}`;
    out.push(diagnostic('import-error', decl.span, `${decl.path.value} has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}`, {
      hints: [`${errors.length === 1 ? 'it is' : 'the first is'} at ${at}: ${first.message}`],
    }));
  }
  return out;
}
