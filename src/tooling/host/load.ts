/**
 * The I/O driver around the pure compiler: reads the entry file and every
 * file the compiler needs from disk (or from an overlay of unsaved texts),
 * compiling again until nothing more is needed. A file that cannot be read
 * is handed over as MISSING_FILE, so the compiler reports it where it is
 * imported.
 */
import { readFile } from 'node:fs/promises';
import type { ConnectorSpecs } from '../../spi/spec.ts';
import { compile, type CompileResult, type ParseCache } from '../../compile.ts';
import type { CheckMemo } from '../../check/check.ts';
import { MISSING_FILE } from '../../resolve/resolve.ts';

export async function compileFile(
  path: string,
  connectors: ConnectorSpecs,
  overlay?: ReadonlyMap<string, string>,
  /** `cache`: parse results kept across calls, so unchanged files are not parsed again; `lower` and `memo`: see CompileRequest. */
  options: { cache?: ParseCache; lower?: boolean; memo?: CheckMemo } = {},
): Promise<CompileResult & { files: Map<string, string> }> {
  const files = new Map<string, string>();
  const cache: ParseCache = options.cache ?? new Map();
  const read = async (p: string) => overlay?.get(p) ?? (await readFile(p, 'utf8').catch(() => MISSING_FILE));
  files.set(path, await read(path));
  for (;;) {
    const result = compile({ entry: path, files, connectors, cache, lower: options.lower, memo: options.memo });
    const fresh = result.needs.filter((n) => !files.has(n));
    if (fresh.length === 0) {
      // The texts that exist, for rendering diagnostics.
      return { ...result, files: new Map([...files].filter(([, text]) => text !== MISSING_FILE)) };
    }
    for (const [p, text] of await Promise.all(fresh.map(async (p) => [p, await read(p)] as const))) files.set(p, text);
  }
}
