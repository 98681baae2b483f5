/**
 * Pipeline unit tests (`sensei test`): a `NAME.test.yaml` file beside
 * `NAME.sensei` lists cases, each with input records per source and the
 * records expected per sink (and, optionally, the dead letters or the
 * failure expected). Cases run in process, deterministically, through the
 * same batch code as the worker threads (batch.ts); records make the same
 * Avro round trip they make in a real run.
 *
 * ```yaml
 * cases:
 *   - name: only paid orders pass
 *     input:
 *       orders:                      # source name → records (JSON form), or { file: path }
 *         - { id: o1, status: PAID, amount: 12.5, created_at: "2024-05-01T10:00:00Z" }
 *     expect:
 *       paid:                        # stream name or sink id → records, in order
 *         - { order_id: o1, amount_cents: 1250 }
 *     dead_letters:                  # optional; fields given must match (reason: substring)
 *       - { operator: "paid/0:where", reason: "division" }
 *     unordered: true                # optional: compare records as multisets
 *     end_of_input: false            # optional: the input does not end (windows still open stay open)
 *     error: "division by zero"      # optional: the run must fail with this message
 *     lookups:                       # optional: what each `lookup` finds, by its name (or operator id)
 *       customer:                    #   key → result record (JSON form), null for a key without one
 *         c1: { tier: GOLD }
 *         c2: null
 * ```
 * Input records are grouped into batches of consecutive records of one
 * partition (by the source's `key` and `partitions` options), so output
 * order follows input order. A chain with stateful operators (`dedupe`,
 * `group by`) takes one record per batch, so the watermark moves after
 * each record as the file lists them, and a record behind it is late. When
 * the input ends, every window closes and emits (unless `end_of_input:
 * false`).
 *
 * A repartitioned `group by` gets the records its exchange would: the
 * upstream chain runs first (one record per batch too), and what it wrote
 * to the exchange, watermarks included, is the exchange chain's input.
 *
 * Cases run offline, so a `lookup` does not query its server: it finds what
 * the file's `lookups:` give (a top-level `lookups:` for every case, which
 * a case's own entries extend), behind no cache; a key the file does not
 * list fails the case, so a test never passes on a result it did not state.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument, visit } from 'yaml';
import { TaskOperators } from '../operators/task-operators.ts';
import type { Plan, PlanLookup, PlanSource } from '../../src/plan/plan.ts';
import { partitionOf } from '../../src/formats/partitioner.ts';
import { avroType, decodeRecords, isNullSchema, RecordEncoder } from '../../src/formats/avro-codec.ts';
import { BatchRunner, taskTime, type BatchInput, type BatchResult } from '../worker/batch.ts';
import { fromJson, toJson } from '../../src/formats/json-codec.ts';
import { recordNode, schemaNode } from '../../src/formats/schema.ts';
import { stdlib } from '../stdlib.ts';
import type { EncodedOutput } from '../worker/wire.ts';
import { hasManyDigits, LosslessNumber, parseJson, parseJsonValue, stringifyJson } from '../../src/formats/json-text.ts';
import { isDecimalText } from '../../src/plan/decimal.ts';
import { longValue } from '../../src/formats/long.ts';

export interface PipelineTestFile {
  /** Where the file is: messages name it, input files are relative to it. */
  path: string;
  cases: TestCase[];
}

export interface TestCase {
  name: string;
  input: Record<string, unknown[] | { file: string }>;
  expect: Record<string, unknown[]>;
  deadLetters?: Record<string, unknown>[];
  unordered: boolean;
  /** The input ends after the records (default): every window still open closes. */
  endOfInput: boolean;
  error?: string;
  /** Lookup name (or operator id) → key, as text → result record in JSON form, or null. */
  lookups?: Record<string, Record<string, unknown>>;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  /** Readable explanations, one per mismatch (a diff of records). */
  failures: string[];
  /** What each sink got, by sink id, in JSON form. */
  outputs: Record<string, unknown[]>;
  deadLetters: Record<string, unknown>[];
}

export interface TestFileResult {
  path: string;
  pipeline: string;
  passed: boolean;
  cases: CaseResult[];
}

export interface RunTestsOptions {
  /** The `lib` handed to chains (default: runtime/stdlib.ts). */
  lib?: unknown;
}

/** A test file that does not have the expected shape. */
export class TestFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TestFileError';
  }
}

/**
 * YAML (or JSON) with numbers kept exact: integers past 2^53 as bigints
 * (longs), other numbers of 16 digits or more as their text (wide
 * decimals), in inputs and expectations; fromJson reads both by the schema.
 */
