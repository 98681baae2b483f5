/**
 * Lowering: the typed program → the plan the runtime executes
 * (src/plan/plan.ts). Sources and sinks get their Avro schemas, each source
 * one fused chain (codegen), and the plan a dataflow graph for display:
 * a node per source, operator, stream and sink, edges carrying the schema of
 * their records and the key expression once a `key by` set one.
 */
import type { TypedOperator, TypedProgram } from '../check/typed.ts';
import type { Span } from '../diagnostics/diagnostic.ts';
import type { Constant, Plan, PlanEdge, PlanGraph, PlanNode, PlanSink, PlanSource } from '../plan/plan.ts';
import { EXCHANGE_CONNECTOR, PLAN_VERSION } from '../plan/plan.ts';
import { DEFAULT_IDLE_MS } from '../check/check.ts';
import type { RecordType } from '../types/avro-type.ts';
import { typeToAvsc } from '../types/to-avsc.ts';
import { exchangeRecord, exchanges, generateChain, type Exchange } from '../codegen/codegen.ts';
import { durationText, exprText } from './expr-text.ts';

export function typedToPlan(typed: TypedProgram): Plan {
  const repartitions = exchanges(typed).map((e) => exchangeParts(typed, e));
  return {
    version: PLAN_VERSION,
    pipeline: typed.pipeline,
    sources: typed.sources.map((s) => ({
      id: sourceId(s.name),
      name: s.name,
      connector: s.connector,
      options: s.options,
      schema: typeToAvsc(s.schema),
      keySchema: typeToAvsc(s.keyType),
      ...(s.eventTime ? { eventTime: { field: exprText(s.eventTime.field), latenessMs: s.eventTime.latenessMs, idleMs: s.eventTime.idleMs } } : {}),
    })).concat(repartitions.map((r) => r.source)),
    sinks: typed.sinks.map((s) => ({
      id: s.id,
      stream: s.input,
      connector: s.connector,
      options: s.options,
      schema: typeToAvsc(s.schema),
      keySchema: typeToAvsc(s.keyType),
    }) as PlanSink).concat(repartitions.map((r) => r.sink)),
    ...(typed.deadLetter ? { deadLetter: { connector: typed.deadLetter.connector, options: typed.deadLetter.options } } : {}),
    chains: [
      ...typed.sources.map((s) => ({ source: sourceId(s.name), ...generateChain(typed, { source: s.name }) })),
      ...repartitions.map((r) => ({ source: r.source.id, ...generateChain(typed, { exchange: r.operator }) })),
    ],
    graph: typedToGraph(typed),
  };
}

/** The two sides of a repartition: through a topic for a Kafka source, else in process (`EXCHANGE_CONNECTOR`). */
function exchangeParts(typed: TypedProgram, e: Exchange): { source: PlanSource; sink: PlanSink; operator: string } {
  const upstream = typed.sources.find((s) => s.name === e.op.repartition.source)!;
  const schema = typeToAvsc(exchangeRecord(e));
  const transport = upstream.connector === 'kafka' ? { connector: 'kafka', ...kafkaExchange(typed, upstream, e) } : { connector: EXCHANGE_CONNECTOR, source: {}, sink: {} };
  return {
    operator: e.op.id,
    source: {
      id: sourceId(e.name), name: e.name, connector: transport.connector, options: transport.source, schema, keySchema: 'null',
      exchange: { from: sourceId(upstream.name), sink: e.sink, idleMs: upstream.eventTime?.idleMs ?? DEFAULT_IDLE_MS },
    },
    sink: { id: e.sink, stream: e.stream.name, connector: transport.connector, options: transport.sink, schema, keySchema: 'int', exchange: sourceId(e.name) },
  };
}

/** Kafka options that say how to reach the cluster. */
const KAFKA_CONNECTION = ['brokers', 'client_id', 'security_protocol', 'sasl_mechanism', 'sasl_username_env', 'sasl_password_env', 'ssl_ca_file', 'ssl_cert_file', 'ssl_key_file', 'ssl_key_password_env', 'ssl_verify'];
/** What the exchange's source takes over from the upstream source besides the connection: how it takes part in the group, and whether it ends. */
const KAFKA_MEMBERSHIP = ['session_timeout', 'rebalance_timeout', 'commit_interval', 'purge_interval', 'isolation', 'bounded', 'buffer_records', 'max_bytes_per_partition'];
const KAFKA_TRANSACTIONS = ['transactional_id', 'transaction_interval', 'transaction_timeout'];

/**
 * A Kafka source's exchange: the topic `<group>-<stream>-repartition` (as
 * Kafka Streams names its own after the application), which every process
 * of the consumer group shares. Its source joins the same group and reads
 * from the committed offsets; its sink writes in the run's transactions
 * when a Kafka sink of the pipeline is exactly-once. `format: exchange`
 * is internal: raw Avro of the plan's schema, no registry.
 */
