/**
 * Name resolution: the entry file and everything it imports → one program
 * whose names all refer to something. Loads imports and .avsc files through
 * the caller (the compiler does no I/O; a file not supplied yet is a
 * "need"), turns schema declarations into AvroTypes, links every stream to
 * its inputs, orders streams by dependency, and records declarations and
 * references for the language server.
 *
 * Imports bring schemas, sources and streams (one global namespace for
 * each of types and data). Sinks and dead letters count only in the entry
 * file. Imported sources and streams join the program only when the entry
 * file reads them, directly or through other streams.
 */
import { posix } from 'node:path';
import type { Diagnostic, Span } from '../diagnostics/diagnostic.ts';
import { diagnostic, type Code } from '../diagnostics/codes.ts';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import type { AvroType } from '../types/avro-type.ts';
import type { DeadLetterDecl, Identifier, LookupOp, SchemaDecl, SinkDecl, SourceDecl, SourceFile, StreamDecl, TypeExpr } from '../syntax/ast.ts';
import { avscToType, AvscTooDeep, namedTypesOf } from '../types/from-avsc.ts';
import { MAX_TYPE_DEPTH, typeDepth, typesEqual, typeToString, type NamedType } from '../types/type-utils.ts';
import { recordType, typeExprToType, type TypeContext } from './schemas.ts';
import { closestMatch } from '../syntax/suggest.ts';

/**
 * What a loader's `text(path)` returns for a file that does not exist: the
 * caller looked and there is nothing, so resolution reports it
 * (`import-not-found`, `avsc-not-found`) instead of needing it again.
 */
/** How many streams a stream may read through, each reading the one before: code generation nests one block per stream. */
const MAX_STREAM_CHAIN = 256;

export const MISSING_FILE = '\u0000sensei:missing-file\u0000';

export interface Loader {
  /** The parsed file, or undefined when the caller has not supplied it yet. */
  ast(path: string): SourceFile | undefined;
  /** The file's text, undefined when not supplied yet, MISSING_FILE when it does not exist. */
  text(path: string): string | undefined;
}

export type SymbolKind = 'schema' | 'type' | 'source' | 'stream' | 'route-target';

/** A declared name, for go-to-definition, hover and rename. */
export interface SymbolInfo {
  name: string;
  kind: SymbolKind;
  file: string;
  /** The span of the name in its declaration. */
  span: Span;
  /** The span of the whole declaration. */
  declSpan: Span;
  /** The type of a schema, named type or source. */
  type?: AvroType;
}

/** A use of a declared name. */
export interface SymbolReference {
  span: Span;
  symbol: SymbolInfo;
}

export interface ResolvedSchema {
  name: string;
  file: string;
  decl: SchemaDecl;
  type: AvroType;
}

export interface ResolvedSource {
  name: string;
  file: string;
  decl: SourceDecl;
  schema: AvroType;
}

export type ResolvedStream = {
  name: string;
  file: string;
  /** Sources or streams it reads, in order: its input, then `union` streams. */
  inputs: string[];
  span: Span;
} & (
  /** `lookups`: the declared result type of each `lookup` of the stream. */
  | { kind: 'declared'; decl: StreamDecl; lookups?: Map<LookupOp, AvroType> }
  /** A target of a `route` branch (`branch` = branches.length for `else`). */
  | { kind: 'routed'; from: string; branch: number; target: Identifier }
);

export interface ResolvedProgram {
  pipeline: string;
  /** The entry file. */
  file: string;
  /** The entry file and every file it imports, in load order. */
  files: string[];
  /** False when resolution reported errors: the program is then for tools only and must not be lowered. */
  complete: boolean;
  /** Every schema declaration of every file, resolved. */
  schemas: ResolvedSchema[];
  /** The sources and streams the program runs: those of the entry file and those it reads. */
  sources: ResolvedSource[];
  /** In dependency order: a stream comes after every stream it reads. */
  streams: ResolvedStream[];
  /** Sinks of the entry file. */
  sinks: SinkDecl[];
  deadLetter?: DeadLetterDecl;
  symbols: SymbolInfo[];
  references: SymbolReference[];
  /**
   * Sources and streams of imported files that the program does not read:
   * checked, since errors in imported files are errors, but never run.
   * Streams in dependency order.
   */
  unread?: { sources: ResolvedSource[]; streams: ResolvedStream[] };
}

