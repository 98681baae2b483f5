/**
 * Hover: the Avro type of a field or expression, the record a source or
 * stream carries (and a source's event time and partitioning), a schema, a function's or an
 * aggregate's signature and doc, a `window` in words, a `group by`'s output
 * and key, a connector's or a connector option's doc.
 */
import type { Hover } from 'vscode-languageserver';
import type { ConnectorSpec, ConnectorSpecs, OptionSpec } from '../../spi/spec.ts';
import { AGGREGATES, aggregateType, type AggregateInfo } from '../../check/aggregates.ts';
import { DEFAULT_IDLE_MS } from '../../check/check.ts';
import { FUNCTIONS_BY_NAME, signatureText, type FunctionSpec } from '../../check/functions.ts';
import { durationText } from '../../lower/expr-text.ts';
import { exchanges } from '../../codegen/codegen.ts';
import type { TypedExpr } from '../../check/typed.ts';
import type { SymbolInfo } from '../../resolve/resolve.ts';
import type {
  CallExpr, DeadLetterDecl, EventTimeClause, FieldDecl, FlatMapOp, GroupOp, Identifier, LookupOp, Node, OnErrorOp, OptionEntry, PartitionClause,
  SelectItem, SinkDecl, SourceDecl, WindowOp,
} from '../../syntax/ast.ts';
import type { AvroType, RecordType } from '../../types/avro-type.ts';
import { nonNull, typeToString } from '../../types/type-utils.ts';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './diagnostics.ts';
import {
  identifierAt, innermostExpr, isEventTimeClause, isPartitionClause, nodesAt, operatorExprs, sourceClausePath, streamPlace, symbolAt, type StreamPlace,
} from './locate.ts';
import { checkExpr, outputAt, pathExpr, scopeAt, typedAt } from './scope.ts';
import { typeText } from './type-text.ts';

const POLICY_DOCS: Record<string, string> = {
  dead_letter: 'A record that fails an operator goes to the pipeline\'s dead letter target, with the error.',
  skip: 'A record that fails an operator is dropped.',
  fail: 'A record that fails an operator stops the pipeline.',
};

/** Declarations and operators that name a connector and set its options. */
type ConnectorUse = SourceDecl | SinkDecl | DeadLetterDecl | LookupOp;

