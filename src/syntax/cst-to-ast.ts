/**
 * CST → AST. The CST may have holes where the parser recovered from errors
 * (missing children, tokens inserted with no position); every function here
 * tolerates them: a broken expression becomes an `ErrorExpr`, a declaration
 * missing a required part is dropped (the parser already reported why).
 * Spans come from the offsets of the real tokens under each CST node.
 */
import { tokenMatcher, type CstElement, type CstNode, type IToken } from '../../grammar/chevrotain.ts';
import * as T from '../../grammar/tokens.ts';
import type * as A from './ast.ts';
import type { LineIndex } from './line-index.ts';
import { unescapeString } from './strings.ts';

type Range = [start: number, end: number];

const isToken = (e: CstElement): e is IToken => 'image' in e;
const isReal = (t: IToken) => !t.isInsertedInRecovery && Number.isFinite(t.startOffset);

const binaryOps: Record<string, A.BinaryOp> = {
  QuestionQuestion: '??', Or: 'or', PipePipe: 'or', And: 'and', AmpAmp: 'and',
  Plus: '+', Minus: '-', Star: '*', Slash: '/', Percent: '%',
  EqualEqual: '==', NotEqual: '!=', Less: '<', LessEqual: '<=', Greater: '>', GreaterEqual: '>=',
  Like: 'like', Matches: 'matches',
};

const primitiveNames = new Set<string>([
  'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string',
  'date', 'time_millis', 'time_micros', 'timestamp_millis', 'timestamp_micros', 'uuid',
]);

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export interface ConvertedFile {
  pipeline?: A.Identifier;
  declarations: A.Declaration[];
}

export class CstToAst {
  constructor(
    private readonly index: LineIndex,
    /** Reports problems the grammar cannot express (e.g. a fractional `fixed` size). */
    private readonly error: (range: Range, message: string, hints?: string[]) => void,
  ) {}

  // ------------------------------------------------------------ CST access

  private tokens(n: CstNode | undefined, label: string): IToken[] {
    return (n?.children[label] ?? []).filter((e): e is IToken => isToken(e) && isReal(e));
  }

  private token(n: CstNode | undefined, label: string): IToken | undefined {
    return this.tokens(n, label)[0];
  }

  private nodes(n: CstNode | undefined, label: string): CstNode[] {
    return (n?.children[label] ?? []).filter((e): e is CstNode => !isToken(e));
  }

  private node(n: CstNode | undefined, label: string): CstNode | undefined {
    return this.nodes(n, label)[0];
  }

  /** Offsets covered by the real tokens of an element; undefined when it has none. */
  private range(e: CstElement | undefined): Range | undefined {
    if (!e) return undefined;
    if (isToken(e)) return isReal(e) ? [e.startOffset, e.startOffset + e.image.length] : undefined;
    // The parser tracks each node's offsets (end inclusive); they are NaN only for a node made of inserted tokens.
    const location = e.location;
    if (location && Number.isFinite(location.startOffset) && Number.isFinite(location.endOffset)) {
      return [location.startOffset, location.endOffset! + 1];
    }
    return undefined;
  }

  private rangeOf(...elements: (CstElement | undefined)[]): Range | undefined {
    let result: Range | undefined;
    for (const e of elements) {
      const r = this.range(e);
      if (r) result = result ? [Math.min(result[0], r[0]), Math.max(result[1], r[1])] : r;
    }
    return result;
  }

  private spanOf(fallback: number, ...elements: (CstElement | undefined)[]): A.Node['span'] {
    const r = this.rangeOf(...elements) ?? [fallback, fallback];
    return this.index.span(r[0], r[1]);
  }

  private endOf(...elements: (CstElement | undefined)[]): number {
    return this.rangeOf(...elements)?.[1] ?? this.index.text.length;
  }

  // ------------------------------------------------------------ leaves

