/**
 * Editor URIs ↔ the posix paths the compiler resolves imports with. A
 * `file:` URI maps to its path; any other document (an unsaved `untitled:`
 * buffer) gets a stable pseudo path, so it can still be compiled, and maps
 * back to its own URI.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

const PSEUDO_ROOT = '/__sensei_unsaved__/';

export class PathMap {
  private readonly pseudo = new Map<string, string>();

  pathOf(uri: string): string {
    if (uri.startsWith('file:')) {
      try {
        return fileURLToPath(uri);
      } catch {
        // A malformed file URI is treated like an unsaved document.
      }
    }
    const path = `${PSEUDO_ROOT}${encodeURIComponent(uri)}`;
    this.pseudo.set(path, uri);
    return path;
  }

  uriOf(path: string): string {
    return this.pseudo.get(path) ?? pathToFileURL(path).href;
  }
}
