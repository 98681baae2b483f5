/**
 * Workers start from one plain-JavaScript file: the worker and its lib
 * bundled by esbuild (the one tsx itself runs on) into the temp directory
 * (writable in containers with a read-only root file system), one folder per
 * installation. The packages the bundle leaves out (kafkajs, and native
 * addons loaded at run time) resolve through a `node_modules` link in that
 * folder to the installation's own, so they are the very modules the main
 * thread loads. Starting a worker through tsx instead costs about 0.5 s of CPU (a loader
 * thread and a transform per module); from the bundle it costs about 60 ms,
 * which matters when the autoscaler adds workers under load. A bundle is
 * reused by later runs while none of its input files changed (size and
 * modification time), so `sensei run` pays the build once.
 *
 * Without esbuild, or for a lib that is not a file, the caller falls back to
 * worker-entry.mjs, which registers tsx in the worker.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Esbuild {
  buildSync(options: object): { outputFiles: { text: string }[]; metafile: { inputs: Record<string, unknown> } };
}

/** What a bundle was built from: input path → size and modification time. */
type Manifest = { bundle: string; inputs: Record<string, string> };

/** The node_modules folder this installation resolves its packages from (the one holding kafkajs). */
const KAFKAJS_ENTRY = createRequire(import.meta.url).resolve('kafkajs');
const NODE_MODULES = KAFKAJS_ENTRY.slice(0, KAFKAJS_ENTRY.lastIndexOf(`${sep}kafkajs${sep}`));
const DIR = join(tmpdir(), 'sensei-workers', createHash('sha256').update(NODE_MODULES).digest('hex').slice(0, 16));
/**
 * Packages the bundle imports from node_modules instead of containing them:
 * kafkajs, whose Produce encoder connectors/kafka/produce-request.ts
 * replaces in Node's module cache. (Native addons, which esbuild cannot
 * bundle, are loaded with `createRequire` at run time and never seen by it.)
 */
const EXTERNAL_PACKAGES = ['kafkajs'];
const built = new Map<string, URL | undefined>();

/** The entry URL of a bundled worker with `libModule` built in, or undefined when it cannot be bundled. */
export function bundledWorker(libModule: string): URL | undefined {
  if (!built.has(libModule)) built.set(libModule, libModule.startsWith('file:') ? reuse(libModule) ?? build(libModule) : undefined);
  return built.get(libModule);
}

function stamp(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function manifestPath(libModule: string): string {
  const key = createHash('sha256').update(`${fileURLToPath(import.meta.url)}\n${libModule}`).digest('hex').slice(0, 16);
  return join(DIR, `manifest-${key}.json`);
}

function reuse(libModule: string): URL | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath(libModule), 'utf8')) as Manifest;
    if (!existsSync(manifest.bundle)) return undefined;
    for (const [path, was] of Object.entries(manifest.inputs)) if (stamp(path) !== was) return undefined;
    linkNodeModules();
    return pathToFileURL(manifest.bundle);
  } catch {
    return undefined;
  }
}

function build(libModule: string): URL | undefined {
  let esbuild: Esbuild;
  try {
    // esbuild as tsx resolves it: tsx depends on it, so it is there whenever tsx is.
    esbuild = createRequire(fileURLToPath(import.meta.resolve('tsx')))('esbuild') as Esbuild;
  } catch {
    return undefined;
  }
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const lib = fileURLToPath(libModule);
  const options = {
    stdin: {
      contents: `import { stdlib } from ${JSON.stringify(lib)};\nimport { startWorker } from ${JSON.stringify(worker)};\nstartWorker(stdlib);\n`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
      sourcefile: 'sensei-worker.ts',
    },
    bundle: true,
    external: EXTERNAL_PACKAGES,
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
    throw new Error(`cannot build the worker with lib ${libModule}: ${(e as Error).message}`);
  }
  const text = result.outputFiles[0]!.text;
  const bundle = join(DIR, `worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(input);
    const s = stamp(path);
    if (s) inputs[path] = s;
  }
  try {
    mkdirSync(DIR, { recursive: true });
    linkNodeModules();
    if (!existsSync(bundle)) writeAtomically(bundle, text);
    writeAtomically(manifestPath(libModule), JSON.stringify({ bundle, inputs } satisfies Manifest));
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