  private identifier(t: IToken | undefined): A.Identifier | undefined {
    if (!t) return undefined;
    const quoted = t.image.startsWith('`');
    const name = quoted ? t.image.slice(1, t.image.endsWith('`') && t.image.length > 1 ? -1 : undefined) : t.image;
    return { name, span: this.spanOf(t.startOffset, t) };
  }

  private stringLiteral(t: IToken | undefined): A.StringLiteral | undefined {
    if (!t) return undefined;
    return { kind: 'string', value: unescapeString(t.image), span: this.spanOf(t.startOffset, t) };
  }

  private duration(t: IToken | undefined): A.DurationLiteral | undefined {
    if (!t) return undefined;
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(t.image);
    if (!m) return undefined;
    return { kind: 'duration', text: t.image, millis: Number(m[1]) * durationUnits[m[2]!]!, span: this.spanOf(t.startOffset, t) };
  }

  private number(t: IToken): A.NumberLiteral {
    const last = t.image.at(-1)!;
    const suffix = last === 'L' || last === 'f' || last === 'd' ? last : '';
    return { kind: 'number', text: suffix ? t.image.slice(0, -1) : t.image, suffix, span: this.spanOf(t.startOffset, t) };
  }

  /** A whole number where the grammar takes a size (`fixed`, `decimal`). */
  private wholeNumber(t: IToken | undefined, what: string): number | undefined {
    if (!t) return undefined;
    if (!/^\d+$/.test(t.image)) {
      this.error(this.range(t)!, `${what} must be a whole number, found \`${t.image}\``);
      return undefined;
    }
    return Number(t.image);
  }

  private doc(n: CstNode | undefined): string | undefined {
    const t = this.token(this.node(n, 'docClause'), 'text');
    return t ? unescapeString(t.image) : undefined;
  }

  // ------------------------------------------------------------ declarations

  sourceFile(roots: CstNode[]): ConvertedFile {
    const result: ConvertedFile = { declarations: [] };
    for (const root of roots) {
      for (const decl of this.nodes(root, 'declarations')) {
        const inner = Object.values(decl.children)[0]?.[0];
        if (!inner || isToken(inner)) continue;
        if (inner.name === 'pipelineDecl') {
          const name = this.identifier(this.token(inner, 'name'));
          if (!name) continue;
          if (result.pipeline) {
            this.error(this.range(inner)!, 'a file declares its `pipeline` name once', [
              `the name was already declared as \`${result.pipeline.name}\``,
            ]);
          } else {
            result.pipeline = name;
          }
          continue;
        }
        const converted = this.declaration(inner);
        if (converted) result.declarations.push(converted);
      }
    }
    return result;
  }

  private declaration(n: CstNode): A.Declaration | undefined {
    const span = this.spanOf(0, n);
    switch (n.name) {
      case 'importDecl': {
        const path = this.stringLiteral(this.token(n, 'path'));
        return path && { kind: 'import', path, span };
      }
      case 'schemaDecl': {
        const name = this.identifier(this.token(n, 'name'));
        if (!name) return undefined;
        const doc = this.doc(n);
        const path = this.stringLiteral(this.token(n, 'path'));
        const record = this.node(n, 'recordBody');
        const body: A.SchemaDecl['body'] | undefined = path
          ? { kind: 'avro-file', path }
          : record
            ? { kind: 'record', fields: this.fields(record) }
            : undefined;
        return body && { kind: 'schema', name, ...(doc !== undefined ? { doc } : {}), body, span };
      }
      case 'sourceDecl': {
        const name = this.identifier(this.token(n, 'name'));
        const schema = this.typeExpr(this.node(n, 'schema'));
        const connector = this.identifier(this.token(n, 'connector'));
        if (!name || !schema || !connector) return undefined;
        const eventTime = this.eventTime(this.node(n, 'eventTimeClause'));
        const partitionedBy = this.partitionedBy(this.node(n, 'partitionClause'));
        return { kind: 'source', name, schema, connector, options: this.options(n), ...(eventTime ? { eventTime } : {}), ...(partitionedBy ? { partitionedBy } : {}), span };
      }
      case 'sinkDecl': {
        const input = this.identifier(this.token(n, 'input'));
        const connector = this.identifier(this.token(n, 'connector'));
        if (!input || !connector) return undefined;
        return { kind: 'sink', input, connector, options: this.options(n), span };
      }
      case 'deadLetterDecl': {
        const connector = this.identifier(this.token(n, 'connector'));
        return connector && { kind: 'dead-letter', connector, options: this.options(n), span };
      }
      case 'streamDecl': {
        const name = this.identifier(this.token(n, 'name'));
        const input = this.identifier(this.token(n, 'input'));
        if (!name || !input) return undefined;
        const operators = this.nodes(n, 'operators')
          .map((op) => this.operator(op))
          .filter((op): op is A.Operator => op !== undefined);
        return { kind: 'stream', name, input, operators, span };
      }
      default:
        return undefined;
    }
  }

