/**
 * The canonical formatter (`sensei fmt`). It prints the AST again and puts
 * every comment back: a comment on a line of its own stays on its own line
 * before the element that follows it; a comment after code stays at the end
 * of that line; a comment inside an element printed on one line moves to the
 * end of that line (or, if it is a second line comment, onto its own line
 * above). Layout: 2-space indent, one `| operator` per line, blocks inline
 * when short and free of comments, blank lines between groups of
 * declarations and where the author left one. Formatting is idempotent.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import type {
  Comment, Declaration, FieldDecl, Identifier, Node, OptionEntry, Operator, RecordTypeExpr, SelectItem, SourceFile,
} from '../syntax/ast.ts';
import { textToAst } from '../syntax/parse.ts';
import { LineIndex } from '../syntax/line-index.ts';
import { quoteString } from '../syntax/strings.ts';
import { logicalChain, printExpr, printField, printFieldTail, printName, printType } from './print-expr.ts';

const WIDTH = 100;
/** A select with more computed items than this goes one item per line (plain names are short). */
const INLINE_SELECT_COMPUTED = 3;
/** A nested record type with more fields than this goes one field per line. */
const INLINE_RECORD_FIELDS = 2;
const INDENT = '  ';

export function formatText(file: string, text: string): { text?: string; diagnostics: Diagnostic[] } {
  const { ast, diagnostics } = textToAst(file, text);
  if (hasErrors(diagnostics)) return { diagnostics };
  return { text: new Formatter(text, ast).format(), diagnostics };
}

const start = (n: Node) => n.span.start.offset;
const end = (n: Node) => n.span.end.offset;

type Entry = { kind: 'pipeline'; node: Identifier & { span: Node['span'] } } | { kind: Declaration['kind']; node: Declaration };

class Formatter {
  private readonly lines: string[] = [];
  private readonly comments: Comment[];
  private readonly index: LineIndex;
  /** Index of the next comment not yet printed. */
  private next = 0;
  /** The last line opened a block (or nothing is printed yet): no blank line may follow. */
  private opened = true;

  constructor(
    private readonly text: string,
    private readonly ast: SourceFile,
  ) {
    this.comments = [...ast.comments].sort((a, b) => start(a) - start(b));
    this.index = new LineIndex(ast.file, text);
  }

  format(): string {
    const entries: Entry[] = [
      ...(this.ast.pipeline ? [{ kind: 'pipeline' as const, node: this.pipelineNode(this.ast.pipeline) }] : []),
      ...this.ast.declarations.map((d) => ({ kind: d.kind, node: d })),
    ].sort((a, b) => start(a.node) - start(b.node));
    let previous: { kind: string; multiline: boolean } | undefined;
    entries.forEach((entry, i) => {
      const limit = entries[i + 1] ? start(entries[i + 1]!.node) : Infinity;
      const groupStart = this.lines.length;
      const firstLine = this.declaration(entry, limit);
      const multiline = this.lines.length - 1 > firstLine;
      // A new group: another kind of declaration, or either neighbour spans several lines.
      if (previous && (previous.kind !== entry.kind || previous.multiline || multiline) && this.lines[groupStart] !== '') {
        this.lines.splice(groupStart, 0, '');
      }
      previous = { kind: entry.kind, multiline };
    });
    this.leadingComments(Infinity, 0);
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }

  /** The `pipeline` declaration is not a node of its own in the AST; its span starts at the keyword. */
  private pipelineNode(name: Identifier): Identifier & { span: Node['span'] } {
    const keyword = this.text.lastIndexOf('pipeline', start(name));
    return { name: name.name, span: this.index.span(keyword >= 0 ? keyword : start(name), end(name)) };
  }

  // ------------------------------------------------------------ lines and comments