export interface ResolveResult {
  resolved?: ResolvedProgram;
  needs: string[];
  diagnostics: Diagnostic[];
}

/** Resolves `path` as written in `fromFile` (relative to its folder). */
export function resolvePath(fromFile: string, path: string): string {
  return path.startsWith('/') ? posix.normalize(path) : posix.join(posix.dirname(fromFile), path);
}

export function resolveProgram(entry: SourceFile, load: Loader): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const report = (code: Code, span: Span, message: string, extra?: Parameters<typeof diagnostic>[3]) =>
    diagnostics.push(diagnostic(code, span, message, extra));
  const needs = new Set<string>();

  // 1. Files: the entry and its imports, depth first.
  const files = new Map<string, SourceFile>([[entry.file, entry]]);
  const visit = (ast: SourceFile, stack: string[]) => {
    for (const decl of ast.declarations) {
      if (decl.kind !== 'import') continue;
      const path = resolvePath(ast.file, decl.path.value);
      const at = stack.indexOf(path);
      if (at >= 0) {
        report('import-cycle', decl.span, `import cycle: ${[...stack.slice(at), path].join(' → ')}`);
        continue;
      }
      if (files.has(path)) continue;
      if (load.text(path) === MISSING_FILE) {
        report('import-not-found', decl.path.span, `cannot find ${path}`);
        continue;
      }
      const imported = load.ast(path);
      if (!imported) {
        needs.add(path);
        continue;
      }
      files.set(path, imported);
      visit(imported, [...stack, path]);
    }
  };
  visit(entry, [entry.file]);

  // 2. The .avsc files of schema declarations.
  const avsc = new Map<SchemaDecl, AvroType | undefined>();
  for (const ast of files.values()) {
    for (const decl of ast.declarations) {
      if (decl.kind !== 'schema' || decl.body.kind !== 'avro-file') continue;
      const path = resolvePath(ast.file, decl.body.path.value);
      const text = load.text(path);
      if (text === undefined) {
        needs.add(path);
        continue;
      }
      avsc.set(decl, undefined);
      if (text === MISSING_FILE) {
        report('avsc-not-found', decl.body.path.span, `cannot find ${path}`);
        continue;
      }
      try {
        avsc.set(decl, avscToType(JSON.parse(text)));
      } catch (e) {
        report(e instanceof AvscTooDeep ? 'nested-too-deeply' : 'invalid-avsc', decl.body.path.span, `${path}: ${(e as Error).message}`);
      }
    }
  }
  if (needs.size > 0) return { needs: [...needs], diagnostics: [] };

  const program = new Resolution(files, avsc, diagnostics);
  return { resolved: program.run(entry), needs: [], diagnostics };
}

interface SchemaEntry {
  symbol: SymbolInfo;
  decl: SchemaDecl;
  state: 'pending' | 'resolving' | 'done';
  type?: AvroType;
}

type DataEntry =
  | { kind: 'source'; symbol: SymbolInfo; decl: SourceDecl }
  | { kind: 'stream'; symbol: SymbolInfo; decl: StreamDecl }
  | { kind: 'route-target'; symbol: SymbolInfo; owner: StreamDecl; branch: number; target: Identifier };

class Resolution {
  private readonly symbols: SymbolInfo[] = [];
  private readonly references: SymbolReference[] = [];
  private readonly schemaEntries = new Map<string, SchemaEntry>();
  /** Named types declared inside schemas or .avsc files, by name (and full name). */
  private readonly namedTypes = new Map<string, { type: NamedType; symbol?: SymbolInfo }>();
  /** Which schema declares a nested named type, so a reference can resolve it first. */
  private readonly nestedOwner = new Map<string, SchemaEntry>();
  private readonly data = new Map<string, DataEntry>();
  /** Schemas being resolved now, each inside the one before (see `lookupType`). */
  private resolving = 0;
  /** The measured depth of every resolved record type. */
  private readonly depths = new WeakMap<AvroType, number>();

