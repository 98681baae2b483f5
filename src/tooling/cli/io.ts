/**
 * What every command shares: output streams and color, exit codes, reading
 * input files, compiling with diagnostics rendered at the edge.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import { renderDiagnostics } from '../../diagnostics/render.ts';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';

export const EXIT_OK = 0;
/** Diagnostics with errors, failed checks or tests, a pipeline that failed. */
export const EXIT_FAILURE = 1;
/** Bad flags, missing arguments, input files that do not exist. */
export const EXIT_USAGE = 2;

/** A mistake in the invocation rather than in the pipeline: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Output {
  write(text: string): void;
  /** ANSI colors are wanted on this stream. */
  color: boolean;
  isTTY: boolean;
}

export interface Io {
  stdout: Output;
  stderr: Output;
}

/**
 * `--color`/`--no-color` win; otherwise `NO_COLOR` turns colors off and
 * `FORCE_COLOR` on (the usual conventions), and a terminal gets colors.
 * What a command says on stderr (errors, status, summaries) shows no URL's
 * password; stdout is written as given, since it may carry a sink's records.
 */
export function createIo(colorFlag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): Io {
  const output = (stream: NodeJS.WriteStream, filter: (text: string) => string = (text) => text): Output => {
    const isTTY = stream.isTTY === true;
    const color =
      colorFlag ??
      (env.NO_COLOR !== undefined && env.NO_COLOR !== ''
        ? false
        : env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
          ? true
          : isTTY);
    return { write: (text) => void stream.write(filter(text)), color, isTTY };
  };
  return { stdout: output(process.stdout), stderr: output(process.stderr, maskUrlPasswords) };
}

/** Reads an input file named on the command line; a missing one is a usage error. */
export async function readInput(path: string): Promise<string> {
  await requireFile(path);
  return readFile(path, 'utf8');
}

export async function requireFile(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`file not found: ${path}`);
  if (!info.isFile()) throw new UsageError(`not a file: ${path}`);
}

/** Writes rendered diagnostics (nothing when there are none). */
export function report(
  out: Output,
  diagnostics: readonly Diagnostic[],
  files: ReadonlyMap<string, string>,
  opts: { summary?: boolean } = {},
): void {
  const text = renderDiagnostics(diagnostics, files, { color: out.color, summary: opts.summary ?? hasErrors(diagnostics) });
  if (text !== '') out.write(text);
}

/** The same problem reached through two entry files is reported once. */
export function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.code, d.message, d.span.file, d.span.start.offset, d.span.end.offset]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** JSON for stage dumps: Maps and Sets become objects and arrays, bigints strings. */
export function toJson(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_key, v: unknown) =>
        v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : typeof v === 'bigint' ? v.toString() : v,
      2,
    ) + '\n'
  );
}
