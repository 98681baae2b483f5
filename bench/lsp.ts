/**
 * Language server latency: the time from an edit of a 1,000-line pipeline to
 * its new diagnostics, measured in process through the server's own path
 * (Analyzer.analyze, then the conversion to LSP diagnostics), plus hover and
 * completion on the result. Target: median re-check under 20 ms.
 *
 * Run alone with `npx tsx bench/lsp.ts`; `benchLsp()` returns the figures.
 */
import { builtinConnectorSpecs } from '../connectors/registry.ts';
import { Analyzer } from '../src/tooling/lsp/analysis.ts';
import { completionsAt } from '../src/tooling/lsp/completion.ts';
import { toLspDiagnostics } from '../src/tooling/lsp/diagnostics.ts';
import { hoverAt } from '../src/tooling/lsp/hover.ts';
import { PathMap } from '../src/tooling/lsp/paths.ts';

export interface LspBench {
  lines: number;
  edits: number;
  /** Edit → diagnostics, milliseconds. */
  recheckMedianMs: number;
  recheckP90Ms: number;
  /** CPU time of the re-check (this process): close to the wall time on an idle machine, steadier on a busy one. */
  recheckCpuMedianMs: number;
  hoverMedianMs: number;
  completionMedianMs: number;
  targetMs: number;
}

const TARGET_MS = 20;

/** A pipeline of about `lines` lines: one wide schema, one source, chains of streams, sinks. */
export function bigPipeline(lines: number): string {
  const out = ['pipeline big', 'schema Order doc "An order" {'];
  const fields = 40;
  for (let i = 0; i < fields; i++) out.push(`  f${i}: ${['string', 'long', 'double?', 'timestamp_millis', 'string?'][i % 5]}`);
  out.push('  status: enum Status { PAID, OPEN, FAILED }', '}', 'source orders: Order from datagen { partitions: 4, count: 100 }', '');
  let n = 0;
  while (out.length < lines - 8) {
    const input = n % 10 === 0 ? 'orders' : `s${n - 1}`;
    out.push(
      `stream s${n} = ${input}`,
      `  | where f1 > ${n} and status == "PAID" and (f2 ?? 0) < 1000.5`,
      `  | select { *, g${n}: upper(f0) }`,
      `  | key by f0`,
      '',
    );
    if (n % 10 === 9) out.push(`sink s${n} to stdout { format: json }`, '');
    n++;
  }
  out.push(`sink s${n - 1} to stdout { format: json }`);
  return out.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

export async function benchLsp(opts: { lines?: number; edits?: number } = {}): Promise<LspBench> {
  const lines = opts.lines ?? 1000;
  const edits = opts.edits ?? 60;
  const analyzer = new Analyzer(builtinConnectorSpecs());
  const paths = new PathMap();
  const path = '/bench/big.sensei';
  const base = bigPipeline(lines);
  const where = base.indexOf('where f1 > 0');
  const rechecks: number[] = [];
  const cpu: number[] = [];
  const hovers: number[] = [];
  const completions: number[] = [];
  // Warm up: the first parse builds the parser, the first check loads the library.
  await analyzer.analyze(path, 0, base, new Map());
  for (let version = 1; version <= edits; version++) {
    // A keystroke: the literal in one `where` changes.
    const text = base.slice(0, where) + `where f1 > ${version}` + base.slice(where + 'where f1 > 0'.length);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const analysis = await analyzer.analyze(path, version, text, new Map());
    toLspDiagnostics(analysis, { paths });
    rechecks.push(performance.now() - started);
    const used = process.cpuUsage(cpuStarted);
    cpu.push((used.user + used.system) / 1000);

    const h = performance.now();
    hoverAt(analysis, where + 7, analyzer.connectors);
    hovers.push(performance.now() - h);
    const c = performance.now();
    completionsAt(analysis, where + 6, analyzer.connectors);
    completions.push(performance.now() - c);
  }
  return {
    lines: base.split('\n').length - 1,
    edits,
    recheckMedianMs: round(median(rechecks)),
    recheckP90Ms: round(percentile(rechecks, 0.9)),
    recheckCpuMedianMs: round(median(cpu)),
    hoverMedianMs: round(median(hovers)),
    completionMedianMs: round(median(completions)),
    targetMs: TARGET_MS,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchLsp(), null, 2));
}
