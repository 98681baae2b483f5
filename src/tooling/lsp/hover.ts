/**
 * Hover: the Avro type of a field or expression, the record a source or
 * stream carries, a schema, a function's signature and doc, a connector's or
 * a connector option's doc.
 */
import type { Hover } from 'vscode-languageserver';
import type { ConnectorSpec, ConnectorSpecs, OptionSpec } from '../../spi/spec.ts';
import { FUNCTIONS_BY_NAME, signatureText, type FunctionSpec } from '../../check/functions.ts';
import type { TypedExpr } from '../../check/typed.ts';
import type { SymbolInfo } from '../../resolve/resolve.ts';
import type {
  CallExpr, DeadLetterDecl, FieldDecl, FlatMapOp, Identifier, LookupOp, OnErrorOp, OptionEntry, SelectItem, SinkDecl, SourceDecl,
} from '../../syntax/ast.ts';
import type { AvroType, RecordType } from '../../types/avro-type.ts';
import { nonNull, typeToString } from '../../types/type-utils.ts';
import type { Analysis } from './analysis.ts';
import { spanToRange } from './diagnostics.ts';
import { identifierAt, innermostExpr, nodesAt, operatorExprs, streamPlace, symbolAt } from './locate.ts';
import { checkExpr, pathExpr, scopeAt, typedAt } from './scope.ts';
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
      return f ? hover(functionHover(f)) : null;
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
  const scope = scopeAt(a.scopes(), place);
  if (!scope) return null;
  const op = place.operator;
  if (ident && parent && op.kind === 'select') {
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
      const typed = checkExpr(scope, item.value);
      return typed ? hover([code(`${ident.name}: ${typeText(typed.type)}`)]) : null;
    }
  }
  if (ident && op.kind === 'lookup' && op.name === ident) {
    const after = a.scopes()?.operators.get(place.stream.operators[place.index + 1]!) ?? a.scopes()?.outputs.get(place.stream.name.name);
    const f = after?.fields.find((x) => x.name === ident.name);
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
      return [code(`source ${s.name}: ${s.type ? typeText(s.type) : '?'}`), source && `from connector \`${source.decl.connector.name}\``].filter(isText);
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

