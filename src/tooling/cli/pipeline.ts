/** Compiling a pipeline file named on the command line, for every command that needs a plan. */
import { builtinConnectorSpecs } from '../../../connectors/registry.ts';
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import { compileFile } from '../host/load.ts';
import type { Plan } from '../../plan/plan.ts';
import { report, requireFile } from './io.ts';
import type { Io } from './io.ts';

export type Compiled = Awaited<ReturnType<typeof compileFile>>;

/** Compiles without reporting; a missing entry file is a usage error. */
export async function compilePath(path: string): Promise<Compiled> {
  await requireFile(path);
  return compileFile(path, builtinConnectorSpecs());
}

/**
 * Compiles and reports diagnostics on stderr; returns the result only when
 * there are no errors and a plan came out.
 */
export async function compileToPlan(path: string, io: Io): Promise<(Compiled & { plan: Plan }) | undefined> {
  const result = await compilePath(path);
  report(io.stderr, result.diagnostics, result.files);
  if (hasErrors(result.diagnostics) || !result.plan) return undefined;
  return result as Compiled & { plan: Plan };
}
