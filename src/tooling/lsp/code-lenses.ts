/**
 * Code lenses on a pipeline's first line: run it (when it has a sink: a file
 * that only declares schemas and streams for others to import has nothing to
 * run), run its unit tests (when `X.test.yaml` is beside it), show its
 * graph. They invoke commands of the editor extension (protocol.ts).
 */
import { access } from 'node:fs/promises';
import type { CodeLens, Range } from 'vscode-languageserver';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './diagnostics.ts';
import { COMMANDS } from './protocol.ts';

export async function codeLenses(a: Analysis, uri: string): Promise<CodeLens[]> {
  const start = a.ast.pipeline ? spanToRange(a.ast.pipeline.span).start : { line: 0, character: 0 };
  const range: Range = { start: { line: start.line, character: 0 }, end: { line: start.line, character: 0 } };
  const lens = (title: string, command: string): CodeLens => ({ range, command: { title, command, arguments: [uri] } });
  const tests = a.path.replace(/\.sensei$/, '.test.yaml');
  const hasTests = tests !== a.path && (await access(tests).then(() => true, () => false));
  return [
    ...(a.ast.declarations.some((d) => d.kind === 'sink') ? [lens('Run pipeline', COMMANDS.runPipeline)] : []),
    ...(hasTests ? [lens('Run tests', COMMANDS.runTests)] : []),
    lens('Show graph', COMMANDS.showGraph),
  ];
}