  private fields(recordBody: CstNode): A.FieldDecl[] {
    const fields: A.FieldDecl[] = [];
    for (const f of this.nodes(recordBody, 'fields')) {
      const name = this.identifier(this.token(f, 'name'));
      const type = this.typeExpr(this.node(f, 'type'));
      if (!name || !type) continue;
      const defaultNode = this.node(f, 'default');
      const doc = this.doc(f);
      fields.push({
        name,
        type,
        ...(defaultNode ? { default: this.expression(defaultNode, this.endOf(f)) } : {}),
        ...(doc !== undefined ? { doc } : {}),
        span: this.spanOf(0, f),
      });
    }
    return fields;
  }

  private typeExpr(n: CstNode | undefined): A.TypeExpr | undefined {
    const base = this.baseType(this.node(n, 'base'));
    if (!base || !n) return undefined;
    return this.token(n, 'nullable') ? { kind: 'nullable', inner: base, span: this.spanOf(0, n) } : base;
  }

  private baseType(n: CstNode | undefined): A.TypeExpr | undefined {
    if (!n) return undefined;
    const span = this.spanOf(0, n);
    const name = () => this.identifier(this.token(n, 'name'));
    if (this.token(n, 'record')) {
      const id = name();
      const body = this.node(n, 'recordBody');
      return id && body && { kind: 'record', name: id, fields: this.fields(body), span };
    }
    if (this.token(n, 'enum')) {
      const id = name();
      const symbols = this.tokens(n, 'symbols').map((t) => this.identifier(t)!);
      return id && { kind: 'enum', name: id, symbols, span };
    }
    if (this.token(n, 'fixed')) {
      const id = name();
      const size = this.wholeNumber(this.token(n, 'size'), 'the size of a `fixed` type');
      return id && size !== undefined ? { kind: 'fixed', name: id, size, span } : undefined;
    }
    if (this.token(n, 'decimal')) {
      const precision = this.wholeNumber(this.token(n, 'precision'), 'the precision of a `decimal`');
      const scale = this.wholeNumber(this.token(n, 'scale'), 'the scale of a `decimal`');
      return precision !== undefined && scale !== undefined ? { kind: 'decimal', precision, scale, span } : undefined;
    }
    if (this.token(n, 'array')) {
      const items = this.typeExpr(this.node(n, 'items'));
      return items && { kind: 'array', items, span };
    }
    if (this.token(n, 'map')) {
      const values = this.typeExpr(this.node(n, 'values'));
      return values && { kind: 'map', values, span };
    }
    if (this.token(n, 'null')) return { kind: 'primitive', name: 'null', span };
    const named = this.token(n, 'named');
    if (!named) return undefined;
    // A quoted name is always a reference, so a schema may be called `string`.
    if (primitiveNames.has(named.image)) return { kind: 'primitive', name: named.image as A.PrimitiveName, span };
    return { kind: 'named', name: this.identifier(named)!, span };
  }

