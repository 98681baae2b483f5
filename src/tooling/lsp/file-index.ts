/**
 * The `.sensei` files under the workspace folders and the files each one
 * imports, read from disk: references and rename reach the files that import
 * the edited one, directly or through others, also when they are not open.
 * The server keeps it fresh from `workspace/didChangeWatchedFiles`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { SourceFile } from '../../syntax/ast.ts';
import { importsOf, logError } from './analysis.ts';

/** Folders never searched: dependencies and hidden folders (.git, .services…). */
const SKIPPED = /^(?:\.|node_modules$)/;

export class FileIndex {
  private readonly imports = new Map<string, string[]>();
  private folders: string[] = [];
  /** Scans and updates run one after another; requests wait for the last one. */
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly parse: (path: string, text: string) => SourceFile) {}

  /** Indexes every `.sensei` file under `folders` (in the background; `settled` waits for it). */
  scan(folders: readonly string[]): void {
    this.folders = [...folders];
    this.queue(async () => {
      const files = (await Promise.all(this.folders.map(senseiFiles))).flat();
      await Promise.all(files.map((f) => this.read(f)));
    });
  }

  /** A file under the folders was created, changed or deleted. */
  changed(path: string): void {
    if (path.endsWith('.sensei') && this.folders.some((f) => path.startsWith(f.endsWith(sep) ? f : f + sep))) this.queue(() => this.read(path));
  }

  /** Resolves when every scan and update asked for so far is done. */
  settled(): Promise<void> {
    return this.pending;
  }

  /**
   * Files that import `path`, directly or through other files. `open` holds
   * the imports of open documents, whose unsaved text wins over the disk.
   */
  importersOf(path: string, open: ReadonlyMap<string, readonly string[]>): string[] {
    const importedBy = new Map<string, string[]>();
    for (const file of new Set([...this.imports.keys(), ...open.keys()])) {
      for (const imported of open.get(file) ?? this.imports.get(file) ?? []) {
        const list = importedBy.get(imported);
        if (list) list.push(file);
        else importedBy.set(imported, [file]);
      }
    }
    const found = new Set<string>([path]);
    const queue = [path];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const importer of importedBy.get(next) ?? []) {
        if (found.has(importer)) continue;
        found.add(importer);
        queue.push(importer);
      }
    }
    found.delete(path);
    return [...found];
  }

  private queue(task: () => Promise<void>): void {
    this.pending = this.pending.then(task).catch((error) => logError('indexing the workspace', error));
  }

  private async read(path: string): Promise<void> {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) this.imports.delete(path);
    else this.imports.set(path, importsOf(this.parse(path, text)).map((i) => i.path));
  }
}

async function senseiFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIPPED.test(e.name) ? [] : senseiFiles(path);
    return e.isFile() && e.name.endsWith('.sensei') ? [path] : [];
  }));
  return nested.flat();
}