  /** The source has a blank line right before `offset`. */
  private blankBefore(offset: number): boolean {
    let newlines = 0;
    for (let i = offset - 1; i >= 0; i--) {
      const c = this.text[i]!;
      if (c === '\n') newlines++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
    return newlines >= 2;
  }

  private blank(): void {
    if (!this.opened && this.lines.length > 0 && this.lines.at(-1) !== '') this.lines.push('');
  }

  /** Pushes a line; `text` may hold line breaks, whose continuation lines carry their own indentation. */
  private push(indent: number, text: string): number {
    this.lines.push((INDENT.repeat(indent) + text).trimEnd());
    this.opened = text.endsWith('{');
    return this.lines.length - 1;
  }

  private commentLine(indent: number, c: Comment): void {
    if (this.blankBefore(start(c))) this.blank();
    this.push(indent, c.text);
  }

  /** Prints the comments that start before `offset` on lines of their own. */
  private leadingComments(offset: number, indent: number): void {
    while (this.next < this.comments.length && start(this.comments[this.next]!) < offset) {
      this.commentLine(indent, this.comments[this.next++]!);
    }
  }

  /**
   * Prints one line for the source range [from, to): first the comments
   * before it, then the line with the comments inside the range and those
   * after it on the same source line (up to `limit`, where the next line's
   * range begins). Returns the index of the line.
   */
  private line(indent: number, text: string, from: number, to: number, limit: number): number {
    this.leadingComments(from, indent);
    if (this.blankBefore(from)) this.blank();
    const attached: Comment[] = [];
    const lastLine = this.index.position(Math.max(from, to - 1)).line;
    while (this.next < this.comments.length) {
      const c = this.comments[this.next]!;
      const inside = start(c) < to;
      const trailing = start(c) < limit && c.span.start.line === lastLine;
      if (!inside && !trailing) break;
      attached.push(c);
      this.next++;
    }
    const lineComments = attached.filter((c) => c.kind === 'line');
    // Only one line comment fits at the end of a line; earlier ones go above it.
    for (const c of lineComments.slice(0, -1)) this.push(indent, c.text);
    const tail = [...attached.filter((c) => c.kind === 'block'), ...lineComments.slice(-1)].map((c) => ` ${c.text}`).join('');
    return this.push(indent, text + tail);
  }

  /** The offset of the last `}` before `to`, outside comments (an options block's closing brace). */
  private closingBrace(to: number): number {
    let i = to - 1;
    for (; i >= 0; i--) {
      const inComment = this.comments.find((c) => start(c) <= i && i < end(c));
      if (inComment) i = start(inComment);
      else if (this.text[i] === '}') break;
    }
    return i;
  }

  private hasCommentsIn(from: number, to: number): boolean {
    return this.comments.slice(this.next).some((c) => start(c) >= from && start(c) < to);
  }

  // ------------------------------------------------------------ declarations

  /** Prints a declaration; returns the index of its first line. */
  private declaration(entry: Entry, limit: number): number {
    if (entry.kind === 'pipeline') {
      const node = entry.node as Identifier;
      return this.line(0, `pipeline ${printName(node, 'name')}`, start(node), end(node), limit);
    }
    const d = entry.node as Declaration;
    const from = start(d);
    switch (d.kind) {
      case 'import':
        return this.line(0, `import ${quoteString(d.path.value)}`, from, end(d), limit);
      case 'schema': {
        const head = `schema ${printName(d.name, 'name')}${d.doc !== undefined ? ` doc ${quoteString(d.doc)}` : ''}`;
        if (d.body.kind === 'avro-file') return this.line(0, `${head} = avro ${quoteString(d.body.path.value)}`, from, end(d), limit);
        return this.block(0, head, d, d.body.fields, end(d) - 1, limit, (f, indent, l) => this.field(f, indent, l));
      }
      case 'source': {
        const head = `source ${printName(d.name, 'name')}: ${printType(d.schema)} from ${printName(d.connector, 'name')}`;
        const path = (p: Identifier[]) => p.map((n) => printName(n, 'any')).join('.');
        const et = d.eventTime;
        const pb = d.partitionedBy;
        // Each clause after the options on a line of its own.
        const clauses: [Node, string][] = [
          ...(et ? [[et, [`event time ${path(et.path)}`, ...(et.lateness ? [`lateness ${et.lateness.text}`] : []), ...(et.idle ? [`idle ${et.idle.text}`] : [])].join(' ')] as [Node, string]] : []),
          ...(pb ? [[pb, `partitioned by ${pb.keys.map(path).join(', ')}`] as [Node, string]] : []),
        ];
        if (clauses.length === 0) return this.withOptions(head, d, d.options, limit);
        const first = this.withOptions(head, d, d.options, start(clauses[0]![0]), start(clauses[0]![0]));
        clauses.forEach(([node, text], i) => this.line(1, text, start(node), end(node), clauses[i + 1] ? start(clauses[i + 1]![0]) : limit));
        return first;
      }
      case 'sink':
        return this.withOptions(`sink ${printName(d.input, 'name')} to ${printName(d.connector, 'name')}`, d, d.options, limit);
      case 'dead-letter':
        return this.withOptions(`dead letter to ${printName(d.connector, 'name')}`, d, d.options, limit);
      case 'stream': {
        const first = d.operators[0];
        const head = this.line(0, `stream ${printName(d.name, 'name')} = ${printName(d.input, 'name')}`, from, end(d.input), first ? start(first) : limit);
        d.operators.forEach((op, i) => this.operator(op, d.operators[i + 1] ? start(d.operators[i + 1]!) : limit));
        return head;
      }
    }
  }

  /**
   * `head {` + one line per child + `}`; `head {}` when there is nothing
   * inside. `close` is the offset of the closing brace. Inside an operator
   * the children line up under the operator's keyword.
   */
  private block<C extends Node>(
    indent: number,
    head: string,
    node: Node,
    children: C[],
    close: number,
    limit: number,
    child: (c: C, indent: number, limit: number, separator: string) => void,
    layout: { inOperator?: boolean; commas?: boolean } = {},
  ): number {
    if (children.length === 0 && !this.hasCommentsIn(start(node), close)) {
      return this.line(indent, `${head} {}`, start(node), close + 1, limit);
    }
    const childIndent = layout.inOperator ? indent + 2 : indent + 1;
    const first = this.line(indent, `${head} {`, start(node), start(node) + 1, children[0] ? start(children[0]) : close);
    children.forEach((c, i) => {
      const next = children[i + 1];
      child(c, childIndent, next ? start(next) : close, next && layout.commas ? ',' : '');
    });
    this.leadingComments(close, childIndent);
    // The brace's own range: a source's clauses may follow it within the declaration, with their comments.
    this.line(layout.inOperator ? indent + 1 : indent, '}', close, close + 1, limit);
    return first;
  }

  private field(f: FieldDecl, indent: number, limit: number): void {
    const record = recordOf(f);
    const inline = printField(f);
    const short = record && record.fields.length <= INLINE_RECORD_FIELDS && fits(indent, inline);
    if (!record || (short && !this.hasCommentsIn(start(record), end(record)))) {
      this.line(indent, inline, start(f), end(f), limit);
      return;
    }
    const recordClose = end(record) - 1;
    const head = `${printName(f.name, 'any')}: record ${printName(record.name, 'name')}`;
    const first = record.fields[0];
    this.line(indent, `${head} {`, start(f), start(f) + 1, first ? start(first) : recordClose);
    record.fields.forEach((nested, i) => this.field(nested, indent + 1, record.fields[i + 1] ? start(record.fields[i + 1]!) : recordClose));
    this.leadingComments(recordClose, indent + 1);
    const nullable = f.type.kind === 'nullable' ? '?' : '';
    this.line(indent, `}${nullable}${printFieldTail(f)}`, recordClose, end(f), limit);
  }

  /** `head { options }`; `to`: where the declaration's options end (a source's `event time` clause may follow). */
  private withOptions(head: string, d: Declaration, options: OptionEntry[], limit: number, to = end(d)): number {
    const entries = options.map((o) => `${optionName(o.name)}: ${printExpr(o.value)}`);
    const inline = options.length === 0 ? head : `${head} { ${entries.join(', ')} }`;
    const close = options.length === 0 ? to - 1 : this.closingBrace(to);
    if (options.length === 0 || (fits(0, inline) && !this.hasCommentsIn(start(options[0]!), close))) {
      return this.line(0, inline, start(d), close + 1, limit);
    }
    return this.block(
      0, head, d, options, close, limit,
      (o, indent, l, separator) => this.line(indent, `${optionName(o.name)}: ${printExpr(o.value)}${separator}`, start(o), end(o), l),
      { commas: true },
    );
  }

  // ------------------------------------------------------------ operators

  private operator(op: Operator, limit: number): void {
    const simple = (text: string) => this.line(1, `| ${text}`, start(op), end(op), limit);
    switch (op.kind) {
      case 'where': {
        // A long condition breaks before each top-level `and` (or `or`), the parts lined up under `where`'s operand.
        const parts = logicalChain(op.condition);
        const oneLine = `where ${printExpr(op.condition)}`;
        if (fits(1, `| ${oneLine}`) || parts.length === 1) return void simple(oneLine);
        return void simple(`where ${parts.join(`\n${INDENT.repeat(3)}`)}`);
      }
      case 'key-by':
        return void simple(`key by ${printExpr(op.key)}`);
      case 'flat-map':
        return void simple(`flat map ${printExpr(op.field)} as ${printName(op.as, 'name')}`);
      case 'union':
        return void simple(`union ${op.streams.map((s) => printName(s, 'name')).join(', ')}`);
      case 'on-error':
        return void simple(`on error ${printName(op.policy, 'name')}`);
      case 'dedupe':
        return void simple(`dedupe by ${printExpr(op.key)} within ${op.within.text}`);
      case 'window': {
        const size = `${op.gap ? 'gap ' : ''}${op.size.text}`;
        return void simple(`window ${printName(op.shape, 'any')} ${size}${op.every ? ` every ${op.every.text}` : ''}${op.emit ? ` emit ${printName(op.emit, 'any')}` : ''}`);
      }
      case 'group': {
        const head = `| group${op.keys.length > 0 ? ` by ${op.keys.map(selectItem).join(', ')}` : ''}`;
        const inline = `${head} { ${op.aggregates.map(selectItem).join(', ')} }`;
        if (op.aggregates.length > 0 && op.aggregates.length <= INLINE_SELECT_COMPUTED && fits(1, inline) && !this.hasCommentsIn(start(op), end(op))) {
          return void this.line(1, inline, start(op), end(op), limit);
        }
        return void this.block(
          1, head, op, op.aggregates, end(op) - 1, limit,
          (item, indent, l, separator) => this.line(indent, selectItem(item) + separator, start(item), end(item), l),
          { inOperator: true, commas: true },
        );
      }
      case 'lookup': {
        const head = `| lookup ${printName(op.name, 'name')}: ${printType(op.schema)} from ${printName(op.connector, 'name')}`;
        const option = (o: OptionEntry) => `${optionName(o.name)}: ${printExpr(o.value)}`;
        const inline = op.options.length === 0 ? head : `${head} { ${op.options.map(option).join(', ')} }`;
        if (op.options.length === 0 || (fits(1, inline) && !this.hasCommentsIn(start(op.options[0]!), end(op)))) {
          return void this.line(1, inline, start(op), end(op), limit);
        }
        return void this.block(
          1, head, op, op.options, end(op) - 1, limit,
          (o, indent, l, separator) => this.line(indent, `${option(o)}${separator}`, start(o), end(o), l),
          { inOperator: true, commas: true },
        );
      }
      case 'select': {
        const inline = `| select { ${op.items.map(selectItem).join(', ')} }`;
        const computed = op.items.filter((i) => i.kind === 'compute').length;
        if (op.items.length > 0 && computed <= INLINE_SELECT_COMPUTED && fits(1, inline) && !this.hasCommentsIn(start(op), end(op))) {
          return void this.line(1, inline, start(op), end(op), limit);
        }
        return void this.block(
          1, '| select', op, op.items, end(op) - 1, limit,
          (item, indent, l, separator) => this.line(indent, selectItem(item) + separator, start(item), end(item), l),
          { inOperator: true, commas: true },
        );
      }
      case 'route': {
        type Arm = Node & { text: string };
        const arms: Arm[] = [
          ...op.branches.map((b) => ({ span: b.span, text: `when ${printExpr(b.condition)} => ${printName(b.target, 'name')}` })),
          ...(op.otherwise ? [{ span: op.otherwise.span, text: `else => ${printName(op.otherwise, 'name')}` }] : []),
        ];
        return void this.block(
          1, '| route', op, arms, end(op) - 1, limit,
          (arm, indent, l) => this.line(indent, arm.text, start(arm), end(arm), l),
          { inOperator: true },
        );
      }
    }
  }
}

function selectItem(item: SelectItem): string {
  switch (item.kind) {
    case 'all':
      return '*';
    case 'drop':
      return `-${printName(item.name, 'any')}`;
    case 'keep':
      return item.path.map((p) => printName(p, 'any')).join('.');
    case 'compute':
      return `${printName(item.name, 'any')}: ${printExpr(item.value)}`;
  }
}

/** Option names that are not words (`group.id`) are written as strings. */
function optionName(name: Identifier): string {
  const printed = printName(name, 'any');
  return printed.startsWith('`') ? quoteString(name.name) : printed;
}

/** The record type a field declares inline, directly or as `record R {...}?`. */
function recordOf(f: FieldDecl): RecordTypeExpr | undefined {
  const t = f.type.kind === 'nullable' ? f.type.inner : f.type;
  return t.kind === 'record' ? t : undefined;
}

const fits = (indent: number, text: string) => INDENT.length * indent + text.length <= WIDTH && !text.includes('\n');