  private options(decl: CstNode): A.OptionEntry[] {
    const entries: A.OptionEntry[] = [];
    for (const e of this.nodes(this.node(decl, 'optionsBlock'), 'entries')) {
      const key = this.token(e, 'name');
      if (!key) continue;
      const name = tokenMatcher(key, T.StringLiteral)
        ? { name: unescapeString(key.image), span: this.spanOf(key.startOffset, key) }
        : this.identifier(key)!;
      entries.push({ name, value: this.expression(this.node(e, 'value'), this.endOf(e)), span: this.spanOf(0, e) });
    }
    return entries;
  }

  private partitionedBy(n: CstNode | undefined): A.PartitionClause | undefined {
    if (!n) return undefined;
    const keys = this.nodes(n, 'key').map((k) => this.tokens(k, 'path').map((t) => this.identifier(t)!)).filter((k) => k.length > 0);
    return keys.length === 0 ? undefined : { keys, span: this.spanOf(0, n) };
  }

  private eventTime(n: CstNode | undefined): A.EventTimeClause | undefined {
    if (!n) return undefined;
    const path = this.tokens(n, 'path').map((t) => this.identifier(t)!);
    if (path.length === 0) return undefined;
    const lateness = this.duration(this.token(n, 'lateness'));
    const idle = this.duration(this.token(n, 'idle'));
    return { path, ...(lateness ? { lateness } : {}), ...(idle ? { idle } : {}), span: this.spanOf(0, n) };
  }

  // ------------------------------------------------------------ operators

  private operator(wrapper: CstNode): A.Operator | undefined {
    const n = Object.values(wrapper.children)[0]?.[0];
    if (!n || isToken(n)) return undefined;
    const span = this.spanOf(0, n);
    const end = this.endOf(n);
    switch (n.name) {
      case 'whereOp':
        return { kind: 'where', condition: this.expression(this.node(n, 'condition'), end), span };
      case 'selectOp':
        return { kind: 'select', items: this.nodes(n, 'items').flatMap((i) => this.selectItem(i) ?? []), span };
      case 'keyByOp':
        return { kind: 'key-by', key: this.expression(this.node(n, 'key'), end), span };
      case 'flatMapOp': {
        const as = this.identifier(this.token(n, 'as'));
        return as && { kind: 'flat-map', field: this.expression(this.node(n, 'field'), end), as, span };
      }
      case 'unionOp': {
        const streams = this.tokens(n, 'streams').map((t) => this.identifier(t)!);
        return streams.length > 0 ? { kind: 'union', streams, span } : undefined;
      }
      case 'routeOp': {
        const branches = this.nodes(n, 'branches').flatMap((b) => {
          const target = this.identifier(this.token(b, 'target'));
          return target ? [{ condition: this.expression(this.node(b, 'condition'), this.endOf(b)), target, span: this.spanOf(0, b) }] : [];
        });
        const otherwise = this.identifier(this.token(n, 'otherwise'));
        return { kind: 'route', branches, ...(otherwise ? { otherwise } : {}), span };
      }
      case 'onErrorOp': {
        const policy = this.identifier(this.token(n, 'policy'));
        return policy && { kind: 'on-error', policy, span };
      }
      case 'dedupeOp': {
        const within = this.duration(this.token(n, 'within'));
        return within && { kind: 'dedupe', key: this.expression(this.node(n, 'key'), end), within, span };
      }
      case 'lookupOp': {
        const name = this.identifier(this.token(n, 'name'));
        const schema = this.typeExpr(this.node(n, 'schema'));
        const connector = this.identifier(this.token(n, 'connector'));
        if (!name || !schema || !connector) return undefined;
        return { kind: 'lookup', name, schema, connector, options: this.options(n), span };
      }
      case 'windowOp': {
        const shape = this.identifier(this.token(n, 'shape'));
        const size = this.duration(this.token(n, 'size'));
        if (!shape || !size) return undefined;
        const every = this.duration(this.token(n, 'every'));
        const emit = this.identifier(this.token(n, 'emit'));
        return { kind: 'window', shape, gap: this.token(n, 'gap') !== undefined, size, ...(every ? { every } : {}), ...(emit ? { emit } : {}), span };
      }
      case 'groupOp': {
        const items = (label: string) => this.nodes(n, label).flatMap((i) => this.selectItem(i) ?? []);
        return { kind: 'group', keys: items('keys'), aggregates: items('aggregates'), span };
      }
      default:
        return undefined;
    }
  }

