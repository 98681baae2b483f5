// The direction of imports follows the data (docs/architecture.md draws it):
//   grammar → compiler stages → plan ← runtime, connectors; formats and spi shared below both;
//   tooling (CLI, language server, daemon, host I/O) on top.
// This test reads every relative import and fails on one that points the wrong way.
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

interface Import {
  target: string;
  typeOnly: boolean;
}

function localImports(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)];
  return found.map((m) => ({ target: relative(root, resolve(root, dirname(file), m[3] ?? m[4]!)), typeOnly: m[2] !== undefined }));
}

/**
 * The compiler's stages in the order text flows through them; a stage imports only earlier ones (and
 * the shared compiler folders). The formatter reads the syntax tree, so it comes right after parsing.
 */
const STAGES = ['src/syntax/', 'src/format/', 'src/resolve/', 'src/check/', 'src/codegen/', 'src/lower/'];
/** Compiler folders every stage may use. */
const COMPILER_SHARED = ['src/diagnostics/', 'src/types/'];

type Layer = 'grammar' | 'plan' | 'formats' | 'spi' | 'compiler' | 'runtime' | 'connectors' | 'tooling' | 'other';

function layerOf(path: string): Layer {
  if (path.startsWith('grammar/')) return 'grammar';
  if (path.startsWith('src/plan/')) return 'plan';
  if (path.startsWith('src/formats/')) return 'formats';
  if (path.startsWith('src/spi/')) return 'spi';
  if (path.startsWith('src/tooling/')) return 'tooling';
  if (path.startsWith('src/')) return 'compiler';
  if (path.startsWith('runtime/')) return 'runtime';
  if (path.startsWith('connectors/')) return 'connectors';
  return 'other';
}

/** What each layer may import. */
const ALLOWED: Record<Layer, Layer[]> = {
  grammar: ['grammar'],
  plan: ['plan'],
  formats: ['formats', 'plan'],
  spi: ['spi', 'plan'],
  compiler: ['compiler', 'grammar', 'plan', 'spi'],
  runtime: ['runtime', 'plan', 'formats', 'spi'],
  connectors: ['connectors', 'plan', 'formats', 'spi'],
  tooling: ['tooling', 'compiler', 'grammar', 'plan', 'formats', 'spi', 'runtime', 'connectors'],
  other: ['grammar', 'plan', 'formats', 'spi', 'compiler', 'runtime', 'connectors', 'tooling', 'other'],
};

function violation(file: string, { target, typeOnly }: Import): string | undefined {
  const from = layerOf(file);
  const to = layerOf(target);
  if (!ALLOWED[from].includes(to)) return `${from} may not import ${to}`;
  // The compiler sees the connector interface as data: the option specs, nothing that runs.
  if (from === 'compiler' && to === 'spi' && !target.startsWith('src/spi/spec.ts')) return 'the compiler sees only connector specs';
  // Connectors and the runtime read the plan's shapes; the plan's code (validation, versions) is the loader's business.
  // The run-time form of decimals is the exception: connectors read and write such values.
  if (from === 'connectors' && to === 'plan' && !typeOnly && target !== 'src/plan/decimal.ts') return 'connectors import plan types only (and the decimal form)';
  // Inside the runtime: the worker side never reaches into the coordinator; cluster policies are pure.
  if (file.startsWith('runtime/worker/') && target.startsWith('runtime/coordinator/')) return 'the worker side may not import the coordinator';
  if (file.startsWith('runtime/cluster/') && to === 'runtime' && !target.startsWith('runtime/cluster/')) return 'cluster policies are pure';
  if (from === 'compiler') {
    const stage = STAGES.findIndex((s) => file.startsWith(s));
    const targetStage = STAGES.findIndex((s) => target.startsWith(s));
    if (stage >= 0 && targetStage > stage) return `stage ${STAGES[stage]} may not import the later stage ${STAGES[targetStage]}`;
    if (COMPILER_SHARED.some((s) => file.startsWith(s)) && targetStage >= 0) return 'shared compiler folders may not import a stage';
  }
  return undefined;
}

test('imports follow the direction of the data', (t) => {
  const files = ['grammar', 'src', 'runtime', 'connectors'].flatMap(sourceFiles);
  t.true(files.length > 100);
  const wrong = files.flatMap((file) => localImports(file).flatMap((i) => {
    const why = violation(file, i);
    return why ? [`${file} → ${i.target}: ${why}`] : [];
  }));
  t.deepEqual(wrong, []);
});

test('the rules reject imports that point the wrong way', (t) => {
  t.truthy(violation('runtime/coordinator/coordinator.ts', { target: 'connectors/registry.ts', typeOnly: false }));
  t.truthy(violation('connectors/kafka/source.ts', { target: 'runtime/coordinator/coordinator.ts', typeOnly: true }));
  t.truthy(violation('connectors/kafka/source.ts', { target: 'src/plan/validate.ts', typeOnly: false }));
  t.truthy(violation('src/check/check.ts', { target: 'src/spi/connector.ts', typeOnly: true }));
  t.truthy(violation('src/resolve/resolve.ts', { target: 'src/check/typed.ts', typeOnly: true }));
  t.truthy(violation('src/plan/plan.ts', { target: 'src/formats/schema.ts', typeOnly: true }));
  t.truthy(violation('src/formats/schema.ts', { target: 'runtime/stdlib.ts', typeOnly: false }));
  t.falsy(violation('src/lower/lower.ts', { target: 'src/codegen/codegen.ts', typeOnly: false }));
  t.falsy(violation('connectors/postgres/sink.ts', { target: 'src/formats/schema.ts', typeOnly: false }));
});