function parseExactYaml(text: string): unknown {
  const doc = parseDocument(text, { intAsBigInt: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'number' && typeof node.source === 'string' && hasManyDigits(node.source) && isDecimalText(node.source)) node.value = new LosslessNumber(node.source);
    },
  });
  return doc.toJS({ reviver: (_key, v) => (typeof v === 'bigint' ? (longValue(v) ?? v) : v) });
}

export function parseTestFile(text: string, path: string): PipelineTestFile {
  let doc: unknown;
  try {
    doc = parseExactYaml(text);
  } catch (e) {
    throw new TestFileError(`${path}: ${(e as Error).message}`);
  }
  const fail = (where: string, what: string): never => {
    throw new TestFileError(`${path}: ${where} ${what}`);
  };
  if (!isObject(doc) || !Array.isArray(doc.cases)) return fail('the file', 'must have a `cases:` list');
  const lookupResults = (value: unknown, at: string): NonNullable<TestCase['lookups']> => {
    if (value === undefined) return {};
    if (!isObject(value) || !Object.values(value).every(isObject)) return fail(at, 'must map lookup names to mappings of keys to result records');
    for (const [name, results] of Object.entries(value as Record<string, Record<string, unknown>>)) {
      for (const [key, result] of Object.entries(results)) if (result !== null && !isObject(result)) fail(`${at}.${name}.${key}`, 'must be a record or null');
    }
    return value as NonNullable<TestCase['lookups']>;
  };
  const shared = lookupResults(doc.lookups, 'lookups');
  const cases = doc.cases.map((c, i): TestCase => {
    const at = `cases[${i}]`;
    if (!isObject(c)) return fail(at, 'must be a mapping');
    const name = typeof c.name === 'string' ? c.name : `case ${i + 1}`;
    const input = c.input ?? {};
    if (!isObject(input)) return fail(`${at}.input`, 'must map source names to lists of records');
    for (const [source, records] of Object.entries(input)) {
      if (!Array.isArray(records) && !(isObject(records) && typeof records.file === 'string')) {
        fail(`${at}.input.${source}`, 'must be a list of records or { file: path }');
      }
    }
    const expect = c.expect ?? {};
    if (!isObject(expect)) return fail(`${at}.expect`, 'must map stream names (or sink ids) to lists of records');
    for (const [sink, records] of Object.entries(expect)) {
      if (!Array.isArray(records)) fail(`${at}.expect.${sink}`, 'must be a list of records');
    }
    const dl = c.dead_letters;
    if (dl !== undefined && (!Array.isArray(dl) || !dl.every(isObject))) fail(`${at}.dead_letters`, 'must be a list of mappings');
    if (c.error !== undefined && typeof c.error !== 'string') fail(`${at}.error`, 'must be a string');
    if (c.end_of_input !== undefined && typeof c.end_of_input !== 'boolean') fail(`${at}.end_of_input`, 'must be true or false');
    const own = lookupResults(c.lookups, `${at}.lookups`);
    const lookups = { ...shared };
    for (const [name, results] of Object.entries(own)) lookups[name] = { ...shared[name], ...results };
    return {
      name,
      input: input as TestCase['input'],
      expect: expect as TestCase['expect'],
      ...(dl !== undefined ? { deadLetters: dl as Record<string, unknown>[] } : {}),
      unordered: c.unordered === true,
      endOfInput: c.end_of_input !== false,
      ...(typeof c.error === 'string' ? { error: c.error } : {}),
      lookups,
    };
  });
  return { path, cases };
}

/** Runs every case of a test file (a path, or one already parsed) against a plan. */
export async function runTests(plan: Plan, test: string | PipelineTestFile, options: RunTestsOptions = {}): Promise<TestFileResult> {
  const file = typeof test === 'string' ? parseTestFile(await readFile(test, 'utf8'), test) : test;
  const cases: CaseResult[] = [];
  for (const c of file.cases) cases.push(await runCase(plan, file, c, options.lib ?? stdlib));
  return { path: file.path, pipeline: plan.pipeline, passed: cases.every((c) => c.passed), cases };
}

interface InputRecord {
  key: unknown;
  value: unknown;
}

