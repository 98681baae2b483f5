/** `sensei graph FILE --format dot|mermaid|svg [-o FILE]`. */
import { writeFile } from 'node:fs/promises';
import { graphToDot, graphToMermaid, graphToSvg } from '../../graph/render-graph.ts';
import { EXIT_FAILURE, EXIT_OK } from './io.ts';
import type { GraphFormat } from './choices.ts';
import type { Io } from './io.ts';
import { compileToPlan } from './pipeline.ts';

export async function graphCommand(
  path: string,
  opts: { format: GraphFormat; output?: string },
  io: Io,
): Promise<number> {
  const compiled = await compileToPlan(path, io);
  if (!compiled) return EXIT_FAILURE;
  const { graph, pipeline } = compiled.plan;
  const text =
    opts.format === 'svg'
      ? await graphToSvg(graph, { name: pipeline })
      : opts.format === 'mermaid'
        ? graphToMermaid(graph)
        : graphToDot(graph, { name: pipeline });
  if (opts.output === undefined) io.stdout.write(text);
  else await writeFile(opts.output, text);
  return EXIT_OK;
}
