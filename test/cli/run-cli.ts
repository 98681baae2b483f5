/** Runs the real `sensei` executable as a child process, the way a user does. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/sensei.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Tests run concurrently; more processes than cores only makes every one of them slower. */
const slots = { free: Math.max(2, availableParallelism()), waiting: [] as (() => void)[] };

export async function sensei(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  if (slots.free === 0) await new Promise<void>((go) => slots.waiting.push(go));
  else slots.free--;
  try {
    return await spawnCli(args, opts);
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free++;
  }
}

function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> }): Promise<CliResult> {
  // Colors only when a test asks for them: the runner may set FORCE_COLOR.
  const { FORCE_COLOR: _force, NO_COLOR: _no, ...env } = process.env;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: opts.cwd ?? ROOT, env: { ...env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh directory holding the given files. */
export async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-cli-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