async function runCase(plan: Plan, file: PipelineTestFile, c: TestCase, lib: unknown): Promise<CaseResult> {
  const result: CaseResult = { name: c.name, passed: false, failures: [], outputs: {}, deadLetters: [] };
  const sinkIndex = new Map(plan.sinks.map((s, i) => [s.id, i]));
  const partitionsOf = (source: PlanSource): number => (source.exchange ? partitionsOf(sourceOf(plan, source.exchange.from)) : partitionCount(source));
  const runner = new BatchRunner({
    pipeline: plan.pipeline,
    chains: plan.chains.map((ch) => {
      const src = sourceOf(plan, ch.source);
      const exchangeOutputs = ch.sinks.flatMap((id, j) => (plan.sinks[sinkIndex.get(id)!]!.exchange ? [j] : []));
      return {
        source: src.name, code: ch.code, sinks: ch.sinks.map((id) => sinkIndex.get(id)!), operators: ch.operators, schema: src.schema, keySchema: src.keySchema, lookups: ch.lookups, eventTime: src.eventTime,
        ...(src.exchange ? { reads: { count: partitionsOf(sourceOf(plan, src.exchange.from)), idleMs: src.exchange.idleMs } } : {}),
        ...(exchangeOutputs.length > 0 ? { writes: { partitions: partitionsOf(src), outputs: exchangeOutputs } } : {}),
      };
    }),
    // Every sink gets JSON, the form expectations are written in; an exchange gets what its source reads.
    sinks: plan.sinks.map((s) => ({ id: s.id, connector: s.connector, format: s.exchange ? 'avro' : 'json', schema: s.schema, keySchema: s.keySchema, withKeys: s.exchange !== undefined })),
  }, lib);
  /** What the upstream chains wrote to each exchange, by exchange source name. */
  const exchanged = new Map<string, InputRecord[]>();
  for (const s of plan.sinks) result.outputs[s.id] = [];

  for (const name of Object.keys(c.input)) {
    if (!plan.sources.some((s) => s.name === name)) result.failures.push(`input for unknown source ${name} (sources: ${plan.sources.map((s) => s.name).join(', ')})`);
  }
  const fetch = lookupFetch(plan, c, result.failures);
  let error: string | undefined;
  try {
    for (let ci = 0; ci < plan.chains.length && result.failures.length === 0; ci++) {
      const src = sourceOf(plan, plan.chains[ci]!.source);
      const records = src.exchange ? exchanged.get(src.name) : await inputRecords(src, c.input[src.name], file, result.failures);
      if (!records) continue;
      const onOutput = (sink: number, out: EncodedOutput) => {
        const planSink = plan.sinks[sink]!;
        if (!planSink.exchange) result.outputs[planSink.id]!.push(...jsonLines(out));
        else {
          const name = sourceOf(plan, planSink.exchange).name;
          const keys = decodeRecords(avroType('int'), out.keys!.data, out.keys!.ends);
          const values = decodeRecords(avroType(planSink.schema), out.data, out.ends);
          exchanged.set(name, [...(exchanged.get(name) ?? []), ...values.map((value, i) => ({ key: keys[i], value }))]);
        }
      };
      await runSource(runner, ci, src, partitionsOf(src), records, c.endOfInput, fetch, onOutput, (dl) => result.deadLetters.push(...(jsonLines(dl) as Record<string, unknown>[])));
    }
  } catch (e) {
    error = (e as Error).message;
  }

  if (c.error !== undefined) {
    if (error === undefined) result.failures.push(`expected the run to fail with "${c.error}", but it did not fail`);
    else if (!error.includes(c.error)) result.failures.push(`expected the run to fail with "${c.error}", but it failed with "${error}"`);
  } else if (error !== undefined) {
    result.failures.push(`the run failed: ${error}`);
  }
  if (result.failures.length === 0 && error === undefined) {
    checkOutputs(plan, c, result);
    if (c.deadLetters) checkDeadLetters(c.deadLetters, result);
  }
  result.passed = result.failures.length === 0;
  return result;
}

/** A source's partitions in a test: its `partitions` option, else one. */
function partitionCount(src: PlanSource): number {
  return typeof src.options.partitions === 'number' ? src.options.partitions : 1;
}

function sourceOf(plan: Plan, name: string): PlanSource {
  return plan.sources.find((s) => s.name === name || s.id === name)!;
}

