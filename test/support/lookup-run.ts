// Runs a `datagen → lookup → file` pipeline through the real runtime (2 workers), for the lookup tests of the connectors.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordGenerator } from '../../connectors/datagen/generate.ts';
import { builtinConnectorSpecs, builtinEnvironment } from '../../connectors/registry.ts';
import { runPipeline, type PipelineSummary } from '../../runtime/index.ts';
import { recordNode } from '../../src/formats/schema.ts';
import { compile } from '../../src/compile.ts';

export const COUNT = 300;

/** The records datagen makes for `schema Order { id: string, customer_id: string }` (seed 0). */
export function generatedOrders(): { id: string; customer_id: string }[] {
  const gen = recordGenerator(recordNode({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }, { name: 'customer_id', type: 'string' }] }), 0);
  return Array.from({ length: COUNT }, (_, i) => gen.record(i) as { id: string; customer_id: string });
}

/** Records in a stable order, to compare runs whose partitions interleave. */
export function sorted<T>(records: T[]): T[] {
  return records.map((r) => JSON.stringify(r)).sort().map((l) => JSON.parse(l) as T);
}

export interface Enriched {
  id: string;
  customer_id: string;
  tier: string | null;
  rank: number | null;
}

/** Compiles and runs the pipeline with `lookup` (the operator text after `| `), returning the records written (sorted, and in file order). */
export async function runLookup(lookup: string, select = '{ id, customer_id, tier: customer?.tier, rank: customer?.rank }'): Promise<{ records: Enriched[]; written: Enriched[]; summary: PipelineSummary }> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-lookup-'));
  const out = join(dir, 'out.jsonl');
  try {
    const text = `pipeline lookup_run
schema Order { id: string, customer_id: string }
schema Customer { tier: string, rank: long }
source orders: Order from datagen { count: ${COUNT}, partitions: 4 }
stream enriched = orders
  | ${lookup}
  | select ${select}
sink enriched to file { path: ${JSON.stringify(out)} }
`;
    const r = compile({ entry: 'l.sensei', files: new Map([['l.sensei', text]]), connectors: builtinConnectorSpecs() });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0 || !r.plan) throw new Error(errors.map((d) => d.message).join('\n'));
    const summary = await runPipeline(r.plan, { env: builtinEnvironment(), workers: 2, batchSize: 50 });
    const records = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Enriched);
    return { records: sorted(records), written: records, summary };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
