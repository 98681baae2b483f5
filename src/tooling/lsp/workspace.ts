/**
 * Open documents and their analyses. An edit schedules an analysis after a
 * short quiet time (debounce); a request analyzes at once when the latest
 * analysis is older than the text. Diagnostics are published only for the
 * version that is still current when its analysis ends, so a slow analysis
 * of an old text never overwrites a newer one. Documents that import an
 * edited document are analyzed again too.
 */
import { readFile } from 'node:fs/promises';
import type { TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { importsOf, logError, type Analysis, type Analyzer } from './analysis.ts';
import { FileIndex } from './file-index.ts';
import type { PathMap } from './paths.ts';

interface DocState {
  latest?: Analysis;
  /** The analysis under way and the version it is for. */
  running?: { version: number; done: Promise<Analysis | undefined> };
  timer?: NodeJS.Timeout;
}

export interface WorkspaceOptions {
  debounceMs: number;
  /** Called with an analysis of the document's current version. */
  publish(uri: string, analysis: Analysis): void;
}

export class Workspace {
  private readonly states = new Map<string, DocState>();
  /** The `.sensei` files of the workspace folders (`index.scan` at initialize). */
  readonly index: FileIndex;

  constructor(
    private readonly documents: TextDocuments<TextDocument>,
    readonly analyzer: Analyzer,
    readonly paths: PathMap,
    readonly options: WorkspaceOptions,
  ) {
    this.index = new FileIndex((path, text) => analyzer.parse(path, text).ast);
  }

  private state(uri: string): DocState {
    let s = this.states.get(uri);
    if (!s) this.states.set(uri, (s = {}));
    return s;
  }

  /** The text changed: analyze it after the quiet time, and documents that import it. */
  changed(uri: string): void {
    this.schedule(uri);
    const path = this.paths.pathOf(uri);
    for (const [other, s] of this.states) {
      if (other !== uri && s.latest?.files.has(path)) this.schedule(other);
    }
  }

  /** Files on disk changed: the index reads them again, and every open document may see different imports. */
  filesChanged(paths: readonly string[]): void {
    for (const path of paths) this.index.changed(path);
    for (const uri of this.states.keys()) this.schedule(uri);
  }

  closed(uri: string): void {
    const s = this.states.get(uri);
    if (s?.timer) clearTimeout(s.timer);
    this.states.delete(uri);
    const path = this.paths.pathOf(uri);
    this.analyzer.forget(path);
    for (const [other, st] of this.states) if (st.latest?.files.has(path)) this.schedule(other);
  }

  schedule(uri: string): void {
    const s = this.state(uri);
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.analyze(uri);
    }, this.options.debounceMs);
  }

  /** An analysis of the document's current text (waits for it, or starts it now). */
  async current(uri: string): Promise<Analysis | undefined> {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const s = this.state(uri);
    if (s.latest?.version === doc.version && s.latest.text === doc.getText()) return s.latest;
    return this.analyze(uri);
  }

  private analyze(uri: string): Promise<Analysis | undefined> {
    const doc = this.documents.get(uri);
    if (!doc) return Promise.resolve(undefined);
    const s = this.state(uri);
    if (s.running?.version === doc.version) return s.running.done;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    const version = doc.version;
    const done = this.run(uri, version, doc.getText()).then((analysis) => {
      if (s.running?.done === done) s.running = undefined;
      if (!analysis) return undefined;
      if (!s.latest || s.latest.version <= analysis.version) s.latest = analysis;
      const now = this.documents.get(uri);
      if (now?.version === analysis.version && this.states.get(uri) === s) this.options.publish(uri, analysis);
      return analysis;
    });
    s.running = { version, done };
    return done;
  }

  private async run(uri: string, version: number, text: string): Promise<Analysis | undefined> {
    try {
      return await this.analyzer.analyze(this.paths.pathOf(uri), version, text, this.overlay());
    } catch (error) {
      logError(`analyzing ${uri}`, error);
      return undefined;
    }
  }

  /**
   * Analyses of the other files that read the file of `uri` (for references
   * and rename across files): the latest of open documents, and an analysis
   * of each file of the index that imports it, directly or not.
   */
  async importers(uri: string): Promise<Analysis[]> {
    await this.index.settled();
    const path = this.paths.pathOf(uri);
    const open = [...this.states].flatMap(([other, s]) => (other !== uri && s.latest?.files.has(path) ? [s.latest] : []));
    const openPaths = new Set(this.documents.all().map((d) => this.paths.pathOf(d.uri)));
    const openImports = new Map([...this.states.values()].flatMap((s) => (s.latest ? [[s.latest.path, importsOf(s.latest.ast).map((i) => i.path)] as const] : [])));
    const closed = this.index.importersOf(path, openImports).filter((p) => !openPaths.has(p));
    const analyses = await Promise.all(closed.map((p) => this.analyzeFile(p)));
    return [...open, ...analyses.filter((a) => a !== undefined)];
  }

  /** An analysis of a file that is not open, as it is on disk (imports still see unsaved edits). */
  private async analyzeFile(path: string): Promise<Analysis | undefined> {
    try {
      return await this.analyzer.analyze(path, 0, await readFile(path, 'utf8'), this.overlay());
    } catch (error) {
      logError(`analyzing ${path}`, error);
      return undefined;
    }
  }

  /** Texts of the open documents by path: unsaved edits win over the disk. */
  overlay(): Map<string, string> {
    return new Map(this.documents.all().map((d) => [this.paths.pathOf(d.uri), d.getText()]));
  }
}
