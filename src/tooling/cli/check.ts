/** `sensei check FILE…`: compile each file and report every diagnostic. */
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import { diagnosticsToJson, summaryLine } from '../../diagnostics/render.ts';
import { EXIT_FAILURE, EXIT_OK, report, uniqueDiagnostics } from './io.ts';
import type { OutputFormat } from './choices.ts';
import type { Io } from './io.ts';
import { compilePath } from './pipeline.ts';
import { checkAgainstRegistry } from '../host/registry-check.ts';
import { checkStateAgainst } from '../host/state-check.ts';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export async function checkCommand(paths: string[], opts: { format: OutputFormat; registry?: string; against?: string }, io: Io): Promise<number> {
  const diagnostics: Diagnostic[] = [];
  const files = new Map<string, string>();
  const old = opts.against === undefined ? undefined : await readPlan(opts.against, io);
  if (old === null) return EXIT_FAILURE;
  for (const path of paths) {
    const result = await compilePath(path);
    diagnostics.push(...result.diagnostics);
    // Sink schemas against the registry's subjects, before anything is deployed.
    if (opts.registry) diagnostics.push(...(await checkAgainstRegistry(result, opts.registry)));
    // Stateful operators against the state the deployed version keeps.
    if (old !== undefined) diagnostics.push(...checkStateAgainst(result, old, basename(opts.against!)));
    for (const [name, text] of result.files) files.set(name, text);
  }
  const unique = uniqueDiagnostics(diagnostics);
  if (opts.format === 'json') {
    const count = (severity: Diagnostic['severity']) => unique.filter((d) => d.severity === severity).length;
    const json = { diagnostics: diagnosticsToJson(unique), errors: count('error'), warnings: count('warning') };
    io.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else {
    report(io.stdout, unique, files, { summary: true });
    if (unique.length === 0) io.stdout.write(`${summaryLine(unique)}\n`);
  }
  return hasErrors(unique) ? EXIT_FAILURE : EXIT_OK;
}

/** The old plan's JSON; null (after saying why) when it cannot be read. */
async function readPlan(path: string, io: Io): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    io.stderr.write(`error: --against ${path}: ${(e as Error).message}\n`);
    return null;
  }
}
