// Builds the VS Code extension: bundles the extension and the language
// server (the compiler and the connectors' option specs, no connector code)
// with esbuild, copies the TextMate grammar, the diagnostics docs and the
// JSON schemas of sensei-run configs and pipeline tests in, and packages a
// .vsix with @vscode/vsce.
//
//   node editors/vscode/build.mjs [--out path/to/sensei.vsix]   (or: npm run vsix)
import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVSIX } from '@vscode/vsce';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const manifest = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(here, `${manifest.name}-${manifest.version}.vsix`);

for (const dir of ['dist', 'syntaxes', 'docs', 'schemas']) await rm(join(here, dir), { recursive: true, force: true });
await mkdir(join(here, 'syntaxes'), { recursive: true });
await copyFile(join(root, 'grammar/sensei.tmLanguage.json'), join(here, 'syntaxes/sensei.tmLanguage.json'));
await mkdir(join(here, 'schemas'), { recursive: true });
for (const schema of ['sensei-run.schema.json', 'sensei-test.schema.json']) await copyFile(join(root, 'docs', schema), join(here, 'schemas', schema));
if (existsSync(join(root, 'docs/diagnostics.md'))) {
  await mkdir(join(here, 'docs'), { recursive: true });
  await copyFile(join(root, 'docs/diagnostics.md'), join(here, 'docs/diagnostics.md'));
}

// grammar/chevrotain.ts finds Chevrotain's own bundle at run time (top-level await, a computed
// path); inside one bundle there is no node_modules to find, so it is bundled in directly.
const chevrotainInline = {
  name: 'chevrotain-inline',
  setup(b) {
    b.onLoad({ filter: /[\\/]grammar[\\/]chevrotain\.ts$/ }, () => ({ contents: "export * from 'chevrotain';", loader: 'ts', resolveDir: root }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: false, logLevel: 'warning' };
await build({ ...common, entryPoints: [join(here, 'src/extension.ts')], outfile: join(here, 'dist/extension.js'), external: ['vscode'] });
await build({
  ...common,
  // The compiler is ES modules (top-level await included); the CommonJS packages inside get a require.
  format: 'esm',
  entryPoints: [join(root, 'src/tooling/lsp/main.ts')],
  outfile: join(here, 'dist/server.mjs'),
  plugins: [chevrotainInline],
  banner: { js: 'import { createRequire as __senseiCreateRequire } from "node:module"; const require = __senseiCreateRequire(import.meta.url);' },
});

await createVSIX({ cwd: here, packagePath: out, dependencies: false });
console.log(out);
