/**
 * Validates a plan read from JSON before the runtime trusts it: the version,
 * the shape of every field and the references between parts (chains to
 * sources and sinks, edges to nodes). Throws an Error naming the JSON path of
 * the first bad field, e.g. `plan.chains[0].sinks[1]`.
 */
import type { Plan } from './plan.ts';
import { PLAN_VERSION } from './plan.ts';

type Check = (value: unknown, path: string) => void;

class PlanError extends Error {
  constructor(path: string, message: string) {
    super(`invalid plan: ${path}: ${message}`);
    this.name = 'PlanError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
}

const expect = (what: string, ok: (v: unknown) => boolean): Check => (v, path) => {
  if (!ok(v)) throw new PlanError(path, `expected ${what}, found ${describe(v)}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const string = expect('a string', (v) => typeof v === 'string');
const integer = expect('a non-negative integer', (v) => Number.isSafeInteger(v) && (v as number) >= 0);

/** A JSON value: what connector options and literal constants may be. */
const constant: Check = (v, path) => {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') return expect('a finite number', Number.isFinite)(v, path);
  if (Array.isArray(v)) return v.forEach((x, i) => constant(x, `${path}[${i}]`));
  if (isObject(v)) return Object.entries(v).forEach(([k, x]) => constant(x, `${path}${member(k)}`));
  throw new PlanError(path, `expected a JSON value, found ${describe(v)}`);
};

/** Avro schema JSON: a name, a union or a schema object (its details are avsc's to judge). */
const schema = expect('an Avro schema (a string, an array or an object)', (v) => typeof v === 'string' || Array.isArray(v) || isObject(v));

const oneOf = (values: readonly string[]) => expect(`one of ${values.join(', ')}`, (v) => values.includes(v as string));

function array(item: Check): Check {
  return (v, path) => {
    expect('an array', Array.isArray)(v, path);
    (v as unknown[]).forEach((x, i) => item(x, `${path}[${i}]`));
  };
}

function record(fields: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  return (v, path) => {
    expect('an object', isObject)(v, path);
    const o = v as Record<string, unknown>;
    for (const [name, check] of Object.entries(fields)) check(o[name], `${path}${member(name)}`);
    for (const [name, check] of Object.entries(optional)) if (o[name] !== undefined) check(o[name], `${path}${member(name)}`);
  };
}

/** Connector options: an object of JSON values. */
const options: Check = (v, path) => {
  expect('an object', isObject)(v, path);
  constant(v, path);
};

const connectorPart = { connector: string, options };

const nonNegative = expect('a non-negative number', (v) => typeof v === 'number' && v >= 0);

const planShape = record({
  version: expect(`plan version ${PLAN_VERSION}`, (v) => v === PLAN_VERSION),
  pipeline: string,
  sources: array(record({ id: string, name: string, ...connectorPart, schema, keySchema: schema }, {
    eventTime: record({ field: string, latenessMs: nonNegative, idleMs: nonNegative }),
    exchange: record({ from: string, sink: string, idleMs: nonNegative }),
  })),
  sinks: array(record({ id: string, stream: string, ...connectorPart, schema, keySchema: schema }, { exchange: string })),
  chains: array(record({
    source: string,
    sinks: array(string),
    operators: array(record({
      id: string,
      kind: string,
      config: options,
      stores: array(record({ name: string, keySchema: schema, valueSchema: schema }, { retentionMs: nonNegative })),
    })),
    code: string,
  }, { lookups: array(record({ id: string, name: string, ...connectorPart, schema, keySchema: schema })) })),
  graph: record({
    nodes: array(record({
      id: string,
      kind: oneOf(['source', 'operator', 'stream', 'sink']),
      type: string,
      label: string,
      location: record({ file: string, line: integer, column: integer }),
    })),
    edges: array(record({ from: string, to: string, schema }, { key: string })),
  }),
}, { deadLetter: record(connectorPart) });

export function validatePlan(json: unknown): Plan {
  planShape(json, 'plan');
  const plan = json as Plan;
  const sources = new Set(plan.sources.map((s) => s.id));
  const sinks = new Set(plan.sinks.map((s) => s.id));
  const nodes = new Set(plan.graph.nodes.map((n) => n.id));
  const known = (ids: Set<string>, what: string): Check => (v, path) => {
    if (!ids.has(v as string)) throw new PlanError(path, `unknown ${what} ${JSON.stringify(v)}`);
  };
  plan.chains.forEach((c, i) => {
    known(sources, 'source')(c.source, `plan.chains[${i}].source`);
    c.sinks.forEach((s, j) => known(sinks, 'sink')(s, `plan.chains[${i}].sinks[${j}]`));
  });
  plan.sources.forEach((s, i) => {
    if (!s.exchange) return;
    known(sources, 'source')(s.exchange.from, `plan.sources[${i}].exchange.from`);
    known(sinks, 'sink')(s.exchange.sink, `plan.sources[${i}].exchange.sink`);
  });
  plan.graph.edges.forEach((e, i) => {
    known(nodes, 'node')(e.from, `plan.graph.edges[${i}].from`);
    known(nodes, 'node')(e.to, `plan.graph.edges[${i}].to`);
  });
  return plan;
}

/** `.name`, or `["odd name"]` for keys that are not identifiers. */
function member(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