export function hoverAt(a: Analysis, offset: number, connectors: ConnectorSpecs): Hover | null {
  const path = nodesAt(a.ast, offset);
  if (path.length < 2) return null;
  const ident = identifierAt(path);
  const parent = path.at(-2);
  const range = spanToRange(path.at(-1)!.span);
  const hover = (blocks: (string | undefined)[]): Hover => ({
    contents: { kind: 'markdown', value: blocks.filter((b) => b !== undefined && b !== '').join('\n\n') },
    range,
  });

  const symbol = symbolAt(a, offset);
  if (symbol) return hover(symbolHover(a, symbol));

  // A window's, an event time's and a partitioning's parts (keywords, durations, words) all explain the whole clause.
  const innermost = path.at(-1) as Node & { kind?: string };
  const window = [innermost, parent].find((n): n is WindowOp => (n as Partial<WindowOp> | undefined)?.kind === 'window');
  if (window) return hover(windowHover(a, window));
  const clause = [innermost, parent].find(isEventTimeClause);
  if (clause) {
    const source = path[path.indexOf(clause) - 1] as SourceDecl;
    return hover(ident && clause.path.includes(ident) ? eventTimeFieldHover(a, source, clause, ident) : [code(`source ${source.name.name}`), eventTimeText(clause)]);
  }
  const partitioning = [innermost, parent].find(isPartitionClause);
  if (partitioning) {
    const source = path[path.indexOf(partitioning) - 1] as SourceDecl;
    const key = ident && sourceClausePath(partitioning, ident);
    return hover(ident && key ? partitionFieldHover(a, source, key, ident) : [code(`source ${source.name.name}`), partitionText(partitioning)]);
  }

  if (ident && parent) {
    const decl = path.findLast((n): n is ConnectorUse => ['source', 'sink', 'dead-letter', 'lookup'].includes((n as ConnectorUse).kind));
    if (decl && ident === decl.connector) {
      const spec = connectors.get(ident.name);
      return spec ? hover(connectorHover(spec)) : null;
    }
    if (decl && (parent as OptionEntry).name === ident && 'value' in parent) {
      const option = connectors.get(decl.connector.name)?.options.find((o) => o.name === ident.name);
      return option ? hover(optionHover(decl.connector.name, option)) : null;
    }
    if ((parent as CallExpr).kind === 'call' && (parent as CallExpr).callee === ident) {
      const f = FUNCTIONS_BY_NAME.get(ident.name);
      if (f) return hover(functionHover(f));
      const aggregate = AGGREGATES.get(ident.name);
      return aggregate ? hover(aggregateHover(a, path, parent as CallExpr, aggregate)) : null;
    }
    if ((parent as FieldDecl).name === ident && 'type' in parent && !('kind' in parent)) {
      const field = parent as FieldDecl;
      const written = a.text.slice(field.type.span.start.offset, field.type.span.end.offset);
      return hover([code(`${ident.name}: ${written}`), field.doc]);
    }
    if ((parent as OnErrorOp).kind === 'on-error') return hover([code(`on error ${ident.name}`), POLICY_DOCS[ident.name]]);
  }

  const place = streamPlace(path);
  if (!place?.operator) return null;
  if (innermost.kind === 'group') return hover(groupHover(a, place, innermost as GroupOp));
  const scope = scopeAt(a.scopes(), place);
  if (!scope) return null;
  const op = place.operator;
  if (ident && parent && (op.kind === 'select' || op.kind === 'group')) {
    const item = parent as SelectItem;
    if (item.kind === 'drop') {
      const f = scope.fields.find((x) => x.name === ident.name);
      return f ? hover([code(`${f.name}: ${typeText(f.type)}`), f.doc, 'dropped from the record']) : null;
    }
    if (item.kind === 'keep') {
      const typed = checkExpr(scope, pathExpr(item.path, item.path.indexOf(ident)));
      return typed ? hover([code(`${ident.name}: ${typeText(typed.type)}`), fieldDoc(scope, item.path.slice(0, item.path.indexOf(ident) + 1))]) : null;
    }
    if (item.kind === 'compute' && item.name === ident) {
      // An aggregate types only inside its group: the group's output says.
      const type = op.kind === 'group' ? outputAt(a.scopes(), place)?.fields.find((x) => x.name === ident.name)?.type : checkExpr(scope, item.value)?.type;
      return type ? hover([code(`${ident.name}: ${typeText(type)}`)]) : null;
    }
  }
  if (ident && op.kind === 'lookup' && op.name === ident) {
    const f = outputAt(a.scopes(), place)?.fields.find((x) => x.name === ident.name);
    return f ? hover([code(`${f.name}: ${typeText(f.type)}`), `the record \`${op.connector.name}\` finds for the key, null when there is none`]) : null;
  }
  if (ident && op.kind === 'flat-map' && (op as FlatMapOp).as === ident) {
    const array = checkExpr(scope, op.field);
    const t = array && nonNull(array.type);
    return t?.kind === 'array' ? hover([code(`${ident.name}: ${typeText(t.items)}`), 'one record per element']) : null;
  }
  const typed = typedAt(scope, operatorExprs(op), offset, innermostExpr(path));
  if (!typed) return null;
  const result: Hover = hover(exprHover(typed, scope));
  result.range = spanToRange(typed.span);
  return result;
}

function exprHover(typed: TypedExpr, scope: RecordType): string[] {
  if (typed.k === 'field') {
    const f = scope.fields.find((x) => x.name === typed.name);
    return [code(`${typed.name}: ${typeText(typed.type)}`), f?.doc].filter(isText);
  }
  if (typed.k === 'member') {
    const owner = nonNull(typed.object.type);
    const f = owner.kind === 'record' ? owner.fields.find((x) => x.name === typed.name) : undefined;
    return [code(`${typed.name}: ${typeText(typed.type)}`), f?.doc].filter(isText);
  }
  if (typed.k === 'call') {
    const f = FUNCTIONS_BY_NAME.get(typed.fn);
    return [code(`${typed.fn}(…): ${typeText(typed.type)}`), f?.doc].filter(isText);
  }
  return [code(typeText(typed.type))];
}

function symbolHover(a: Analysis, s: SymbolInfo): string[] {
  switch (s.kind) {
    case 'schema': {
      const decl = a.resolved?.schemas.find((x) => x.name === s.name);
      return [code(`schema ${s.name}${s.type ? ` = ${typeText(s.type)}` : ''}`), decl?.decl.doc].filter(isText);
    }
    case 'type':
      return [code(s.type ? typeText(s.type) : s.name)];
    case 'source': {
      const source = a.resolved?.sources.find((x) => x.name === s.name);
      return [
        code(`source ${s.name}: ${s.type ? typeText(s.type) : '?'}`),
        source && `from connector \`${source.decl.connector.name}\``,
        source && eventTimeText(source.decl.eventTime),
        source?.decl.partitionedBy && partitionText(source.decl.partitionedBy),
      ].filter(isText);
    }
    case 'stream':
    case 'route-target': {
      const output = a.scopes()?.outputs.get(s.name);
      const key = a.typed?.streams.find((x) => x.name === s.name)?.keyType;
      const keyText = key && key.kind !== 'null' ? `key: ${typeToString(key)}` : undefined;
      const what = s.kind === 'stream' ? 'stream' : 'stream (route target)';
      return [code(`${what} ${s.name}: ${output ? typeText(output) : '?'}`), keyText].filter(isText);
    }
  }
}