function kafkaExchange(typed: TypedProgram, upstream: TypedProgram['sources'][number], e: Exchange): { source: Record<string, Constant>; sink: Record<string, Constant> } {
  const o = upstream.options;
  const group = typeof o.group === 'string' ? o.group : `sensei-${typed.pipeline}`;
  const pick = (from: Record<string, Constant>, names: string[]) => Object.fromEntries(Object.entries(from).filter(([k]) => names.includes(k)));
  const common = { ...pick(o, KAFKA_CONNECTION), topic: `${group}-${e.name}`, format: 'exchange' };
  const exactlyOnce = [...typed.sinks, ...(typed.deadLetter ? [typed.deadLetter] : [])].find((s) => s.connector === 'kafka' && s.options.guarantee === 'exactly_once');
  return {
    source: {
      ...pick(o, KAFKA_MEMBERSHIP), ...common, group, start: 'committed', reset: 'earliest',
      // Each consumer of a process needs its own static membership.
      ...(typeof o.group_instance_id === 'string' ? { group_instance_id: `${o.group_instance_id}-${e.name}` } : {}),
    },
    sink: { ...common, ...(exactlyOnce ? { guarantee: 'exactly_once', ...pick(exactlyOnce.options, KAFKA_TRANSACTIONS) } : {}) },
  };
}

export function sourceId(name: string): string {
  return `source:${name}`;
}

export function streamNodeId(name: string): string {
  return `stream:${name}`;
}

/** What flows out of a node: the record type and, once known, the key's expression. */
interface Outlet {
  node: string;
  type: RecordType;
  key?: string;
}

const MAX_LABEL = 60;

export function typedToGraph(typed: TypedProgram): PlanGraph {
  const nodes: PlanNode[] = [];
  const edges: PlanEdge[] = [];
  const outlets = new Map<string, Outlet>();
  /** The route operator of each stream that has one: its branches feed their target streams. */
  const routes = new Map<string, Outlet>();
  const node = (id: string, kind: PlanNode['kind'], type: string, label: string, span: Span) =>
    nodes.push({ id, kind, type, label: clip(label), location: { file: span.file, line: span.start.line, column: span.start.column } });
  const edge = (from: Outlet, to: string) =>
    edges.push({ from: from.node, to, schema: typeToAvsc(from.type), ...(from.key !== undefined ? { key: from.key } : {}) });

  for (const s of typed.sources) {
    node(sourceId(s.name), 'source', s.connector, s.name, s.span);
    outlets.set(s.name, { node: sourceId(s.name), type: s.schema });
  }
  // A repartition shows as a node of its own before its operator: the records leave for the partition of their key.
  const exchangeOf = new Map(exchanges(typed).map((e) => [e.op.id, e]));
  for (const stream of typed.streams) {
    let at = stream.routedFrom ? routes.get(stream.routedFrom.stream)! : outlets.get(stream.inputs[0]!)!;
    for (const op of stream.operators) {
      const exchange = exchangeOf.get(op.id);
      if (exchange) {
        node(exchange.sink, 'stream', 'repartition', exchange.name, op.span);
        edge(at, exchange.sink);
        const keys = exchange.op.kind === 'aggregate' ? exchange.op.keys.map((k) => exprText(k.value)) : [exprText(exchange.op.key)];
        at = { node: exchange.sink, type: at.type, key: keys.join(', ') };
      }
      node(op.id, 'operator', op.kind, operatorLabel(op), op.span);
      edge(at, op.id);
      if (op.kind === 'union') {
        for (const name of op.streams) edge(outlets.get(name)!, op.id);
      }
      at = { node: op.id, type: op.output, ...(op.kind === 'key-by' ? { key: exprText(op.key) } : at.key !== undefined ? { key: at.key } : {}) };
      if (op.kind === 'route') routes.set(stream.name, at);
    }
    node(streamNodeId(stream.name), 'stream', 'stream', stream.name, stream.span);
    edge(at, streamNodeId(stream.name));
    outlets.set(stream.name, { ...at, node: streamNodeId(stream.name) });
  }
  for (const sink of typed.sinks) {
    node(sink.id, 'sink', sink.connector, sink.input, sink.span);
    edge(outlets.get(sink.input)!, sink.id);
  }
  return { nodes, edges };
}

function operatorLabel(op: TypedOperator): string {
  switch (op.kind) {
    case 'where':
      return `where ${exprText(op.condition)}`;
    case 'select':
      return `select { ${op.fields.map((f) => (f.value.k === 'field' && f.value.name === f.name ? f.name : `${f.name}: ${exprText(f.value)}`)).join(', ')} }`;
    case 'key-by':
      return `key by ${exprText(op.key)}`;
    case 'flat-map':
      return `flat map ${exprText(op.array)} as ${op.as}`;
    case 'union':
      return `union ${op.streams.join(', ')}`;
    case 'route':
      return `route to ${[...op.branches.map((b) => b.target), ...(op.otherwise === undefined ? [] : [op.otherwise])].join(', ')}`;
    case 'dedupe':
      return `dedupe by ${exprText(op.key)} within ${durationText(op.withinMillis)}`;
    case 'lookup':
      return `lookup ${op.name} from ${op.connector} by ${exprText(op.key)}`;
    case 'aggregate': {
      const w = op.window;
      const window = !w ? '' : `${w.shape} ${durationText(w.sizeMs)}${w.stepMs === undefined ? '' : ` every ${durationText(w.stepMs)}`} `;
      return `${window}group${op.keys.length > 0 ? ` by ${op.keys.map((k) => k.name).join(', ')}` : ''} { ${op.aggregates.map((a) => `${a.name}: ${a.fn}(${a.arg ? exprText(a.arg) : ''})`).join(', ')} }`;
    }
  }
}

function clip(label: string): string {
  return label.length <= MAX_LABEL ? label : `${label.slice(0, MAX_LABEL - 1)}…`;
}