async function inputRecords(src: PlanSource, given: TestCase['input'][string] | undefined, file: PipelineTestFile, failures: string[]): Promise<InputRecord[] | undefined> {
  if (given === undefined) return undefined;
  let rows: unknown[];
  if (Array.isArray(given)) {
    rows = given;
  } else {
    const path = resolve(dirname(file.path), given.file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      failures.push(`input ${src.name}: cannot read ${given.file}: ${(e as Error).message}`);
      return undefined;
    }
    rows = /\.(ya?ml|json)$/.test(path) ? (parseExactYaml(text) as unknown[]) : text.split('\n').filter((l) => l.trim()).map((l) => parseJson(l, true));
  }
  const node = recordNode(src.schema);
  const keyField = typeof src.options.key === 'string' ? src.options.key : undefined;
  const out: InputRecord[] = [];
  rows.forEach((row, i) => {
    try {
      const value = fromJson(node, row);
      out.push({ key: keyField === undefined ? null : (value as Record<string, unknown>)[keyField], value });
    } catch (e) {
      failures.push(`input ${src.name}[${i}] does not fit the source schema: ${(e as Error).message}`);
    }
  });
  return failures.length > 0 ? undefined : out;
}

const BASE_TIME = Date.UTC(2024, 4, 1);

/**
 * What a case's lookups find: the records its `lookups:` give for each
 * lookup of the plan, as runtime values, looked up by the key as text.
 */
function lookupFetch(plan: Plan, c: TestCase, failures: string[]): (lookup: PlanLookup, keys: unknown[]) => unknown[] {
  const all = plan.chains.flatMap((ch) => ch.lookups ?? []);
  const given = c.lookups ?? {};
  for (const name of Object.keys(given)) {
    if (!all.some((l) => l.name === name || l.id === name)) failures.push(`lookups.${name}: no lookup has that name or id (lookups: ${all.map((l) => l.name).join(', ') || 'none'})`);
  }
  const results = new Map<PlanLookup, Map<string, unknown>>();
  for (const l of all) {
    const node = recordNode(l.schema);
    const found = new Map<string, unknown>();
    for (const [key, value] of Object.entries({ ...given[l.name], ...given[l.id] })) {
      try {
        found.set(key, value === null ? null : fromJson(node, value));
      } catch (e) {
        failures.push(`lookups.${l.name}.${key} does not fit ${node.name}: ${(e as Error).message}`);
      }
    }
    results.set(l, found);
  }
  return (l, keys) => {
    const found = results.get(l)!;
    return keys.map((k) => {
      if (k === null || k === undefined) return null;
      const key = String(k);
      if (!found.has(key)) throw new Error(`lookup ${l.name} (${l.id}): no result given for key ${JSON.stringify(key)}; add it under \`lookups: ${l.name}:\` (null for a key without one)`);
      return found.get(key);
    });
  };
}

/** Feeds one source's records through its chain, batch by batch (runs of one partition). */
async function runSource(
  runner: BatchRunner,
  chainIndex: number,
  src: PlanSource,
  partitions: number,
  records: InputRecord[],
  endOfInput: boolean,
  fetch: (lookup: PlanLookup, keys: unknown[]) => unknown[],
  onOutput: (sink: number, out: EncodedOutput) => void,
  onDeadLetters: (dl: EncodedOutput) => void,
): Promise<void> {
  const chain = runner.chains[chainIndex]!;
  const keyField = typeof src.options.key === 'string' ? src.options.key : undefined;
  const keyNode = keyField === undefined ? undefined : recordNode(src.schema).fields.find((f) => f.name === keyField)?.type;
  const valueType = avroType(src.schema);
  const keyType = isNullSchema(src.keySchema) ? undefined : avroType(src.keySchema);
  const encoder = new RecordEncoder();
  const operators = new Map<number, TaskOperators>();
  const offsets = new Map<number, number>();
  // An exchange's records are keyed by their partition.
  const parts = records.map((r, i) => (src.exchange ? (r.key as number) : keyNode ? partitionOf(r.key, keyNode, partitions) : i % partitions));
  for (let start = 0; start < records.length; ) {
    const p = parts[start]!;
    let end = start;
    while (end < records.length && parts[end] === p && (end === start || (chain.operators.length === 0 && !chain.writes))) end++;
    const slice = records.slice(start, end);
    // The Avro round trip a real run makes: values arrive as a worker decodes them.
    const encoded = encoder.encode(valueType, slice.map((r) => r.value));
    const values = decodeRecords(valueType, encoder.bytes(encoded.bytes), encoded.ends);
    const first = offsets.get(p) ?? 0;
    offsets.set(p, first + slice.length);
    let ops = operators.get(p);
    if (!ops) operators.set(p, (ops = new TaskOperators(chain.operators, undefined, performance.now(), chain.eventTime, { time: taskTime(chain) })));
    const keys = slice.map((r) => (keyType ? r.key : null));
    const input: BatchInput = {
      count: slice.length,
      keys: (from, to) => keys.slice(from, to),
      values: (from, to) => values.slice(from, to),
      offsets: slice.map((_, i) => first + i),
      timestamps: slice.map((_, i) => BASE_TIME + (start + i) * 1000),
      chunk: slice.length,
    };
    const lookup = async (i: number, lookupKeys: unknown[]) => fetch(chain.lookups![i]!, lookupKeys);
    const result = chain.lookups ? await runner.runWithLookups(chain, p, ops, input, lookup) : runner.run(chain, p, ops, input);
    take(result);
    start = end;
  }
  if (!endOfInput) return;
  for (const [p, ops] of operators) take(await runner.endOfInput(chain, p, ops, offsets.get(p)! - 1, async (i, lookupKeys) => fetch(chain.lookups![i]!, lookupKeys)));

  function take(result: BatchResult): void {
    result.outputs.forEach((out, i) => out && onOutput(chain.sinks[i]!, out));
    if (result.deadLetters) onDeadLetters(result.deadLetters);
  }
}