function connectorHover(spec: ConnectorSpec): string[] {
  const options = spec.options.map((o) => `- \`${o.name}\`: ${optionType(o)}${o.required ? ' (required)' : ''}: ${o.doc}`);
  return [code(`connector ${spec.name}`), `${spec.doc}\n\nRoles: ${spec.roles.join(', ')}`, options.join('\n')];
}

function optionHover(connector: string, o: OptionSpec): string[] {
  const facts = [
    o.required ? 'required' : undefined,
    o.default !== undefined ? `default \`${JSON.stringify(o.default)}\`` : undefined,
    o.min !== undefined ? `min ${o.min}` : undefined,
    o.max !== undefined ? `max ${o.max}` : undefined,
  ].filter(isText);
  return [code(`${o.name}: ${optionType(o)}`), o.doc, facts.length > 0 ? facts.join(', ') : undefined, `option of \`${connector}\``].filter(isText);
}

export function optionType(o: OptionSpec): string {
  return o.type === 'enum' ? (o.values ?? []).join(' | ') : o.type;
}

function functionHover(f: FunctionSpec): string[] {
  return [code(signatureText(f)), f.doc];
}

/** The aggregate's signature and doc, and its result type when it is a value of a group block. */
function aggregateHover(a: Analysis, path: readonly Node[], call: CallExpr, info: AggregateInfo): string[] {
  const place = streamPlace(path);
  const op = place?.operator;
  if (!place || op?.kind !== 'group' || !op.aggregates.some((i) => i.kind === 'compute' && i.value === call)) {
    return [code(info.signature), info.doc, `An aggregate: only a value of a \`group by\` block, \`{ name: ${info.name}(…) }\`.`];
  }
  const scope = scopeAt(a.scopes(), place);
  const arg = scope && call.args[0] ? checkExpr(scope, call.args[0]) : undefined;
  const result = call.args[0] && !arg ? undefined : aggregateType(info.name, arg?.type);
  return [code(info.signature), info.doc, result && 'type' in result ? `Here: \`${typeToString(result.type)}\`` : undefined].filter(isText);
}

/** Whether a source has an event time, and its lateness and idle time; or what windows use without one. */
function eventTimeText(clause: EventTimeClause | undefined): string {
  if (!clause) return 'No event time: windows use record timestamps (Kafka\'s record timestamp, the arrival time for other sources).';
  const lateness = clause.lateness ? clause.lateness.text : '0 (the default)';
  const idle = clause.idle ? clause.idle.text : `${durationText(DEFAULT_IDLE_MS)} (the default)`;
  return [
    `Event time \`${clause.path.map((p) => p.name).join('.')}\`, lateness ${lateness}, idle ${idle}.`,
    'The watermark trails the latest event time read by the lateness; a window closes when the watermark passes its end, and a record',
    'for a closed window is late (a dead letter). A partition without records for the idle time stops holding the watermark back.',
  ].join(' ');
}

function eventTimeFieldHover(a: Analysis, source: SourceDecl, clause: EventTimeClause, ident: Identifier): string[] {
  const schema = a.resolved?.sources.find((s) => s.name === source.name.name)?.schema;
  const upTo = clause.path.indexOf(ident);
  const typed = schema?.kind === 'record' ? checkExpr(schema, pathExpr(clause.path, upTo)) : undefined;
  const doc = schema?.kind === 'record' ? fieldDoc(schema, clause.path.slice(0, upTo + 1)) : undefined;
  return [code(`${ident.name}: ${typed ? typeText(typed.type) : '?'}`), doc, `the event time of source \`${source.name.name}\``].filter(isText);
}

/** The fields a source's records were spread over its partitions by, and what that means for a `group by`. */
function partitionText(clause: PartitionClause): string {
  const fields = clause.keys.map((k) => `\`${k.map((p) => p.name).join('.')}\``).join(', ');
  return [
    `Partitioned by ${fields}: the producer spread the records over the source's partitions by these fields (the Kafka producer's key),`,
    'so the records with the same values are all in one partition. Each partition is aggregated on its own: a `group by` whose keys',
    'carry these fields aggregates where the records are; one whose keys do not first moves them to the partition of their group key (repartitioning).',
  ].join(' ');
}

function partitionFieldHover(a: Analysis, source: SourceDecl, key: Identifier[], ident: Identifier): string[] {
  const schema = a.resolved?.sources.find((s) => s.name === source.name.name)?.schema;
  const upTo = key.indexOf(ident);
  const typed = schema?.kind === 'record' ? checkExpr(schema, pathExpr(key, upTo)) : undefined;
  const doc = schema?.kind === 'record' ? fieldDoc(schema, key.slice(0, upTo + 1)) : undefined;
  const role = upTo === key.length - 1
    ? `source \`${source.name.name}\` is partitioned by \`${key.map((p) => p.name).join('.')}\``
    : `holds the field source \`${source.name.name}\` is partitioned by`;
  return [code(`${ident.name}: ${typed ? typeText(typed.type) : '?'}`), doc, role].filter(isText);
}