  constructor(
    private readonly files: Map<string, SourceFile>,
    private readonly avsc: Map<SchemaDecl, AvroType | undefined>,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private report(code: Code, span: Span, message: string, extra?: Parameters<typeof diagnostic>[3]): void {
    this.diagnostics.push(diagnostic(code, span, message, extra));
  }

  private symbol(name: Identifier, kind: SymbolKind, file: string, declSpan: Span, type?: AvroType): SymbolInfo {
    const s: SymbolInfo = { name: name.name, kind, file, span: name.span, declSpan, ...(type ? { type } : {}) };
    this.symbols.push(s);
    return s;
  }

  private duplicate(name: Identifier, first: SymbolInfo, what: string): void {
    this.report('duplicate-name', name.span, `${what} \`${name.name}\` is already declared`, {
      hints: [`the first declaration is at ${first.file}:${first.span.start.line}:${first.span.start.column}`],
      data: { name: name.name },
    });
  }

  run(entry: SourceFile): ResolvedProgram {
    this.declare(entry.file);
    const schemas = this.resolveSchemas();
    const sources = new Map<string, ResolvedSource>();
    for (const d of this.data.values()) {
      if (d.kind !== 'source') continue;
      const schema = this.recordSchema(d.decl.schema, d.symbol.file, 'a source');
      if (!schema) continue;
      d.symbol.type = schema;
      sources.set(d.symbol.name, { name: d.symbol.name, file: d.symbol.file, decl: d.decl, schema });
    }
    const streams = this.orderStreams(entry);
    const used = this.reachable(entry, streams);

    let deadLetter: DeadLetterDecl | undefined;
    const sinks: SinkDecl[] = [];
    for (const decl of entry.declarations) {
      if (decl.kind === 'sink') {
        this.reference(decl.input);
        sinks.push(decl);
      } else if (decl.kind === 'dead-letter') {
        if (deadLetter) this.report('duplicate-name', decl.span, 'the pipeline already has a dead letter declaration');
        else deadLetter = decl;
      }
    }
    if (!entry.pipeline) {
      this.report('missing-pipeline', { file: entry.file, start: entry.span.start, end: entry.span.start }, 'the file declares no pipeline name', {
        hints: ['start the file with `pipeline <name>`; the file name is used meanwhile'],
      });
    }
    for (const [file, ast] of this.files) {
      if (file === entry.file) continue;
      for (const decl of ast.declarations) {
        if (decl.kind === 'sink' || decl.kind === 'dead-letter') {
          this.report('ignored-declaration', decl.span, `this ${decl.kind === 'sink' ? 'sink' : 'dead letter'} is in an imported file and has no effect`, {
            hints: ['sinks and dead letters count only in the file that is run'],
          });
        }
      }
    }
    this.reportUnused(entry);

    return {
      pipeline: entry.pipeline?.name ?? posix.basename(entry.file).replace(/\.[^.]*$/, ''),
      file: entry.file,
      files: [...this.files.keys()],
      complete: !hasErrors(this.diagnostics),
      schemas,
      sources: [...sources.values()].filter((s) => used.has(s.name)),
      streams: streams.filter((s) => used.has(s.name)),
      unread: {
        sources: [...sources.values()].filter((s) => !used.has(s.name)),
        streams: streams.filter((s) => !used.has(s.name)),
      },
      sinks,
      ...(deadLetter ? { deadLetter } : {}),
      symbols: this.symbols,
      references: this.references,
    };
  }

  /** Declares the names of every file; the entry file's come first so duplicates point into imports last. */
  private declare(entryFile: string): void {
    const order = [entryFile, ...[...this.files.keys()].filter((f) => f !== entryFile)];
    for (const file of order) {
      for (const decl of this.files.get(file)!.declarations) {
        if (decl.kind === 'schema') {
          const first = this.schemaEntries.get(decl.name.name);
          if (first) {
            this.duplicate(decl.name, first.symbol, 'schema');
            continue;
          }
          const entry: SchemaEntry = { symbol: this.symbol(decl.name, 'schema', file, decl.span), decl, state: 'pending' };
          this.schemaEntries.set(decl.name.name, entry);
          if (decl.body.kind === 'record') for (const f of decl.body.fields) this.indexNested(f.type, entry);
        } else if (decl.kind === 'source') {
          this.declareData(decl.name, { kind: 'source', symbol: this.symbol(decl.name, 'source', file, decl.span), decl }, 'source');
        } else if (decl.kind === 'stream') {
          this.declareData(decl.name, { kind: 'stream', symbol: this.symbol(decl.name, 'stream', file, decl.span), decl }, 'stream');
          for (const op of decl.operators) {
            if (op.kind !== 'route') continue;
            const targets = [...op.branches.map((b) => b.target), ...(op.otherwise ? [op.otherwise] : [])];
            targets.forEach((target, branch) => {
              const symbol = this.symbol(target, 'route-target', file, target.span);
              this.declareData(target, { kind: 'route-target', symbol, owner: decl, branch, target }, 'stream');
            });
          }
        }
      }
    }
    for (const [decl, type] of this.avsc) {
      if (!type) continue;
      for (const [full, named] of namedTypesOf(type)) {
        this.namedTypes.set(full, { type: named });
        const short = this.namedTypes.get(named.name);
        if (!short && !this.schemaEntries.has(named.name)) this.namedTypes.set(named.name, { type: named });
      }
      const entry = this.schemaEntries.get(decl.name.name);
      if (entry?.decl === decl) {
        entry.state = 'done';
        entry.type = type;
        entry.symbol.type = type;
      }
    }
  }

  private declareData(name: Identifier, entry: DataEntry, what: string): void {
    const first = this.data.get(name.name);
    if (first) this.duplicate(name, first.symbol, what);
    else this.data.set(name.name, entry);
  }

  private indexNested(te: TypeExpr, owner: SchemaEntry): void {
    switch (te.kind) {
      case 'record':
        this.nestedOwner.set(te.name.name, owner);
        for (const f of te.fields) this.indexNested(f.type, owner);
        return;
      case 'enum':
      case 'fixed':
        this.nestedOwner.set(te.name.name, owner);
        return;
      case 'array':
        this.indexNested(te.items, owner);
        return;
      case 'map':
        this.indexNested(te.values, owner);
        return;
      case 'nullable':
        this.indexNested(te.inner, owner);
        return;
      default:
        return;
    }
  }

  private typeContext(file: string): TypeContext {
    return {
      diagnostics: this.diagnostics,
      lookup: (name) => this.lookupType(name),
      define: (type, name) => {
        const existing = this.namedTypes.get(type.name);
        if (this.schemaEntries.has(type.name) || (existing && !typesEqual(existing.type, type))) {
          const first = this.schemaEntries.get(type.name)?.symbol ?? existing?.symbol;
          if (first) this.duplicate(name, first, type.kind);
          else this.report('duplicate-name', name.span, `type \`${type.name}\` is already declared in an .avsc file`);
          return;
        }
        if (!existing) this.namedTypes.set(type.name, { type, symbol: this.symbol(name, 'type', file, name.span, type) });
      },
    };
  }

  private lookupType(name: Identifier): AvroType | undefined {
    const entry = this.schemaEntries.get(name.name);
    if (entry) {
      this.references.push({ span: name.span, symbol: entry.symbol });
      if (entry.state === 'resolving') {
        this.report('invalid-schema', name.span, `schema ${name.name} refers to itself; recursive types are not supported`);
        return undefined;
      }
      // Each schema resolved here holds the ones being resolved: their type is at least this deep.
      if (entry.state === 'pending' && this.resolving >= MAX_TYPE_DEPTH) {
        this.report('nested-too-deeply', name.span, `schema ${name.name} is reached through more than ${MAX_TYPE_DEPTH} schemas, each inside the one before`, {
          hints: [`types nest at most ${MAX_TYPE_DEPTH} levels deep; flatten the records`],
        });
        return undefined;
      }
      return this.resolveSchema(entry);
    }
    let named = this.namedTypes.get(name.name);
    const owner = this.nestedOwner.get(name.name);
    if (!named && owner) {
      if (owner.state === 'resolving') {
        this.report('invalid-schema', name.span, `type ${name.name} is used inside the schema that declares it, before its declaration`, {
          hints: ['declare it at its first use, or in a schema of its own'],
        });
        return undefined;
      }
      this.resolveSchema(owner);
      named = this.namedTypes.get(name.name);
      if (!named) return undefined; // its declaration failed and was reported
    }
    if (named) {
      if (named.symbol) this.references.push({ span: name.span, symbol: named.symbol });
      return named.type;
    }
    const candidates = [...this.schemaEntries.keys(), ...this.namedTypes.keys(), ...this.nestedOwner.keys()];
    const guess = closestMatch(name.name, candidates);
    this.report('unknown-schema', name.span, `unknown schema or type \`${name.name}\``, {
      hints: guess ? [`did you mean \`${guess}\`?`] : [],
      data: { name: name.name },
      ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: name.span, replacement: guess }] } : {}),
    });
    return undefined;
  }

  private resolveSchema(entry: SchemaEntry): AvroType | undefined {
    if (entry.state !== 'pending') return entry.type;
    entry.state = 'resolving';
    this.resolving++;
    const { decl } = entry;
    if (decl.body.kind === 'record') {
      const type = recordType(decl.name.name, decl.body.fields, this.typeContext(entry.symbol.file), decl.doc);
      if (type && typeDepth(type, this.depths) > MAX_TYPE_DEPTH) {
        this.report('nested-too-deeply', decl.name.span, `schema ${decl.name.name} nests more than ${MAX_TYPE_DEPTH} levels deep`, {
          hints: ['the records of the schemas it holds count too; flatten them'],
        });
      } else if (type) {
        entry.type = type;
        entry.symbol.type = type;
      }
    }
    this.resolving--;
    entry.state = 'done';
    return entry.type;
  }

  private resolveSchemas(): ResolvedSchema[] {
    const out: ResolvedSchema[] = [];
    for (const entry of this.schemaEntries.values()) {
      const type = this.resolveSchema(entry);
      if (type) out.push({ name: entry.symbol.name, file: entry.symbol.file, decl: entry.decl, type });
    }
    return out;
  }

  private recordSchema(te: TypeExpr, file: string, what: string): AvroType | undefined {
    const type = typeExprToType(te, this.typeContext(file));
    if (type && type.kind !== 'record') {
      this.report('type-mismatch', te.span, `${what}'s schema must be a record, not ${typeToString(type)}`);
      return undefined;
    }
    return type;
  }

  /** Looks up a source or stream a declaration reads, recording the reference. */
  private reference(name: Identifier): DataEntry | undefined {
    const entry = this.data.get(name.name);
    if (entry) {
      this.references.push({ span: name.span, symbol: entry.symbol });
      return entry;
    }
    const guess = closestMatch(name.name, this.data.keys());
    this.report('unknown-name', name.span, `unknown stream or source \`${name.name}\``, {
      hints: guess ? [`did you mean \`${guess}\`?`] : [],
      data: { name: name.name },
      ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: name.span, replacement: guess }] } : {}),
    });
    return undefined;
  }

  /** Streams in dependency order (depth first, in declaration order); cycles are reported and left out. */
  private orderStreams(entry: SourceFile): ResolvedStream[] {
    const resolved = new Map<string, ResolvedStream | undefined>();
    for (const d of this.data.values()) {
      if (d.kind === 'stream') {
        const inputs = [d.decl.input, ...d.decl.operators.flatMap((op) => (op.kind === 'union' ? op.streams : []))];
        const known = inputs.map((i) => this.reference(i));
        const lookups = new Map<LookupOp, AvroType>();
        for (const op of d.decl.operators) {
          if (op.kind !== 'lookup') continue;
          const type = this.recordSchema(op.schema, d.symbol.file, 'a lookup');
          if (type) lookups.set(op, type);
        }
        resolved.set(d.symbol.name, known.every(Boolean)
          ? { kind: 'declared', name: d.symbol.name, file: d.symbol.file, decl: d.decl, inputs: inputs.map((i) => i.name), span: d.decl.span, ...(lookups.size > 0 ? { lookups } : {}) }
          : undefined);
      } else if (d.kind === 'route-target') {
        resolved.set(d.symbol.name, {
          kind: 'routed', name: d.symbol.name, file: d.symbol.file, from: d.owner.name.name, branch: d.branch, target: d.target,
          inputs: [d.owner.name.name], span: d.target.span,
        });
      }
    }
    const order: ResolvedStream[] = [];
    const state = new Map<string, 'visiting' | 'done' | 'failed'>();
    /** The streams being visited, each an input of the one before. */
    const path: string[] = [];
    /** How many streams each stream reads through, itself included (MAX_STREAM_CHAIN). */
    const chain = new Map<string, number>();
    const tooLong = (name: string): false => {
      this.report('nested-too-deeply', this.data.get(name)!.symbol.span, `stream \`${name}\` reads through more than ${MAX_STREAM_CHAIN} streams, each reading the one before`, {
        hints: ['code generation nests the operators of each stream inside those of its input; merge streams that only pass records on'],
      });
      state.set(name, 'failed');
      return false;
    };
    const visit = (name: string): boolean => {
      const s = state.get(name);
      if (s === 'done') return true;
      if (s === 'failed') return false;
      const stream = resolved.get(name);
      if (!resolved.has(name)) return true; // a source
      if (!stream) return false;
      if (s === 'visiting') {
        const cycle = [...path.slice(path.indexOf(name)), name];
        const d = this.data.get(name)!;
        this.report('cyclic-stream', d.symbol.span, `stream \`${name}\` depends on itself: ${cycle.join(' → ')}`);
        return false;
      }
      // Streams declared before their inputs are visited inside one another: stop before the stack runs out.
      if (path.length >= MAX_STREAM_CHAIN) return tooLong(name);
      state.set(name, 'visiting');
      path.push(name);
      let ok = true;
      for (const input of stream.inputs) ok = visit(input) && ok;
      path.pop();
      const depth = 1 + Math.max(0, ...stream.inputs.map((i) => chain.get(i) ?? 0));
      chain.set(name, depth);
      if (ok && depth > MAX_STREAM_CHAIN) return tooLong(name);
      state.set(name, ok ? 'done' : 'failed');
      if (ok) order.push(stream);
      return ok;
    };
    // Entry-file streams first, so a program's order follows its own file.
    const names = [...resolved.keys()];
    const inEntry = (n: string) => this.data.get(n)!.symbol.file === entry.file;
    for (const n of [...names.filter(inEntry), ...names.filter((n) => !inEntry(n))]) visit(n);
    return order;
  }

  /** Names the program runs: everything in the entry file, plus imported declarations it reads. */
  private reachable(entry: SourceFile, streams: ResolvedStream[]): Set<string> {
    const byName = new Map(streams.map((s) => [s.name, s]));
    const used = new Set<string>();
    const mark = (name: string) => {
      if (used.has(name)) return;
      used.add(name);
      for (const i of byName.get(name)?.inputs ?? []) mark(i);
    };
    for (const d of this.data.values()) if (d.symbol.file === entry.file) mark(d.symbol.name);
    for (const decl of entry.declarations) if (decl.kind === 'sink') mark(decl.input.name);
    return used;
  }

  /** Warns about sources and streams of the entry file that nothing reads. */
  private reportUnused(entry: SourceFile): void {
    const read = new Set(this.references.map((r) => r.symbol));
    // A stream that routes is read by its targets.
    for (const d of this.data.values()) if (d.kind === 'route-target') read.add(this.data.get(d.owner.name.name)!.symbol);
    for (const d of this.data.values()) {
      if (d.symbol.file !== entry.file || read.has(d.symbol)) continue;
      const what = d.kind === 'source' ? 'source' : d.kind === 'route-target' ? 'route target' : 'stream';
      this.report('unused-stream', d.symbol.span, `${what} \`${d.symbol.name}\` is never read`, {
        hints: [d.kind === 'route-target' ? 'its records are dropped; add a sink for it' : 'add a sink for it, read it in a stream, or remove it'],
        data: { name: d.symbol.name },
      });
    }
  }
}
