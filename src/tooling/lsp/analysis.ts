/**
 * One analysis of one document version: the real compiler's diagnostics
 * (the same stages and order as `sensei check`), plus what editor features
 * need even while the text is broken: the recovered AST, resolved names, and
 * the record in scope at every operator. Parse results are cached per file
 * text across analyses, so an edit re-parses only the edited file.
 */
import { readFile } from 'node:fs/promises';
import type { ConnectorSpecs } from '../../spi/spec.ts';
import { CheckMemo, checkProgram, type CheckScopes } from '../../check/check.ts';
import type { TypedProgram } from '../../check/typed.ts';
import type { ParseCache } from '../../compile.ts';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import { compileFile } from '../host/load.ts';
import { MISSING_FILE, resolvePath, resolveProgram, type ResolvedProgram } from '../../resolve/resolve.ts';
import type { SourceFile } from '../../syntax/ast.ts';
import { LineIndex } from '../../syntax/line-index.ts';
import { textToAst } from '../../syntax/parse.ts';
import { SegmentParser } from './segments.ts';

export interface Analysis {
  path: string;
  version: number;
  text: string;
  index: LineIndex;
  ast: SourceFile;
  /** Texts of the files this compile read: the entry, its imports, .avsc schemas. */
  files: ReadonlyMap<string, string>;
  /** The compiler's diagnostics, in every file it read. */
  diagnostics: Diagnostic[];
  resolved?: ResolvedProgram;
  /** Present when the program has no errors. */
  typed?: TypedProgram;
  /** Records in scope per operator and per stream; computed on first use (hover, completion). */
  scopes(): CheckScopes | undefined;
  /** Parsed files by path (the entry and the imports it reached). */
  astOf(path: string): SourceFile | undefined;
  /** Parses a variant of this document's text (completion), reusing the unchanged declarations; never fails. */
  reparse(text: string): SourceFile;
}

/** How often a tolerant resolution may ask for more files; import chains are short. */
const MAX_LOAD_ROUNDS = 32;

export class Analyzer {
  readonly cache: ParseCache = new Map();
  /** Streams checked before, re-used while their declaration and inputs stay (check.ts). */
  private readonly memo = new CheckMemo();
  private readonly segments = new SegmentParser();

  constructor(readonly connectors: ConnectorSpecs) {}

  /** The cached parse of a text, parsing it when it changed. */
  parse(path: string, text: string): { ast: SourceFile; diagnostics: Diagnostic[] } {
    let parsed = this.cache.get(path);
    if (parsed?.text !== text) this.cache.set(path, (parsed = { text, ...textToAst(path, text) }));
    return parsed;
  }

  /** Analyzes `text` as the file at `path`; `overlay` holds the texts of open documents (unsaved edits win over the disk). */
  async analyze(path: string, version: number, text: string, overlay: ReadonlyMap<string, string>): Promise<Analysis> {
    const withSelf = new Map(overlay).set(path, text);
    // Seed compile()'s parse cache with an incremental parse of the edited file.
    this.cache.set(path, { text, ...this.segments.parse(path, text, 'exact') });
    const result = await compileFile(path, this.connectors, withSelf, { cache: this.cache, lower: false, memo: this.memo });
    const files = new Map(result.files);
    const ast = result.ast ?? this.parse(path, text).ast;
    // compile() stops at the first stage with errors; tools still want names and scopes, so resolve anyway.
    const resolved = result.resolved ?? (await this.resolveTolerant(ast, files, withSelf));
    let scopes = result.scopes;
    let scoped = scopes !== undefined;
    return {
      path,
      version,
      text,
      index: new LineIndex(path, text),
      ast,
      files,
      diagnostics: result.diagnostics,
      ...(resolved ? { resolved } : {}),
      ...(result.typed ? { typed: result.typed } : {}),
      scopes: () => {
        if (!scoped && resolved) scopes = this.scopesOf(resolved);
        scoped = true;
        return scopes;
      },
      reparse: (variant) => this.segments.parse(path, variant, 'tolerant').ast,
      astOf: (p) => {
        if (p === path) return ast;
        const t = files.get(p);
        return t === undefined || t === MISSING_FILE ? undefined : this.parse(p, t).ast;
      },
    };
  }

  /** Drops what is cached for a closed document (its text on disk may differ). */
  forget(path: string): void {
    this.cache.delete(path);
    this.segments.forget(path);
  }

  scopesOf(resolved: ResolvedProgram): CheckScopes | undefined {
    try {
      return checkProgram(resolved, this.connectors).scopes;
    } catch (error) {
      logError('checking for scopes', error);
      return undefined;
    }
  }

  /** Resolves names of a file with syntax errors (recovered AST), reading imports compile() did not reach. */
  async resolveTolerant(ast: SourceFile, files: Map<string, string>, overlay: ReadonlyMap<string, string>): Promise<ResolvedProgram | undefined> {
    try {
      for (let round = 0; round < MAX_LOAD_ROUNDS; round++) {
        const loader = {
          ast: (p: string) => {
            const text = files.get(p);
            return text === undefined || text === MISSING_FILE ? undefined : this.parse(p, text).ast;
          },
          text: (p: string) => files.get(p),
        };
        const r = resolveProgram(ast, loader);
        if (r.needs.length === 0) return r.resolved;
        for (const p of r.needs) files.set(p, overlay.get(p) ?? (await readFile(p, 'utf8').catch(() => MISSING_FILE)));
      }
    } catch (error) {
      logError('resolving', error);
    }
    return undefined;
  }
}

/** Import paths of a parsed file, resolved against it. */
export function importsOf(ast: SourceFile): { path: string; decl: Extract<SourceFile['declarations'][number], { kind: 'import' }> }[] {
  return ast.declarations.flatMap((d) => (d.kind === 'import' ? [{ path: resolvePath(ast.file, d.path.value), decl: d }] : []));
}

/** The server's log: stderr, never stdout (stdout carries the protocol). */
export function logError(what: string, error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`[sensei-lsp] error while ${what}: ${text}\n`);
}
