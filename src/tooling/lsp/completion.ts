/**
 * Completion. The word at the cursor is replaced by a placeholder name and
 * the text parsed, resolved and checked again: where the placeholder lands
 * in the AST says what fits there (a field of the record in scope, a member
 * of the record before `.`, a connector, an option, a stream, a type, an
 * aggregate in a `group by` block). Where the parser cannot place it (after
 * `|`, at the start of a declaration, inside a `window`, `event time` or
 * `partitioned by` clause being written), the tokens before the cursor decide.
 */
import {
  CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem,
} from 'vscode-languageserver';
import type { ConnectorRole, ConnectorSpecs } from '../../spi/spec.ts';
import { AGGREGATES } from '../../check/aggregates.ts';
import { checkProgram, type CheckScopes } from '../../check/check.ts';
import { FUNCTIONS, signatureText } from '../../check/functions.ts';
import { resolveProgram, type ResolvedProgram } from '../../resolve/resolve.ts';
import type {
  DeadLetterDecl, EventTimeClause, Expr, Identifier, LookupOp, Node, OptionEntry, PartitionClause, SelectItem, SinkDecl, SourceDecl, SourceFile,
  StreamDecl, WindowOp,
} from '../../syntax/ast.ts';
import { textToTokens, type SyntaxToken } from '../../syntax/parse.ts';
import type { AvroType, RecordType } from '../../types/avro-type.ts';
import { nonNull, typeToString } from '../../types/type-utils.ts';
import { logError, type Analysis } from './analysis.ts';
import { optionType } from './hover.ts';
import { forEachNode, isEventTimeClause, isPartitionClause, streamPlace } from './locate.ts';
import { optionRoles } from './option-roles.ts';
import { segmentStart } from './segments.ts';
import { checkExpr, pathExpr, scopeAt } from './scope.ts';

/** Declarations and operators that name a connector and set its options; their kinds are the connector's roles. */
type ConnectorUse = SourceDecl | SinkDecl | DeadLetterDecl | LookupOp;
const CONNECTOR_USES: readonly string[] = ['source', 'sink', 'dead-letter', 'lookup'];

/** Stands for the word being typed; a name nobody writes. */
const PLACEHOLDER = '__sensei_cursor__';

const snippet = (label: string, insert: string, kind: CompletionItemKind, detail?: string): CompletionItem => ({
  label, kind, insertText: insert, insertTextFormat: InsertTextFormat.Snippet, filterText: label.split(' ')[0]!, ...(detail ? { detail } : {}),
});

const DECLARATIONS: CompletionItem[] = [
  snippet('pipeline', 'pipeline ${1:name}', CompletionItemKind.Keyword, 'names the pipeline'),
  snippet('import', 'import "${1:shared.sensei}"', CompletionItemKind.Keyword, 'imports schemas, sources and streams'),
  snippet('schema', 'schema ${1:Name} {\n\t$0\n}', CompletionItemKind.Keyword, 'declares a record schema'),
  snippet('source', 'source ${1:name}: ${2:Schema} from ${3:connector} { $0 }', CompletionItemKind.Keyword, 'declares a source'),
  snippet('stream', 'stream ${1:name} = ${2:input}\n\t| $0', CompletionItemKind.Keyword, 'declares a stream'),
  snippet('sink', 'sink ${1:stream} to ${2:connector} { $0 }', CompletionItemKind.Keyword, 'writes a stream out'),
  snippet('dead letter', 'dead letter to ${1:connector} { $0 }', CompletionItemKind.Keyword, 'where rejected records go'),
];

