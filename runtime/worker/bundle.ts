/**
 * Workers start from one plain-JavaScript file: the worker and its lib
 * bundled by esbuild (the one tsx itself runs on) into the temp directory
 * (writable in containers with a read-only root file system), one folder per
 * installation, with the connector environment's worker module (loaded
 * only when a worker needs a connector). The packages the bundle leaves out
 * (the environment's `sharedPackages`, such as kafkajs, and native addons
 * loaded at run time) resolve through a `node_modules` link in that
 * folder to the installation's own, so they are the very modules the main
 * thread loads. Starting a worker through tsx instead costs about 0.5 s of CPU (a loader
 * thread and a transform per module); from the bundle it costs about 60 ms,
 * which matters when the autoscaler adds workers under load. A bundle is
 * reused by later runs while none of its input files changed (size and
 * modification time), so `sensei run` pays the build once.
 *
 * Without esbuild, or for a lib that is not a file, the caller falls back to
 * entry.mjs, which registers tsx in the worker.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { InitMessage } from './wire.ts';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Esbuild {
  buildSync(options: object): { outputFiles: { text: string }[]; metafile: { inputs: Record<string, unknown> } };
}

/** What a bundle was built from: input path → size and modification time. */
type Manifest = { bundle: string; inputs: Record<string, string> };

/** The node_modules folder this installation resolves its packages from: the nearest one above this file. */
const NODE_MODULES = nearestNodeModules(fileURLToPath(new URL('.', import.meta.url)));
const DIR = join(tmpdir(), 'sensei-workers', createHash('sha256').update(NODE_MODULES).digest('hex').slice(0, 16));
const built = new Map<string, URL | undefined>();

/** What a bundle holds besides the worker: the chains' lib, and the environment's worker module with the packages it leaves to node_modules. */
export interface BundleInputs {
  libModule: string;
  environment: InitMessage['environment'];
}

/** The entry URL of a bundled worker with these inputs built in, or undefined when it cannot be bundled. */
export function bundledWorker(inputs: BundleInputs): URL | undefined {
  const key = JSON.stringify(inputs);
  const files = [inputs.libModule, inputs.environment.module ?? 'file:'].every((m) => m.startsWith('file:'));
  if (!built.has(key)) built.set(key, files ? reuse(key) ?? build(key, inputs) : undefined);
  return built.get(key);
}

function nearestNodeModules(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return realpathSync(join(d, 'node_modules'));
    if (dirname(d) === d) return join(dir, 'node_modules');
  }
}

function stamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function manifestPath(inputsKey: string): string {
  const key = createHash('sha256').update(`${fileURLToPath(import.meta.url)}\n${inputsKey}`).digest('hex').slice(0, 16);
  return join(DIR, `manifest-${key}.json`);
}

function reuse(inputsKey: string): URL | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath(inputsKey), 'utf8')) as Manifest;
    if (!existsSync(manifest.bundle)) return undefined;
    for (const [path, was] of Object.entries(manifest.inputs)) if (stamp(path) !== was) return undefined;
    linkNodeModules();
    return pathToFileURL(manifest.bundle);
  } catch {
    return undefined;
  }
}

function build(inputsKey: string, inputs: BundleInputs): URL | undefined {
  let esbuild: Esbuild;
  try {
    // esbuild as tsx resolves it: tsx depends on it, so it is there whenever tsx is.
    esbuild = createRequire(fileURLToPath(import.meta.resolve('tsx')))('esbuild') as Esbuild;
  } catch {
    return undefined;
  }
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const lib = fileURLToPath(inputs.libModule);
  const module = inputs.environment.module;
  // The environment module is imported lazily: esbuild keeps a dynamic import's module unevaluated until it is called.
  const environment = module ? `, environment: () => import(${JSON.stringify(fileURLToPath(module))})` : '';
  const options = {
    stdin: {
      contents: `import { stdlib } from ${JSON.stringify(lib)};\nimport { startWorker } from ${JSON.stringify(worker)};\nstartWorker({ lib: stdlib${environment} });\n`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
      sourcefile: 'sensei-worker.ts',
    },
    bundle: true,
    external: inputs.environment.sharedPackages,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // CommonJS packages (avsc) call require(); ES modules have none of their own.
    banner: { js: "import { createRequire as __senseiRequire } from 'node:module'; const require = __senseiRequire(import.meta.url);" },
  };
  let result: ReturnType<Esbuild['buildSync']>;
  try {
    result = esbuild.buildSync(options);
  } catch (e) {
    throw new Error(`cannot build the worker with lib ${inputs.libModule}: ${(e as Error).message}`);
  }
  const text = result.outputFiles[0]!.text;
  const bundle = join(DIR, `worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  const stamps: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(input);
    const s = stamp(path);
    if (s) stamps[path] = s;
  }
  try {
    mkdirSync(DIR, { recursive: true });
    linkNodeModules();
    if (!existsSync(bundle)) writeAtomically(bundle, text);
    writeAtomically(manifestPath(inputsKey), JSON.stringify({ bundle, inputs: stamps } satisfies Manifest));
  } catch {
    // No writable temp directory: workers start through tsx instead.
    return undefined;
  }
  return pathToFileURL(bundle);
}

/** `DIR/node_modules` → the installation's node_modules (another process may have made it first). */
function linkNodeModules(): void {
  const link = join(DIR, 'node_modules');
  try {
    symlinkSync(NODE_MODULES, link, 'dir');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Write then rename: concurrent runs never read a half-written file. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
