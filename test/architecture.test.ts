// The direction of imports follows the data: grammar → compiler → plan → runtime ↔ connectors,
// with tooling (CLI, language server, host I/O) on top. This test reads every import and fails
// on one that points the wrong way.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function localImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)];
  return found.map((m) => relative(root, resolve(root, dirname(file), m[1] ?? m[2]!)));
}

const tooling = ['src/cli/', 'src/lsp/', 'src/host/', 'src/daemon/'];
const isTooling = (f: string) => tooling.some((t) => f.startsWith(t));

/** What each layer may import, as path prefixes. */
function allowed(file: string, target: string): boolean {
  if (file.startsWith('grammar/')) return target.startsWith('grammar/');
  if (file.startsWith('src/plan/')) return target.startsWith('src/plan/');
  if (file.startsWith('src/') && !isTooling(file)) {
    // The compiler is pure: it sees connector specs (data), never the runtime or connector code.
    return target.startsWith('src/') && !isTooling(target) || target.startsWith('grammar/') || target === 'connectors/spec.ts';
  }
  if (file.startsWith('runtime/') || file.startsWith('connectors/')) {
    return target.startsWith('runtime/') || target.startsWith('connectors/') || target.startsWith('src/plan/');
  }
  return true;
}

test('imports follow the direction of the data', (t) => {
  const files = ['grammar', 'src', 'runtime', 'connectors'].flatMap(sourceFiles);
  t.true(files.length > 0);
  const wrong = files.flatMap((file) => localImports(file).filter((target) => !allowed(file, target)).map((target) => `${file} → ${target}`));
  t.deepEqual(wrong, []);
});