const OPERATORS: CompletionItem[] = [
  snippet('where', 'where $0', CompletionItemKind.Keyword, 'keeps records that match a condition'),
  snippet('select', 'select { $0 }', CompletionItemKind.Keyword, 'reshapes the record'),
  snippet('key by', 'key by $0', CompletionItemKind.Keyword, 'sets the record key'),
  snippet('flat map', 'flat map ${1:array} as ${2:item}', CompletionItemKind.Keyword, 'one record per array element'),
  snippet('union', 'union $0', CompletionItemKind.Keyword, 'merges other streams in'),
  snippet('route', 'route {\n\twhen $1 => ${2:target}\n\telse => ${3:other}\n}', CompletionItemKind.Keyword, 'sends records to streams by condition'),
  snippet('on error', 'on error ${1|dead_letter,skip,fail|}', CompletionItemKind.Keyword, 'what happens to records that fail'),
  snippet('dedupe by', 'dedupe by ${1:key} within ${2:10m}', CompletionItemKind.Keyword, 'drops repeated keys'),
  snippet('lookup', 'lookup ${1:name}: ${2:Schema} from ${3:connector} { key: $0 }', CompletionItemKind.Keyword, 'adds the record found for a key'),
  snippet('window tumbling', 'window tumbling ${1:1m}', CompletionItemKind.Keyword, 'the next group by aggregates per window: back to back'),
  snippet('window hopping', 'window hopping ${1:10m} every ${2:1m}', CompletionItemKind.Keyword, 'the next group by aggregates per window: overlapping, one every step'),
  snippet('window session', 'window session gap ${1:30s}', CompletionItemKind.Keyword, 'the next group by aggregates per window: one per burst of a group\'s records'),
  snippet('window cumulate', 'window cumulate ${1:1h} every ${2:10m}', CompletionItemKind.Keyword, 'the next group by aggregates per window: growing by a step up to a size'),
  snippet('group by', 'group by ${1:key} { ${2:records}: ${3:count()}$0 }', CompletionItemKind.Keyword, 'one record per group: its keys and aggregates'),
];

/** The shapes after `window`, with the durations each needs. */
const WINDOW_SHAPES: CompletionItem[] = [
  snippet('tumbling', 'tumbling ${1:1m}', CompletionItemKind.EnumMember, 'back-to-back windows of one size'),
  snippet('hopping', 'hopping ${1:10m} every ${2:1m}', CompletionItemKind.EnumMember, 'windows of one size, a new one every step'),
  snippet('session', 'session gap ${1:30s}', CompletionItemKind.EnumMember, 'a window per burst of a group\'s records, closed by a quiet gap'),
  snippet('cumulate', 'cumulate ${1:1h} every ${2:10m}', CompletionItemKind.EnumMember, 'windows that grow by a step up to a size'),
];
const EMIT_MODES: CompletionItem[] = [
  { label: 'final', kind: CompletionItemKind.EnumMember, detail: 'once per window, when the watermark passes its end (the default)' },
  { label: 'updates', kind: CompletionItemKind.EnumMember, detail: 'after each batch that changed the window' },
];
const EVENT_TIME = snippet('event time', 'event time ${1:field}', CompletionItemKind.Keyword, 'the field that gives each record\'s time');
const LATENESS = snippet('lateness', 'lateness ${1:10s}', CompletionItemKind.Keyword, 'how far behind the latest event time records may still arrive');
const IDLE = snippet('idle', 'idle ${1:30s}', CompletionItemKind.Keyword, 'a partition quiet this long stops holding the watermark back');
/** What an event time may be: a timestamp or a long of epoch milliseconds, or a record holding one. */
const EVENT_TIME_KINDS = new Set(['timestamp-millis', 'timestamp-micros', 'long', 'record']);
const PARTITIONED_BY = snippet(
  'partitioned by', 'partitioned by ${1:field}', CompletionItemKind.Keyword, 'the fields the producer spread the records over the partitions by (its key)',
);
/** What cannot be a partitioning field, as it cannot be a group key (a record is offered for the fields in it). */
const NOT_PARTITION_KINDS = new Set(['bytes', 'fixed', 'array', 'map']);

const keywords = (words: string[], detail?: string): CompletionItem[] =>
  words.map((label) => ({ label, kind: CompletionItemKind.Keyword, ...(detail ? { detail } : {}) }));

const EXPRESSION_WORDS = keywords(['not', 'if', 'then', 'else', 'case', 'when', 'end', 'true', 'false', 'null']);
const TYPED_LITERALS = ['timestamp', 'date', 'time', 'uuid', 'bytes'].map((w) =>
  snippet(`${w} "…"`, `${w} "$1"`, CompletionItemKind.Keyword, `a ${w} literal`));