  private selectItem(n: CstNode): A.SelectItem | undefined {
    const span = this.spanOf(0, n);
    if (this.token(n, 'all')) return { kind: 'all', span };
    const name = this.identifier(this.token(n, 'name'));
    if (this.token(n, 'drop')) return name && { kind: 'drop', name, span };
    const value = this.node(n, 'value');
    if (name && (value || n.children.Colon)) return { kind: 'compute', name, value: this.expression(value, this.endOf(n)), span };
    const path = this.tokens(n, 'path').map((t) => this.identifier(t)!);
    return path.length > 0 ? { kind: 'keep', path, span } : undefined;
  }

  // ------------------------------------------------------------ expressions

  private errorExpr(at: number, ...elements: (CstElement | undefined)[]): A.ErrorExpr {
    return { kind: 'error', span: this.spanOf(at, ...elements) };
  }

  /** Any expression-level CST node; `fallback` places an `ErrorExpr` when the node is missing. */
  expression(n: CstNode | undefined, fallback: number): A.Expr {
    if (!n) return this.errorExpr(fallback);
    switch (n.name) {
      case 'expression':
      case 'orExpr':
      case 'andExpr':
      case 'additive':
      case 'multiplicative':
        return this.fold(n, fallback);
      case 'nestedExpression':
        return this.expression(this.node(n, 'expression'), this.endOf(n) ?? fallback);
      case 'notExpr':
      case 'unary': {
        const operand = this.node(n, 'operand');
        const op = this.token(n, 'not') ? 'not' : this.token(n, 'minus') ? '-' : undefined;
        const inner = this.expression(operand, this.endOf(n));
        return op ? { kind: 'unary', op, operand: inner, span: this.spanOf(fallback, n) } : inner;
      }
      case 'comparison':
        return this.comparison(n, fallback);
      case 'postfix':
        return this.postfix(n, fallback);
      case 'primary':
        return this.primary(n, fallback);
      default:
        return this.errorExpr(fallback, n);
    }
  }

  /** Left-associative chain `operands[0] ops[0] operands[1] ...`. */
  private fold(n: CstNode, fallback: number): A.Expr {
    const operands = this.nodes(n, 'operands');
    const ops = (n.children.ops ?? []).filter(isToken);
    let result = this.expression(operands[0], fallback);
    ops.forEach((op, i) => {
      const rightNode = operands[i + 1];
      const right = this.expression(rightNode, this.endOf(operands[i], op));
      result = {
        kind: 'binary',
        op: binaryOps[op.tokenType.name]!,
        left: result,
        right,
        span: this.spanOf(fallback, operands[0], op, rightNode),
      };
    });
    return result;
  }

  private comparison(n: CstNode, fallback: number): A.Expr {
    const first = this.node(n, 'operand');
    let result = this.expression(first, fallback);
    for (const tail of this.nodes(n, 'tails')) {
      const span = this.spanOf(fallback, first, tail);
      const end = this.endOf(tail);
      const negated = this.token(tail, 'not') !== undefined;
      const op = this.token(tail, 'op');
      if (op) {
        result = { kind: 'binary', op: binaryOps[op.tokenType.name]!, left: result, right: this.expression(this.node(tail, 'right'), end), span };
      } else if (this.token(tail, 'in')) {
        const list = this.nodes(this.node(tail, 'list'), 'items').map((item) => this.expression(item, end));
        result = { kind: 'in', value: result, list, negated, span };
      } else if (this.token(tail, 'between')) {
        const low = this.expression(this.node(tail, 'low'), end);
        const high = this.expression(this.node(tail, 'high'), end);
        result = { kind: 'between', value: result, low, high, negated, span };
      } else {
        result = this.errorExpr(fallback, first, tail);
      }
    }
    return result;
  }