/** How each shape cuts time, from its durations. */
function windowShapeText(op: WindowOp): string | undefined {
  const size = op.size.text;
  const step = op.every?.text;
  switch (op.shape.name) {
    case 'tumbling':
      return `Tumbling windows of ${size}, back to back and aligned to the epoch (UTC): each record falls in exactly one, [start, start + ${size}).`;
    case 'hopping': {
      if (!op.every) return undefined;
      const n = op.size.millis / op.every.millis;
      const count = Number.isInteger(n) ? `${n}` : `${Math.floor(n)} or ${Math.ceil(n)}`;
      return `Hopping windows of ${size}, a new one every ${step}: each record falls in ${count} of them.`;
    }
    case 'session':
      return `Session windows, per group: a session lasts while its records come less than ${size} apart, and closes ${size} after its last record.`;
    case 'cumulate':
      return op.every
        ? `Cumulating windows: a window starts every ${size} and its result grows every ${step}: [start, start + ${step}), [start, start + 2 × ${step}), … up to [start, start + ${size}).`
        : undefined;
    default:
      return undefined;
  }
}

function windowHover(a: Analysis, op: WindowOp): string[] {
  const emit = op.emit?.name === 'updates'
    ? 'Emits `updates`: a window\'s result after each batch that changed it.'
    : 'Emits `final`: each window\'s result once, when the watermark passes the window\'s end (or the input ends).';
  return [
    code(a.text.slice(op.span.start.offset, op.span.end.offset)),
    windowShapeText(op),
    emit,
    'The `group by` after it aggregates per window; its records get `window_start` and `window_end`.',
  ].filter(isText);
}

/** The group's output record, the key of its records and when they come. */
function groupHover(a: Analysis, place: StreamPlace, op: GroupOp): string[] {
  const window = place.stream.operators[place.index - 1];
  const windowed = window?.kind === 'window';
  const output = outputAt(a.scopes(), place);
  const keys = op.keys.flatMap((k) => (k.kind === 'keep' ? [k.path.at(-1)!.name] : k.kind === 'compute' ? [k.name.name] : []));
  const names = [...keys, ...(windowed ? ['window_start'] : [])];
  const parts = output ? names.flatMap((n) => output.fields.filter((f) => f.name === n)) : [];
  const key = parts.length === 0 ? 'Key: null (one group).'
    : parts.length === 1 ? `Key: \`${parts[0]!.name}\`, ${typeToString(parts[0]!.type)}.`
      : `Key: record ${output!.name}Key { ${parts.map((f) => `${f.name}: ${typeToString(f.type)}`).join(', ')} }.`;
  const emits = !windowed ? 'A running aggregate: after each batch, the new result of every group it changed.'
    : window.emit?.name === 'updates' ? 'One record per group and window after each batch that changed it.'
      : 'One record per group and window, when the watermark passes the window\'s end.';
  return [code(output ? `group → ${typeText(output)}` : 'group'), output ? key : undefined, emits, repartitionText(a, place)].filter(isText);
}

/** Whether the group moves its records to the partition of their key first, and through what. */
function repartitionText(a: Analysis, place: StreamPlace): string | undefined {
  const id = `${place.stream.name.name}/${place.index}:aggregate`;
  const exchange = a.typed && exchanges(a.typed).find((e) => e.op.id === id);
  if (!exchange) return undefined;
  const source = a.typed!.sources.find((s) => s.name === exchange.op.repartition.source);
  const through = source?.connector === 'kafka' ? `the topic \`<group>-${exchange.name}\`` : 'an exchange in the process';
  return `Repartitioned: source \`${exchange.op.repartition.source}\` is not \`partitioned by\` these keys, so each record first moves to the partition its key hashes to, through ${through} (\`${exchange.name}\`); the watermark there is the minimum over the source's partitions.`;
}

function fieldDoc(scope: RecordType, path: readonly Identifier[]): string | undefined {
  let record: AvroType = scope;
  let doc: string | undefined;
  for (const part of path) {
    const t = nonNull(record);
    if (t.kind !== 'record') return undefined;
    const f = t.fields.find((x) => x.name === part.name);
    if (!f) return undefined;
    doc = f.doc;
    record = f.type;
  }
  return doc;
}

function code(text: string): string {
  return '```sensei\n' + text + '\n```';
}

function isText(x: string | undefined | false | ''): x is string {
  return typeof x === 'string' && x !== '';
}