const INFIX_WORDS = keywords(['and', 'or', 'not', 'in', 'between', 'like', 'matches', 'then', 'else', 'end', 'when']);
const POLICIES = keywords(['dead_letter', 'skip', 'fail'], 'error policy');
const PRIMITIVES = [
  'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'date', 'time_millis', 'time_micros', 'timestamp_millis',
  'timestamp_micros', 'uuid',
];
const TYPE_FORMS: CompletionItem[] = [
  ...keywords(PRIMITIVES, 'primitive type').map((i) => ({ ...i, kind: CompletionItemKind.TypeParameter })),
  snippet('decimal', 'decimal(${1:12}, ${2:2})', CompletionItemKind.TypeParameter),
  snippet('array', 'array<$1>', CompletionItemKind.TypeParameter),
  snippet('map', 'map<$1>', CompletionItemKind.TypeParameter),
  snippet('record', 'record ${1:Name} {\n\t$0\n}', CompletionItemKind.TypeParameter),
  snippet('enum', 'enum ${1:Name} { $0 }', CompletionItemKind.TypeParameter),
  snippet('fixed', 'fixed ${1:Name}(${2:16})', CompletionItemKind.TypeParameter),
];

const FUNCTION_ITEMS: CompletionItem[] = FUNCTIONS.map((f) => ({
  label: f.name,
  kind: CompletionItemKind.Function,
  detail: signatureText(f),
  documentation: { kind: MarkupKind.Markdown, value: f.doc },
  insertText: `${f.name}($1)`,
  insertTextFormat: InsertTextFormat.Snippet,
}));

const AGGREGATE_ITEMS: CompletionItem[] = [...AGGREGATES.values()].map((f) => ({
  label: f.name,
  kind: CompletionItemKind.Function,
  detail: f.signature,
  documentation: { kind: MarkupKind.Markdown, value: f.doc },
  insertText: `${f.name}($1)`,
  insertTextFormat: InsertTextFormat.Snippet,
}));

interface Context {
  a: Analysis;
  connectors: ConnectorSpecs;
  /** The placeholder program: its AST, names and scopes. */
  ast: SourceFile;
  resolved?: ResolvedProgram;
  scopes?: CheckScopes;
  /** Where the word at the cursor starts, and the text after it. */
  start: number;
  after: string;
}

export function completionsAt(a: Analysis, offset: number, connectors: ConnectorSpecs): CompletionItem[] {
  const text = a.text;
  // Only the declaration around the cursor is lexed, up to the end of the cursor's line (token offsets are relative to `from`).
  const from = segmentStart(text, offset);
  const lineEnd = text.slice(offset).search(/[\r\n]/);
  const { tokens } = textToTokens(a.path, text.slice(from, lineEnd < 0 ? text.length : offset + lineEnd));
  const at = offset - from;
  const inside = tokens.find((t) => t.span.start.offset < at && at < t.span.end.offset + (isOpenEnded(t) ? 1 : 0));
  if (inside && /Comment|String/.test(inside.type)) return [];
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_]/.test(text[start - 1]!)) start--;
  let end = offset;
  while (end < text.length && /[A-Za-z0-9_]/.test(text[end]!)) end++;
  if (/^[0-9]/.test(text.slice(start, offset))) return [];

  const ast = a.reparse(text.slice(0, start) + PLACEHOLDER + text.slice(end));
  let found: { id: Identifier; parents: readonly Node[] } | undefined;
  forEachNode(ast, (node, parents) => {
    if (!found && (node as Identifier).name === PLACEHOLDER && !('kind' in node)) found = { id: node as Identifier, parents: [...parents] };
  });
  const stream = found?.parents.find((n): n is StreamDecl => (n as StreamDecl).kind === 'stream' && 'operators' in n);
  const ctx: Context = { a, connectors, ast, start, after: text.slice(end), ...programOf(a, ast, connectors, stream?.name.name) };
  const before = tokens.filter((t) => t.span.end.offset <= start - from && !/Comment/.test(t.type));
  const firstOnLine = before.length === 0 || /[\r\n]/.test(text.slice(from + before.at(-1)!.span.end.offset, start));
  return (found && fromAst(ctx, found.id, found.parents)) ?? fromTokens(ctx, before, firstOnLine);
}

/** A line comment or an unterminated string or comment also holds the offset at its very end. */
function isOpenEnded(t: SyntaxToken): boolean {
  return t.type === 'LineComment' || t.type.startsWith('Unterminated');
}