  private postfix(n: CstNode, fallback: number): A.Expr {
    const primary = this.node(n, 'primary');
    let result = this.expression(primary, fallback);
    for (const op of this.nodes(n, 'ops')) {
      const span = this.spanOf(fallback, primary, op);
      const dot = this.token(op, 'dot');
      if (dot) {
        const property = this.identifier(this.token(op, 'property'));
        result = property
          ? { kind: 'member', object: result, property, nullSafe: tokenMatcher(dot, T.QuestionDot), span }
          : { kind: 'error', span };
      } else {
        const index = this.expression(this.node(op, 'index'), this.endOf(op));
        result = { kind: 'index', object: result, index, nullSafe: this.token(op, 'nullSafe') !== undefined, span };
      }
    }
    return result;
  }

  private primary(n: CstNode, fallback: number): A.Expr {
    const span = this.spanOf(fallback, n);
    const end = this.endOf(n);
    const c = n.children;
    const number = this.token(n, 'number');
    if (number) return this.number(number);
    const duration = this.token(n, 'duration');
    if (duration) return this.duration(duration) ?? this.errorExpr(fallback, n);
    const typed = this.token(n, 'typed');
    const string = this.stringLiteral(this.token(n, 'string'));
    if (typed) {
      return string
        ? { kind: 'typed', type: typed.image as A.TypedLiteral['type'], value: string, span }
        : this.errorExpr(fallback, n);
    }
    if (string) return string;
    const boolean = this.token(n, 'boolean');
    if (boolean) return { kind: 'boolean', value: boolean.image === 'true', span };
    if (this.token(n, 'null')) return { kind: 'null', span };
    const field = this.identifier(this.token(n, 'field'));
    if (field) return { kind: 'field', name: field, span };
    if (c.parenthesized) return this.expression(this.node(n, 'parenthesized'), end);
    const inner = this.nodes(n, 'call')[0] ?? this.nodes(n, 'mapLiteral')[0] ?? this.nodes(n, 'arrayLiteral')[0] ??
      this.nodes(n, 'ifExpr')[0] ?? this.nodes(n, 'caseExpr')[0];
    if (!inner) return this.errorExpr(fallback, n);
    switch (inner.name) {
      case 'call': {
        const callee = this.identifier(this.token(inner, 'callee'));
        const args = this.nodes(this.node(inner, 'args'), 'items').map((a) => this.expression(a, end));
        return callee ? { kind: 'call', callee, args, span } : this.errorExpr(fallback, n);
      }
      case 'mapLiteral': {
        const keys = this.tokens(inner, 'keys');
        const values = this.nodes(inner, 'values');
        const entries = keys.slice(0, values.length).map((k, i) => ({
          key: this.stringLiteral(k)!,
          value: this.expression(values[i], end),
        }));
        return { kind: 'map', entries, span };
      }
      case 'arrayLiteral':
        return { kind: 'array', items: this.nodes(this.node(inner, 'items'), 'items').map((i) => this.expression(i, end)), span };
      case 'ifExpr':
        return {
          kind: 'if',
          condition: this.expression(this.node(inner, 'condition'), end),
          then: this.expression(this.node(inner, 'then'), end),
          otherwise: this.expression(this.node(inner, 'otherwise'), end),
          span,
        };
      case 'caseExpr': {
        const conditions = this.nodes(inner, 'conditions');
        const values = this.nodes(inner, 'values');
        const otherwise = this.node(inner, 'otherwise');
        return {
          kind: 'case',
          branches: conditions.map((cond, i) => ({ condition: this.expression(cond, end), value: this.expression(values[i], end) })),
          ...(otherwise ? { otherwise: this.expression(otherwise, end) } : {}),
          span,
        };
      }
      default:
        return this.errorExpr(fallback, n);
    }
  }
}
