/**
 * `sensei compile FILE -o DIR`: the plan and the inferred Avro schemas,
 * written to disk. The written plan shows URLs with their passwords masked:
 * plans are artifacts that get copied and stored, and a password belongs in
 * the environment (`password-in-url` warns about it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';
import { EXIT_FAILURE, EXIT_OK } from './io.ts';
import type { Io } from './io.ts';
import { compileToPlan } from './pipeline.ts';

export async function compileCommand(path: string, opts: { outDir: string }, io: Io): Promise<number> {
  const compiled = await compileToPlan(path, io);
  if (!compiled) return EXIT_FAILURE;
  const schemaDir = join(opts.outDir, 'schemas');
  await mkdir(schemaDir, { recursive: true });
  await writeFile(join(opts.outDir, 'plan.json'), maskUrlPasswords(JSON.stringify(compiled.plan, null, 2)) + '\n');
  const names = Object.keys(compiled.schemas);
  for (const name of names) {
    await writeFile(join(schemaDir, `${schemaFileName(name)}.avsc`), JSON.stringify(compiled.schemas[name], null, 2) + '\n');
  }
  io.stderr.write(`wrote ${join(opts.outDir, 'plan.json')} and ${names.length} schema${names.length === 1 ? '' : 's'} in ${schemaDir}\n`);
  return EXIT_OK;
}

/** Stream names are identifiers but sink ids hold `:`; keep file names portable and inside the directory. */
export function schemaFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
}