/** Names of the placeholder program, and the scopes of `stream` (only it and what it reads are checked). */
function programOf(a: Analysis, ast: SourceFile, connectors: ConnectorSpecs, stream: string | undefined): Pick<Context, 'resolved' | 'scopes'> {
  try {
    const { resolved } = resolveProgram(ast, { ast: (p) => a.astOf(p), text: (p) => a.files.get(p) });
    if (!resolved) return {};
    if (stream === undefined) return { resolved };
    return { resolved, scopes: checkProgram(upstreamOf(resolved, stream), connectors).scopes };
  } catch (error) {
    logError('checking for completion', error);
    return {};
  }
}

/** The part of a program a stream depends on: itself and the streams and sources it reads, transitively. */
function upstreamOf(resolved: ResolvedProgram, stream: string): ResolvedProgram {
  const inputs = new Map(resolved.streams.map((s) => [s.name, s.inputs]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const input of inputs.get(name) ?? []) visit(input);
  };
  visit(stream);
  return {
    pipeline: resolved.pipeline, file: resolved.file, files: resolved.files, complete: resolved.complete, schemas: resolved.schemas,
    sources: resolved.sources.filter((s) => needed.has(s.name)),
    streams: resolved.streams.filter((s) => needed.has(s.name)),
    sinks: [],
    symbols: resolved.symbols,
    references: resolved.references,
  };
}

/** What fits where the placeholder landed; undefined when the AST does not tell. */
function fromAst(ctx: Context, id: Identifier, parents: readonly Node[]): CompletionItem[] | undefined {
  const parent = parents.at(-1) as Node & { kind?: string };
  const decl = parents.findLast((n): n is ConnectorUse => CONNECTOR_USES.includes((n as ConnectorUse).kind));
  switch (parent.kind) {
    case 'field': {
      const entry = parents.at(-2) as Partial<OptionEntry> | undefined;
      if (decl && entry?.value === parent && !(decl.kind === 'lookup' && entry.name!.name === 'key')) return optionValues(ctx, decl, entry.name!.name);
      if (isAggregateValue(parents, parent)) return callItems(ctx, AGGREGATE_ITEMS);
      return expressionItems(ctx, parents);
    }
    case 'member':
      return memberItems(ctx, parents, (parent as Extract<Expr, { kind: 'member' }>).object);
    case 'keep': {
      const path = (parent as Extract<SelectItem, { kind: 'keep' }>).path;
      const at = path.indexOf(id);
      if (at > 0) return memberItems(ctx, parents, pathExpr(path, at - 1));
      const op = streamPlace(parents)?.operator;
      // A group's key is a field or an expression; an item of its block starts with the name of a new field.
      if (op?.kind === 'group') return op.keys.includes(parent as SelectItem) ? expressionItems(ctx, parents) : [];
      return [{ label: '*', kind: CompletionItemKind.Operator, detail: 'every field' }, ...expressionItems(ctx, parents)];
    }
    case 'drop':
      return fieldItems(scopeOf(ctx, parents));
    case 'source':
    case 'sink':
    case 'dead-letter':
    case 'lookup':
      if ((parent as ConnectorUse).connector === id) return connectorItems(ctx, parent.kind as ConnectorRole);
      if ((parent as SinkDecl).input === id) return dataItems(ctx);
      return [];
    case 'stream':
      return (parent as StreamDecl).input === id ? dataItems(ctx, (parent as StreamDecl).name.name) : [];
    case 'union':
      return dataItems(ctx);
    case 'on-error':
      return POLICIES;
    case 'named':
      return typeItems(ctx);
    case 'call':
      return callItems(ctx, isAggregateValue(parents, parent) ? AGGREGATE_ITEMS : FUNCTION_ITEMS);
    case 'window': {
      const window = parent as WindowOp;
      if (window.emit === id) return emitModes(window.shape.name);
      // The durations may be there already.
      return window.shape === id && /^\s*(?:gap\b|\d)/.test(ctx.after) ? WINDOW_SHAPES.map((i) => ({ ...i, insertText: i.label })) : WINDOW_SHAPES;
    }
    case 'schema':
    case 'flat-map':
    case 'compute':
    case 'enum':
    case 'record':
    case 'fixed':
      return []; // a new name is being written
    default:
      if (decl && (parent as Partial<OptionEntry>).name === id && 'value' in parent) return optionItems(ctx, decl);
      if (isEventTimeClause(parent)) return eventTimeFields(ctx, parent, id, parents.at(-2) as SourceDecl);
      if (isPartitionClause(parent)) return partitionFields(ctx, parent, id, parents.at(-2) as SourceDecl);
      if (!parent.kind && 'type' in parent) return []; // a field name in a schema
      return undefined;
  }
}