function jsonLines(out: EncodedOutput): unknown[] {
  return Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength).toString('utf8').split('\n').filter(Boolean).map((l) => parseJsonValue(l, true));
}

function checkOutputs(plan: Plan, c: TestCase, result: CaseResult): void {
  for (const [name, expected] of Object.entries(c.expect)) {
    const sinks = plan.sinks.filter((s) => !s.exchange && (s.id === name || s.stream === name));
    if (sinks.length === 0) {
      result.failures.push(`expect.${name}: no sink writes a stream or has an id of that name (sinks: ${plan.sinks.filter((s) => !s.exchange).map((s) => `${s.stream} (${s.id})`).join(', ')})`);
      continue;
    }
    for (const sink of sinks) {
      const node = schemaNode(sink.schema);
      const want: string[] = [];
      expected.forEach((e, i) => {
        try {
          want.push(stringifyJson(toJson(node, fromJson(node, e))));
        } catch (err) {
          result.failures.push(`expect.${name}[${i}] does not fit the sink schema: ${(err as Error).message}`);
        }
      });
      const got = result.outputs[sink.id]!.map((r) => stringifyJson(r));
      const [a, b] = c.unordered ? [[...want].sort(), [...got].sort()] : [want, got];
      if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
        result.failures.push(`sink ${sink.stream} (${sink.id}): ${want.length} record${want.length === 1 ? '' : 's'} expected, ${got.length} written${c.unordered ? ' (unordered)' : ''}\n${diff(a, b)}`);
      }
    }
  }
}

function checkDeadLetters(expected: Record<string, unknown>[], result: CaseResult): void {
  const got = result.deadLetters;
  const matches = (e: Record<string, unknown>, g: Record<string, unknown>) =>
    Object.entries(e).every(([k, v]) => (k === 'reason' && typeof v === 'string' ? String(g.reason).includes(v) : stringifyJson(g[k]) === stringifyJson(v)));
  const ok = expected.length === got.length && expected.every((e, i) => matches(e, got[i]!));
  if (!ok) {
    const show = (l: Record<string, unknown>) => JSON.stringify({ operator: l.operator, reason: l.reason, partition: l.partition, offset: l.offset, value: l.value });
    result.failures.push(`dead letters: ${expected.length} expected, ${got.length} written\n${diff(expected.map((e) => JSON.stringify(e)), got.map(show))}`);
  }
}

/** A line diff (longest common subsequence): `-` expected only, `+` written only, two spaces both. */
function diff(expected: string[], actual: string[]): string {
  const n = expected.length;
  const m = actual.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      lines.push(`    ${expected[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      lines.push(`  - ${expected[i++]}`);
    } else {
      lines.push(`  + ${actual[j++]}`);
    }
  }
  return lines.join('\n');
}

/** A readable report of a test file's results, as `sensei test` prints it. */
export function formatTestResult(result: TestFileResult): string {
  const lines = [`${result.path} (pipeline ${result.pipeline})`];
  for (const c of result.cases) {
    lines.push(`  ${c.passed ? '✔' : '✘'} ${c.name}`);
    for (const f of c.failures) lines.push(...f.split('\n').map((l) => `      ${l}`));
  }
  const failed = result.cases.filter((c) => !c.passed).length;
  lines.push(`  ${result.cases.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
