/**
 * Finding and compiling the pipelines a daemon runs. Arguments are files or
 * directories; a directory contributes its `*.sensei` files, and those
 * without a source are libraries other files import, not pipelines.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectorSpecs } from '../../spi/spec.ts';
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import { renderDiagnostics } from '../../diagnostics/render.ts';
import { compileFile } from '../host/load.ts';
import type { Plan } from '../../plan/plan.ts';

export interface PipelineFile {
  path: string;
  /** Named on the command line or in `pipelines` (rather than found in a directory). */
  explicit: boolean;
}

export interface CompiledPipeline {
  name: string;
  path: string;
  plan: Plan;
  /** Every file the compilation read (the entry, imports, schemas) and its text: a change to any is a new version. */
  inputs: Map<string, string>;
}

export type CompileOutcome =
  | { ok: true; pipeline: CompiledPipeline | undefined; warnings: string }
  /** `report`: rendered diagnostics or a message, ready to print. */
  | { ok: false; report: string };

/** The pipeline files under the given paths, sorted; a path that does not exist is an error. */
export async function findPipelineFiles(paths: readonly string[]): Promise<PipelineFile[]> {
  const out = new Map<string, PipelineFile>();
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`pipeline path not found: ${path}`);
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => n.endsWith('.sensei')).sort();
      for (const n of names) {
        const file = join(path, n);
        if (!out.has(file)) out.set(file, { path: file, explicit: false });
      }
    } else {
      out.set(path, { path, explicit: true });
    }
  }
  return [...out.values()];
}

/**
 * Compiles one file. A file found in a directory that has no source is a
 * library (`pipeline: undefined`); one named explicitly is an error.
 */
export async function compilePipeline(file: PipelineFile, specs: ConnectorSpecs, color = false): Promise<CompileOutcome> {
  const result = await compileFile(file.path, specs);
  const rendered = renderDiagnostics(result.diagnostics, result.files, { color, summary: hasErrors(result.diagnostics) });
  if (hasErrors(result.diagnostics) || !result.plan) return { ok: false, report: rendered || `${file.path}: could not be compiled\n` };
  if (result.plan.sources.length === 0) {
    if (file.explicit) return { ok: false, report: `${file.path}: pipeline ${result.plan.pipeline} has no source, so there is nothing to run\n` };
    return { ok: true, pipeline: undefined, warnings: rendered };
  }
  return { ok: true, pipeline: { name: result.plan.pipeline, path: file.path, plan: result.plan, inputs: result.files }, warnings: rendered };
}

/**
 * The current texts of a compiled pipeline's inputs, joined, when any of them
 * changed on disk (or disappeared); undefined when none did.
 */
export async function changedInputs(p: CompiledPipeline): Promise<string | undefined> {
  const was = [...p.inputs.values()];
  const now = await Promise.all([...p.inputs.keys()].map((path) => readFile(path, 'utf8').catch(() => '\u0000missing')));
  return now.some((text, i) => text !== was[i]) ? now.join('\u0000') : undefined;
}