function fromTokens(ctx: Context, before: SyntaxToken[], firstOnLine: boolean): CompletionItem[] {
  const prev = before.at(-1);
  const prev2 = before.at(-2);
  switch (prev?.type) {
    case 'Pipe':
      return OPERATORS;
    case 'Dead':
      return keywords(['letter']);
    case 'Key':
    case 'Dedupe':
      return keywords(['by']);
    case 'Flat':
      return keywords(['map']);
    case 'On':
      return keywords(['error']);
    case 'Sink':
    case 'Union':
      return dataItems(ctx);
    case 'Equals':
      return prev2 && before.at(-3)?.type === 'Stream' ? dataItems(ctx, prev2.image) : [];
    case 'From':
      return connectorItems(ctx, before.some((t) => t.type === 'Lookup') ? 'lookup' : 'source');
    case 'To':
      return connectorItems(ctx, prev2?.type === 'Letter' ? 'dead-letter' : 'sink');
  }
  const block = openBlock(before);
  if (block?.connector) {
    let decl: ConnectorUse | undefined;
    forEachNode(ctx.ast, (n) => {
      const use = n as ConnectorUse;
      if (CONNECTOR_USES.includes(use.kind) && use.connector.span.start.offset === block.connector!.span.start.offset) decl = use;
    });
    if (prev?.type === 'Colon' && prev2) return decl ? optionValues(ctx, decl, prev2.image) : [];
    return decl ? optionItems(ctx, decl) : [];
  }
  const inStream = streamBefore(ctx.ast, ctx.start);
  if (prev?.type === 'Colon' && before.findLast((t) => t.span.start.line === prev.span.start.line && /^(Source|Schema)$/.test(t.type))) {
    return typeItems(ctx);
  }
  if (!block && firstOnLine) {
    const next = inStream ? [...DECLARATIONS, snippet('|', '| $0', CompletionItemKind.Operator, 'next operator'), ...INFIX_WORDS] : DECLARATIONS;
    return [...(sourceTail(before) ?? []), ...next];
  }
  const tail = block ? undefined : (operatorTail(before) ?? sourceTail(before));
  return tail ?? (inStream ? INFIX_WORDS : []);
}

/** What follows in a `window` or `group` operator being written: the shape, `gap`, `every`, `emit` and its mode; `by`. */
function operatorTail(before: SyntaxToken[]): CompletionItem[] | undefined {
  const op = before.slice(before.findLastIndex((t) => t.type === 'Pipe') + 1);
  if (op.length === before.length) return undefined;
  const prev = op.at(-1)!;
  if (op[0]!.type === 'Group') return op.length === 1 ? keywords(['by']) : undefined;
  if (op[0]!.type !== 'Window') return undefined;
  const shape = op[1]?.image;
  if (prev.type === 'Window') return WINDOW_SHAPES;
  if (prev.type === 'Emit') return emitModes(shape);
  if (op.length === 2) return shape === 'session' ? keywords(['gap']) : [];
  if (prev.type !== 'Duration' || op.some((t) => t.type === 'Emit')) return [];
  if ((shape === 'hopping' || shape === 'cumulate') && !op.some((t) => t.type === 'Every')) return keywords(['every']);
  return keywords(['emit']);
}

/**
 * What follows a source's connector and options: `event time FIELD`, then
 * `lateness` and `idle`; and after them, or instead, `partitioned by FIELD, …`.
 */
function sourceTail(before: SyntaxToken[]): CompletionItem[] | undefined {
  const from = before.findIndex((t) => t.type === 'From');
  if (before[0]?.type !== 'Source' || from < 0 || before.length < from + 2 || openBlock(before)) return undefined;
  const prev = before.at(-1)!;
  // The last clause: its fields come from the AST.
  if (before.some((t, i) => i > from && t.type === 'Partitioned')) return prev.type === 'Partitioned' ? keywords(['by']) : [];
  const event = before.findIndex((t) => t.type === 'Event');
  if (event < 0) return prev.type === 'RCurly' || before.length === from + 2 ? [EVENT_TIME, PARTITIONED_BY] : [];
  if (prev.type === 'Event') return keywords(['time']);
  const after = (type: string) => before.some((t, i) => i > event && t.type === type);
  // A field or a duration comes next.
  if (['Time', 'Dot', 'Lateness', 'Idle'].includes(prev.type)) return [];
  if (after('Idle')) return [PARTITIONED_BY];
  return after('Lateness') ? [IDLE, PARTITIONED_BY] : [LATENESS, IDLE, PARTITIONED_BY];
}

