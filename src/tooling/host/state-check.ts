/**
 * `sensei check --against OLD_PLAN.json`: can the new version of a pipeline
 * read the state the old one left (its changelogs and local stores)? Per
 * stateful operator of the old plan, by id: the operator must still be
 * there, of the same kind, with the same window, and each store's keys and
 * values must be encoded as before — state is read back with the new
 * plan's store schemas, so a store whose schema changed (an aggregate
 * added or retyped, a key added) cannot be read. Each answer is a
 * diagnostic at the new operator, naming the operator and the part that
 * changed; an operator that is gone leaves its state behind (a warning).
 */
import type { Diagnostic, Span } from '../../diagnostics/diagnostic.ts';
import { diagnostic } from '../../diagnostics/codes.ts';
import type { CompileResult } from '../../compile.ts';
import type { AvroSchemaJson, PlanOperator } from '../../plan/plan.ts';

interface OldPlan {
  chains?: { source?: string; operators?: PlanOperator[] }[];
}

export function checkStateAgainst(result: CompileResult, old: unknown, oldName: string): Diagnostic[] {
  const { typed, plan } = result;
  if (!typed || !plan) return [];
  const chains = (old as OldPlan).chains ?? [];
  const before = chains.flatMap((c) => c.operators ?? []);
  const now = new Map(plan.chains.flatMap((c) => c.operators).map((o) => [o.id, o]));
  // Which input's partitions each operator's state is kept per: a repartitioned group's are its exchange's.
  const inputBefore = new Map(chains.flatMap((c) => (c.operators ?? []).map((o): [string, string | undefined] => [o.id, c.source])));
  const inputNow = new Map(plan.chains.flatMap((c) => c.operators.map((o): [string, string] => [o.id, c.source])));
  const spans = new Map(typed.streams.flatMap((s) => s.operators.map((o): [string, Span] => [o.id, o.span])));
  const at = spans.values().next().value ?? typed.sources[0]?.span;
  const out: Diagnostic[] = [];
  for (const was of dedupeById(before)) {
    const is = now.get(was.id);
    if (!is) {
      if (at) out.push(diagnostic('state-dropped', at, `operator \`${was.id}\` of ${oldName} is gone: the state it kept is not read`, { data: { operator: was.id } }));
      continue;
    }
    const span = spans.get(is.id) ?? at!;
    const [from, to] = [inputBefore.get(was.id), inputNow.get(is.id)!];
    const problem = from !== undefined && from !== to
      ? `its state was kept per partition of \`${from.replace(/^source:/, '')}\` and would be per partition of \`${to.replace(/^source:/, '')}\` (${/-repartition(-\d+)?$/.test(to) ? 'the group is repartitioned now' : 'its input changed'})`
      : stateChange(was, is);
    if (problem) {
      out.push(diagnostic('incompatible-state', span, `operator \`${is.id}\` cannot read the state ${oldName} left: ${problem}`, {
        hints: ['keep the operator as it was, or deploy it under a new consumer group (its state starts empty)'],
        data: { operator: is.id },
      }));
    }
  }
  return out;
}

/** What makes the old state unreadable for the new operator, in words; undefined when it reads it. */
function stateChange(was: PlanOperator, is: PlanOperator): string | undefined {
  if (was.kind !== is.kind) return `it was a ${was.kind}, it is a ${is.kind}`;
  const window = (o: PlanOperator) => JSON.stringify(o.config.window ?? null);
  if (window(was) !== window(is)) return `its window changed from ${describeWindow(was)} to ${describeWindow(is)}`;
  if (was.config.withinMs !== is.config.withinMs) return `\`within\` changed from ${String(was.config.withinMs)} ms to ${String(is.config.withinMs)} ms`;
  for (const store of was.stores) {
    const now = is.stores.find((s) => s.name === store.name);
    if (!now) return `its store \`${store.name}\` is gone`;
    const key = schemaChange(store.keySchema, now.keySchema, 'key');
    if (key) return `store \`${store.name}\`: ${key}`;
    const value = schemaChange(store.valueSchema, now.valueSchema, 'value');
    if (value) return `store \`${store.name}\`: ${inWords(value, was, is)}`;
  }
  return undefined;
}

/** An aggregate's state paths in the pipeline's terms: `value.a.v2` is its third aggregate, `value.k.country` a group key. */
function inWords(change: string, was: PlanOperator, is: PlanOperator): string {
  const names = (o: PlanOperator) => (o.config.aggregates ?? []) as string[];
  return change
    .replace(/^value\.a\.[vnt](\d+) was added/, (_, i: string) => `aggregate \`${names(is)[Number(i)] ?? i}\` was added`)
    .replace(/^value\.a\.[vnt](\d+) was removed/, (_, i: string) => `aggregate \`${names(was)[Number(i)] ?? i}\` was removed`)
    .replace(/^value\.a\.[vnt](\d+) changed/, (_, i: string) => `aggregate \`${names(is)[Number(i)] ?? i}\` changed`)
    .replace(/^value\.k\.(\w+)/, 'group key `$1`');
}

function describeWindow(o: PlanOperator): string {
  const w = o.config.window as { shape: string; sizeMs: number; stepMs: number | null } | null | undefined;
  return w ? `${w.shape} ${w.sizeMs} ms${w.stepMs === null ? '' : ` every ${w.stepMs} ms`}` : 'none';
}

/** The first difference between two schemas, as a field path: `value.a.v2 was added`. */
function schemaChange(was: AvroSchemaJson, is: AvroSchemaJson, path: string): string | undefined {
  if (JSON.stringify(was) === JSON.stringify(is)) return undefined;
  const fields = (s: AvroSchemaJson) => (isRecord(s) ? s.fields : undefined);
  const unwrap = (s: AvroSchemaJson) => (isObject(s) && s.type === 'array' ? s.items : s);
  const [a, b] = [fields(unwrap(was)), fields(unwrap(is))];
  if (a && b) {
    for (const f of b) {
      const old = a.find((x) => x.name === f.name);
      if (!old) return `${path}.${f.name} was added`;
      const inner = schemaChange(old.type, f.type, `${path}.${f.name}`);
      if (inner) return inner;
    }
    const gone = a.find((f) => !b.some((x) => x.name === f.name));
    if (gone) return `${path}.${gone.name} was removed`;
  }
  return `${path} changed from ${JSON.stringify(was)} to ${JSON.stringify(is)}`;
}

function isObject(s: AvroSchemaJson): s is Record<string, AvroSchemaJson> {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

function isRecord(s: AvroSchemaJson): s is { fields: { name: string; type: AvroSchemaJson }[] } {
  return isObject(s) && s.type === 'record' && Array.isArray(s.fields);
}

/** An operator read by two sources (through `union`) is in both chains: once is enough. */
function dedupeById(ops: PlanOperator[]): PlanOperator[] {
  return [...new Map(ops.map((o) => [o.id, o])).values()];
}
