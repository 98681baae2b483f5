/**
 * Test harness for the semantic stages: pipeline text → parse → resolve →
 * check, with ⟦…⟧ markers in the text for the spans diagnostics must have.
 */
import type { ExecutionContext } from 'ava';
import type { ConnectorSpec, ConnectorSpecs } from '../../src/spi/spec.ts';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.ts';
import { textToAst } from '../../src/syntax/parse.ts';
import { MISSING_FILE, resolveProgram, type ResolvedProgram } from '../../src/resolve/resolve.ts';
import { checkProgram } from '../../src/check/check.ts';
import type { TypedExpr, TypedProgram, TypedStream } from '../../src/check/typed.ts';
import { typeToString } from '../../src/types/type-utils.ts';
import type { SourceFile } from '../../src/syntax/ast.ts';

const spec = (s: ConnectorSpec): [string, ConnectorSpec] => [s.name, s];

/** A small registry of connectors, enough for option checks. */
export const SPECS: ConnectorSpecs = new Map([
  spec({
    name: 'datagen', doc: 'Generated records', roles: ['source'], options: [
      { name: 'partitions', type: 'int', doc: 'partitions', default: 1, min: 1, max: 1024 },
      { name: 'rate', type: 'number', doc: 'records per second' },
      { name: 'count', type: 'int', doc: 'records in total', min: 0 },
      { name: 'seed', type: 'int', doc: 'random seed' },
    ],
  }),
  spec({ name: 'stdout', doc: 'Standard output', roles: ['sink'], options: [{ name: 'format', type: 'enum', doc: 'format', values: ['json', 'avro-json', 'table'], default: 'json' }] }),
  spec({
    name: 'file', doc: 'A file', roles: ['sink', 'dead-letter', 'source'], options: [
      { name: 'path', type: 'string', doc: 'file path', required: true },
      { name: 'flush', type: 'duration', doc: 'flush interval', default: '1s' },
    ],
  }),
  spec({
    name: 'kafka', doc: 'Kafka', roles: ['source', 'sink'], partitionedByServer: true, options: [
      { name: 'topic', type: 'string', doc: 'the topic', required: true },
      { name: 'brokers', type: 'string-list', doc: 'bootstrap brokers', default: ['localhost:9092'] },
      { name: 'acks', type: 'enum', doc: 'acks', values: ['all', 'leader', 'none'] },
      { name: 'linger', type: 'duration', doc: 'linger', max: 60000 },
      { name: 'idempotent', type: 'boolean', doc: 'idempotent producer' },
    ],
  }),
]);

/** Strips ⟦ ⟧ markers; returns the text and the marked ranges as offsets. */
export function markers(text: string): { text: string; marks: { start: number; end: number }[] } {
  const marks: { start: number; end: number }[] = [];
  let out = '';
  const open: number[] = [];
  for (const ch of text) {
    if (ch === '⟦') open.push(out.length);
    else if (ch === '⟧') marks.push({ start: open.pop()!, end: out.length });
    else out += ch;
  }
  return { text: out, marks };
}

export interface Checked {
  text: string;
  marks: { start: number; end: number }[];
  diagnostics: Diagnostic[];
  resolved?: ResolvedProgram;
  typed?: TypedProgram;
  needs: string[];
}

export const SCHEMA = `
schema Customer {
  id: string
  name: string?
  country: string?
  tier: enum Tier { GOLD, SILVER, BRONZE } = "GOLD"
  address: record Address { city: string, zip: string? }?
  home: Address
}
schema Order {
  id: string
  customer_id: string
  status: enum Status { PAID, OPEN, FAILED }
  amount: decimal(12, 2)
  qty: int
  total: long
  price: double
  ratio: float
  created_at: timestamp_millis
  updated_at: timestamp_micros?
  day: date
  note: string?
  items: array<record Item { sku: string, qty: int, price: double? }>
  tags: array<string>?
  attrs: map<long>
  customer: Customer?
  payload: string
  raw: bytes
  paid: boolean?
  ref: uuid
}
source orders: Order from datagen { count: 10 }
`;

/**
 * Parses, resolves and checks `entry` (with ⟦…⟧ markers) plus other files
 * (path → text; MISSING_FILE for files that do not exist).
 */
export function check(entry: string, files: Record<string, string> = {}, entryPath = 'main.sensei'): Checked {
  const { text, marks } = markers(entry);
  const all = new Map<string, string>([[entryPath, text], ...Object.entries(files)]);
  const diagnostics: Diagnostic[] = [];
  const asts = new Map<string, SourceFile>();
  const parse = (path: string) => {
    const cached = asts.get(path);
    if (cached) return cached;
    const t = all.get(path);
    if (t === undefined || t === MISSING_FILE) return undefined;
    const r = textToAst(path, t);
    diagnostics.push(...r.diagnostics);
    asts.set(path, r.ast);
    return r.ast;
  };
  const r = resolveProgram(parse(entryPath)!, { ast: parse, text: (p) => all.get(p) });
  diagnostics.push(...r.diagnostics);
  if (!r.resolved) return { text, marks, diagnostics, needs: r.needs };
  const c = checkProgram(r.resolved, SPECS);
  diagnostics.push(...c.diagnostics);
  return { text, marks, diagnostics, resolved: r.resolved, needs: r.needs, ...(c.typed ? { typed: c.typed } : {}) };
}

/** A stream of the typed program, which must exist. */
export function stream(c: Checked, name: string): TypedStream {
  const s = c.typed?.streams.find((x) => x.name === name);
  if (!s) throw new Error(`no typed stream ${name}; diagnostics: ${c.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ')}`);
  return s;
}

/** `code @ start-end: message` lines, for readable assertions. */
export function summary(c: Checked): string[] {
  return c.diagnostics.map((d) => `${d.code} @ ${d.span.start.offset}-${d.span.end.offset}: ${d.message}`);
}

/** Checks `expr` as the only field of a select over `orders` (see SCHEMA). */
export function checkExpr(expr: string): Checked & { value?: TypedExpr; type?: string } {
  const c = check(`pipeline p\n${SCHEMA}\nstream s = orders | select { v: ${expr} }\nsink s to stdout\n`);
  const op = c.typed?.streams.find((x) => x.name === 's')?.operators[0];
  if (op?.kind !== 'select') return c;
  return { ...c, value: op.fields[0]!.value, type: typeToString(op.fields[0]!.value.type) };
}

/** Asserts a diagnostic with `code` whose span is the `n`th marked range; returns it. */
export function expectDiagnostic(t: ExecutionContext, c: Checked, code: string, n = 0): Diagnostic {
  const found = c.diagnostics.filter((d) => d.code === code);
  const mark = c.marks[n];
  if (!mark) throw new Error('the source has no ⟦…⟧ marker');
  const d = found.find((x) => x.span.start.offset === mark.start && x.span.end.offset === mark.end);
  t.truthy(d, `expected ${code} at ${JSON.stringify(c.text.slice(mark.start, mark.end))} (${mark.start}-${mark.end}); got:\n${summary(c).join('\n')}`);
  return d!;
}

/** Asserts there are no diagnostics with severity error. */
export function expectClean(t: ExecutionContext, c: Checked): void {
  t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}`), []);
}

/** Applies a diagnostic's first fix to the (marker-free) text. */
export function applyFix(c: Checked, d: Diagnostic): string {
  const fix = d.fixes?.[0];
  if (!fix) throw new Error(`${d.code} has no fix`);
  return c.text.slice(0, fix.span.start.offset) + fix.replacement + c.text.slice(fix.span.end.offset);
}