function emitModes(shape: string | undefined): CompletionItem[] {
  // A session may merge with another: only its final result stands.
  return shape === 'session' ? EMIT_MODES.filter((m) => m.label === 'final') : EMIT_MODES;
}

/** Whether `expr` is the whole value of an item of a `group by` block, where an aggregate call goes. */
function isAggregateValue(parents: readonly Node[], expr: Node): boolean {
  const op = streamPlace(parents)?.operator;
  return op?.kind === 'group' && op.aggregates.some((i) => i.kind === 'compute' && i.value === expr);
}

/** Fields of a source's schema that may give its event time (and records, to reach nested ones). */
function eventTimeFields(ctx: Context, clause: EventTimeClause, id: Identifier, source: SourceDecl): CompletionItem[] {
  // The parser recovers `event ‸` as `event time ‸`.
  if (!/(?:\btime|\.)\s*$/.test(ctx.a.text.slice(clause.span.start.offset, ctx.start))) return keywords(['time']);
  const schema = ctx.resolved?.sources.find((s) => s.name === source.name.name)?.schema;
  if (schema?.kind !== 'record') return [];
  const at = clause.path.indexOf(id);
  const owner = at > 0 ? checkExpr(schema, pathExpr(clause.path, at - 1)) : undefined;
  const record = at > 0 ? owner && nonNull(owner.type) : schema;
  return record?.kind === 'record' ? fieldItems(record, (t) => EVENT_TIME_KINDS.has(nonNull(t).kind)) : [];
}

/** Fields of a source's schema it may be partitioned by (and records, to reach nested ones). */
function partitionFields(ctx: Context, clause: PartitionClause, id: Identifier, source: SourceDecl): CompletionItem[] {
  // The parser recovers `partitioned ‸` as `partitioned by ‸`.
  if (!/(?:\bby|\.|,)\s*$/.test(ctx.a.text.slice(clause.span.start.offset, ctx.start))) return keywords(['by']);
  const schema = ctx.resolved?.sources.find((s) => s.name === source.name.name)?.schema;
  const key = clause.keys.find((k) => k.includes(id));
  if (schema?.kind !== 'record' || !key) return [];
  const at = key.indexOf(id);
  const owner = at > 0 ? checkExpr(schema, pathExpr(key, at - 1)) : undefined;
  const record = at > 0 ? owner && nonNull(owner.type) : schema;
  return record?.kind === 'record' ? fieldItems(record, (t) => !NOT_PARTITION_KINDS.has(nonNull(t).kind)) : [];
}

/** Call completions; without the brackets where they follow already. */
function callItems(ctx: Context, items: CompletionItem[]): CompletionItem[] {
  return ctx.after.trimStart().startsWith('(') ? items.map((f) => ({ ...f, insertText: f.label, insertTextFormat: InsertTextFormat.PlainText })) : items;
}

/** The stream declaration the offset is in or right after (its operators may still be incomplete). */
function streamBefore(ast: SourceFile, offset: number): StreamDecl | undefined {
  const before = ast.declarations.filter((d) => d.span.start.offset < offset);
  const last = before.at(-1);
  return last?.kind === 'stream' ? last : undefined;
}

/** The innermost `{ ( [` still open before the cursor, and the connector it belongs to (`from x {`, `to x {`). */
function openBlock(before: SyntaxToken[]): { open: SyntaxToken; connector?: SyntaxToken } | undefined {
  const stack: number[] = [];
  for (const [i, t] of before.entries()) {
    if (t.type === 'LCurly' || t.type === 'LParen' || t.type === 'LBracket') stack.push(i);
    else if (t.type === 'RCurly' || t.type === 'RParen' || t.type === 'RBracket') stack.pop();
  }
  const at = stack.at(-1);
  if (at === undefined) return undefined;
  const open = before[at]!;
  const word = before[at - 1];
  const keyword = before[at - 2];
  const connector = open.type === 'LCurly' && word && keyword && (keyword.type === 'From' || keyword.type === 'To') ? word : undefined;
  return { open, ...(connector ? { connector } : {}) };
}

