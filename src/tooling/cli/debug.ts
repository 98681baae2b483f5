/**
 * `sensei debug STAGE FILE`: dumps the output of any compiler stage. A stage
 * that produced output is dumped even when diagnostics have errors (exit 1).
 * Passwords in URLs are masked, as in every plan the CLI writes.
 */
import { textToAst, textToTokens } from '../../syntax/parse.ts';
import { hasErrors } from '../../diagnostics/diagnostic.ts';
import type { Diagnostic } from '../../diagnostics/diagnostic.ts';
import type { PlanChain } from '../../plan/plan.ts';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';
import { EXIT_FAILURE, EXIT_OK, readInput, report, toJson } from './io.ts';
import type { DebugStage } from './choices.ts';
import type { Io } from './io.ts';
import { compilePath } from './pipeline.ts';

export async function debugCommand(stage: DebugStage, path: string, io: Io): Promise<number> {
  if (stage === 'tokens' || stage === 'ast') {
    const text = await readInput(path);
    let dump: unknown;
    let diagnostics: Diagnostic[];
    if (stage === 'tokens') ({ tokens: dump, diagnostics } = textToTokens(path, text));
    else ({ ast: dump, diagnostics } = textToAst(path, text));
    report(io.stderr, diagnostics, new Map([[path, text]]));
    io.stdout.write(maskUrlPasswords(toJson(dump)));
    return hasErrors(diagnostics) ? EXIT_FAILURE : EXIT_OK;
  }
  const result = await compilePath(path);
  report(io.stderr, result.diagnostics, result.files);
  const output = stage === 'code' ? result.plan : result[stage];
  if (output === undefined) {
    io.stderr.write(`no ${stage} output: the earlier stages reported errors\n`);
    return EXIT_FAILURE;
  }
  io.stdout.write(maskUrlPasswords(stage === 'code' ? result.plan!.chains.map(chainSource).join('\n') : toJson(output)));
  return hasErrors(result.diagnostics) ? EXIT_FAILURE : EXIT_OK;
}

/** A chain as the runtime instantiates it: `new Function('lib', code)`. */
function chainSource(chain: PlanChain): string {
  const body = chain.code.trim().split('\n').map((line) => (line === '' ? line : `  ${line}`)).join('\n');
  return `// chain ${chain.source} -> ${chain.sinks.join(', ') || '(no sinks)'}\nfunction chain(lib) {\n${body}\n}\n`;
}
