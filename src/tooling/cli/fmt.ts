/** `sensei fmt FILE… [--check] [--write]`. */
import { writeFile } from 'node:fs/promises';
import { formatText } from '../../format/format.ts';
import { EXIT_FAILURE, EXIT_OK, readInput, report } from './io.ts';
import type { Io } from './io.ts';

export async function fmtCommand(paths: string[], opts: { check?: boolean; write?: boolean }, io: Io): Promise<number> {
  let failed = false;
  const unformatted: string[] = [];
  for (const path of paths) {
    const text = await readInput(path);
    const result = formatText(path, text);
    report(io.stderr, result.diagnostics, new Map([[path, text]]));
    if (result.text === undefined) {
      failed = true;
      continue;
    }
    if (opts.check) {
      if (result.text !== text) unformatted.push(path);
    } else if (opts.write) {
      if (result.text !== text) {
        await writeFile(path, result.text);
        io.stderr.write(`formatted ${path}\n`);
      }
    } else {
      io.stdout.write(result.text);
    }
  }
  if (unformatted.length > 0) {
    io.stdout.write(unformatted.map((p) => `${p}\n`).join(''));
    io.stderr.write(`${unformatted.length} file${unformatted.length === 1 ? ' needs' : 's need'} formatting (run sensei fmt --write)\n`);
  }
  return failed || unformatted.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