function scopeOf(ctx: Context, parents: readonly Node[]): RecordType | undefined {
  const place = streamPlace(parents);
  return place ? scopeAt(ctx.scopes, place) : undefined;
}

function expressionItems(ctx: Context, parents: readonly Node[]): CompletionItem[] {
  const place = streamPlace(parents);
  if (!place) return [];
  const inRoute = place.operator?.kind === 'route';
  return [
    ...fieldItems(scopeOf(ctx, parents)),
    ...callItems(ctx, FUNCTION_ITEMS),
    ...EXPRESSION_WORDS,
    ...TYPED_LITERALS,
    ...(inRoute ? keywords(['when', 'else']) : []),
  ];
}

function memberItems(ctx: Context, parents: readonly Node[], object: Expr): CompletionItem[] {
  const scope = scopeOf(ctx, parents);
  const typed = scope && checkExpr(scope, object);
  const t = typed && nonNull(typed.type);
  return t?.kind === 'record' ? fieldItems(t) : [];
}

function fieldItems(record: RecordType | undefined, fits: (type: AvroType) => boolean = () => true): CompletionItem[] {
  return (record?.fields ?? []).filter((f) => fits(f.type)).map((f, i) => ({
    label: f.name,
    kind: CompletionItemKind.Field,
    detail: typeToString(f.type),
    ...(f.doc ? { documentation: f.doc } : {}),
    // Fields first, in record order.
    sortText: `0${String(i).padStart(4, '0')}`,
  }));
}

function connectorItems(ctx: Context, role: ConnectorRole): CompletionItem[] {
  return [...ctx.connectors.values()].filter((c) => c.roles.includes(role)).map((c) => ({
    label: c.name,
    kind: CompletionItemKind.Module,
    detail: `connector (${c.roles.join(', ')})`,
    documentation: c.doc,
  }));
}

function optionItems(ctx: Context, decl: ConnectorUse): CompletionItem[] {
  const spec = ctx.connectors.get(decl.connector.name);
  if (!spec) return [];
  const used = new Set(decl.options.map((o) => o.name.name));
  const colon = ctx.after.trimStart().startsWith(':');
  return spec.options.filter((o) => !used.has(o.name) && optionRoles(spec, o).includes(decl.kind)).map((o) => ({
    label: o.name,
    kind: CompletionItemKind.Property,
    detail: `${optionType(o)}${o.required ? ' (required)' : ''}`,
    documentation: o.doc,
    insertText: colon ? o.name : o.type === 'enum' && o.values?.length ? `${o.name}: \${1|${o.values.join(',')}|}` : `${o.name}: $1`,
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: o.required ? `0${o.name}` : `1${o.name}`,
  }));
}

function optionValues(ctx: Context, decl: ConnectorUse, name: string): CompletionItem[] {
  const option = ctx.connectors.get(decl.connector.name)?.options.find((o) => o.name === name);
  if (!option) return [];
  if (option.type === 'enum') return (option.values ?? []).map((v) => ({ label: v, kind: CompletionItemKind.EnumMember, detail: `${name} of ${decl.connector.name}` }));
  if (option.type === 'boolean') return keywords(['true', 'false']);
  return option.default !== undefined ? [{ label: JSON.stringify(option.default), kind: CompletionItemKind.Value, detail: 'default' }] : [];
}

function dataItems(ctx: Context, exclude?: string): CompletionItem[] {
  return (ctx.resolved?.symbols ?? [])
    .filter((s) => (s.kind === 'source' || s.kind === 'stream' || s.kind === 'route-target') && s.name !== exclude && s.name !== PLACEHOLDER)
    .map((s) => ({ label: s.name, kind: s.kind === 'source' ? CompletionItemKind.Event : CompletionItemKind.Variable, detail: s.kind.replace('-', ' ') }));
}

function typeItems(ctx: Context): CompletionItem[] {
  const named = (ctx.resolved?.symbols ?? [])
    .filter((s) => (s.kind === 'schema' || s.kind === 'type') && s.name !== PLACEHOLDER)
    .map((s) => ({ label: s.name, kind: CompletionItemKind.Struct, detail: s.type ? typeToString(s.type) : s.kind }));
  return [...named, ...TYPE_FORMS];
}
