/**
 * Type checking of expressions against the record in scope. Each check
 * returns a TypedExpr, or undefined after reporting an error (enclosing
 * expressions then stay silent, so one mistake gives one diagnostic).
 *
 * Semantics the types encode (codegen implements them):
 * - Arithmetic, unary minus, `like`-free string `+`, casts and strict library
 *   calls are null when an operand is null: their type is nullable when an
 *   operand's is.
 * - `==`, `!=`, `in` are null-aware (null equals only null); ordering,
 *   `between`, `like` and `matches` are false when an operand is null. All
 *   give a non-null boolean.
 * - `and`, `or`, `not` follow SQL's three-valued logic: nullable when an
 *   operand is.
 * - `a[i]` on an array and `m[k]` on a map are nullable: an index out of
 *   range and a missing key give null.
 * - `a.b` on a nullable record needs `a?.b` (nullable result), unless a
 *   condition already showed `a` is not null: `a != null and a.b > 0`,
 *   `if a != null then a.b else 0`, and after `where a != null`.
 * - Integral division truncates; a duration is a long of milliseconds
 *   (microseconds next to a timestamp_micros).
 */
import type { Diagnostic, Fix, Span } from '../diagnostics/diagnostic.ts';
import { diagnostic, type Code } from '../diagnostics/codes.ts';
import type { AvroType, RecordType } from '../types/avro-type.ts';
import type { BinaryExpr, Expr, Identifier } from '../syntax/ast.ts';
import { closestMatch } from '../syntax/suggest.ts';
import { evalLiteral, parseTimeMicros, parseTimestampMicros } from '../resolve/constants.ts';
import {
  arithmeticType, isIntegral, isNullable, isNumeric, isStringLike, isTimestamp, nonNull, nullable, nullableIf, T, typesEqual, typeToString,
  unifyTypes,
} from '../types/type-utils.ts';
import { AGGREGATES } from './aggregates.ts';
import { acceptsType, arityProblem, FUNCTIONS_BY_NAME, PARAM_TYPE_TEXT, signatureText, TIME_UNITS, type Argument } from './functions.ts';
import type { TypedExpr } from './typed.ts';

/** Paths (`a`, `a.b`) known not to be null where an expression is evaluated. */
export type NonNullPaths = ReadonlySet<string>;

type Literal = Extract<TypedExpr, { k: 'literal' }>;

const JSON_PATH = /^\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['[^']*'\]|\["[^"]*"\])*$/;

export class ExprChecker {
  /** Exact microsecond values of timestamp and time literals, for comparisons with *_micros values. */
  private readonly micros = new WeakMap<TypedExpr, number>();

  constructor(
    private readonly diagnostics: Diagnostic[],
    private readonly record: RecordType,
  ) {}

  private report(code: Code, span: Span, message: string, extra?: Parameters<typeof diagnostic>[3]): undefined {
    this.diagnostics.push(diagnostic(code, span, message, extra));
    return undefined;
  }

  private mismatch(span: Span, message: string, hints: string[] = [], fixes?: Fix[]): undefined {
    return this.report('type-mismatch', span, message, { hints, ...(fixes ? { fixes } : {}) });
  }

  /** Checks a condition: a boolean, nullable allowed (null counts as false). */
  condition(e: Expr, known: NonNullPaths, what: string): TypedExpr | undefined {
    const t = this.check(e, known);
    if (!t) return undefined;
    const k = nonNull(t.type).kind;
    if (k !== 'boolean' && k !== 'null') return this.mismatch(e.span, `${what} must be a boolean, found ${typeToString(t.type)}`);
    return t;
  }

  check(e: Expr, known: NonNullPaths): TypedExpr | undefined {
    switch (e.kind) {
      case 'number':
      case 'string':
      case 'boolean':
      case 'null':
      case 'typed':
      case 'duration':
        return this.literal(e);
      case 'array':
        return this.array(e, known);
      case 'map':
        return this.map(e, known);
      case 'field':
        return this.field(e.name, e.span, known);
      case 'member':
        return this.member(e, known);
      case 'index':
        return this.index(e, known);
      case 'call':
        return this.call(e, known);
      case 'unary':
        return this.unary(e, known);
      case 'binary':
        return this.binary(e, known);
      case 'in':
        return this.in(e, known);
      case 'between': {
        const [value, low, high] = [this.check(e.value, known), this.check(e.low, known), this.check(e.high, known)];
        if (!value || !low || !high) return undefined;
        const lo = this.comparable(value, low, true, e.low.span);
        const hi = lo && this.comparable(value, high, true, e.high.span);
        if (!lo || !hi) return undefined;
        return { k: 'between', value: lo[0], low: lo[1], high: hi[1], negated: e.negated, type: T.boolean, span: e.span };
      }
      case 'if': {
        const condition = this.condition(e.condition, known, 'the condition of `if`');
        const then = this.check(e.then, withPaths(known, nonNullWhen(e.condition, true)));
        const otherwise = this.check(e.otherwise, withPaths(known, nonNullWhen(e.condition, false)));
        if (!condition || !then || !otherwise) return undefined;
        const type = unifyTypes(then.type, otherwise.type);
        if (!type) return this.mismatch(e.span, `the branches of \`if\` have different types: ${typeToString(then.type)} and ${typeToString(otherwise.type)}`);
        return { k: 'if', condition, then, otherwise, type, span: e.span };
      }
      case 'case': {
        const branches: { condition: TypedExpr; value: TypedExpr }[] = [];
        let ok = true;
        for (const b of e.branches) {
          const condition = this.condition(b.condition, known, 'a `when` condition');
          const value = this.check(b.value, withPaths(known, nonNullWhen(b.condition, true)));
          if (condition && value) branches.push({ condition, value });
          else ok = false;
        }
        const otherwise: TypedExpr | undefined = e.otherwise ? this.check(e.otherwise, known) : { k: 'literal', value: null, type: T.null, span: e.span };
        if (!ok || !otherwise) return undefined;
        let type: AvroType | undefined = otherwise.type;
        for (const b of branches) {
          const joined: AvroType | undefined = unifyTypes(type!, b.value.type);
          if (!joined) return this.mismatch(b.value.span, `this \`case\` branch is ${typeToString(b.value.type)}, the others are ${typeToString(type!)}`);
          type = joined;
        }
        return { k: 'case', branches, otherwise, type: type!, span: e.span };
      }
      case 'error':
        return undefined;
    }
  }

  private literal(e: Expr): TypedExpr | undefined {
    const v = evalLiteral(e);
    if (!v) return undefined;
    if ('error' in v) return this.report('invalid-literal', v.span, v.error);
    const t: Literal = { k: 'literal', value: v.value, type: v.type, span: e.span };
    if (e.kind === 'typed' && e.type === 'timestamp') this.micros.set(t, parseTimestampMicros(e.value.value)!);
    if (e.kind === 'typed' && e.type === 'time') this.micros.set(t, parseTimeMicros(e.value.value)!);
    if (e.kind === 'duration') this.micros.set(t, e.millis * 1000);
    return t;
  }

  private array(e: Extract<Expr, { kind: 'array' }>, known: NonNullPaths): TypedExpr | undefined {
    const items = e.items.map((i) => this.check(i, known));
    if (items.some((i) => !i)) return undefined;
    let type: AvroType = T.null;
    for (const [n, item] of (items as TypedExpr[]).entries()) {
      const joined: AvroType | undefined = n === 0 ? item.type : unifyTypes(type, item.type);
      if (!joined) return this.mismatch(item.span, `array items must have one type: this one is ${typeToString(item.type)}, the ones before ${typeToString(type)}`);
      type = joined;
    }
    return { k: 'array', items: items as TypedExpr[], type: { kind: 'array', items: type }, span: e.span };
  }

  private map(e: Extract<Expr, { kind: 'map' }>, known: NonNullPaths): TypedExpr | undefined {
    const entries: { key: string; value: TypedExpr }[] = [];
    let type: AvroType = T.null;
    let ok = true;
    for (const entry of e.entries) {
      const value = this.check(entry.value, known);
      if (!value) {
        ok = false;
        continue;
      }
      if (entries.some((x) => x.key === entry.key.value)) {
        this.report('duplicate-field', entry.key.span, `the map has the key "${entry.key.value}" twice`);
        ok = false;
        continue;
      }
      const joined: AvroType | undefined = entries.length === 0 ? value.type : unifyTypes(type, value.type);
      if (!joined) {
        this.mismatch(value.span, `map values must have one type: this one is ${typeToString(value.type)}, the ones before ${typeToString(type)}`);
        ok = false;
        continue;
      }
      type = joined;
      entries.push({ key: entry.key.value, value });
    }
    return ok ? { k: 'map', entries, type: { kind: 'map', values: type }, span: e.span } : undefined;
  }

  private unknownField(name: Identifier, record: RecordType, where: string): undefined {
    const guess = closestMatch(name.name, record.fields.map((f) => f.name));
    return this.report('unknown-field', name.span, `${where} has no field \`${name.name}\``, {
      hints: guess ? [`did you mean \`${guess}\`?`] : [`its fields: ${record.fields.map((f) => f.name).join(', ')}`],
      data: { name: name.name, record: record.name, ...(guess ? { suggestion: guess } : {}) },
      ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: name.span, replacement: guess }] } : {}),
    });
  }

  field(name: Identifier, span: Span, known: NonNullPaths): TypedExpr | undefined {
    const f = this.record.fields.find((x) => x.name === name.name);
    if (!f) return this.unknownField(name, this.record, 'the input record');
    return { k: 'field', name: f.name, type: known.has(f.name) ? nonNull(f.type) : f.type, span };
  }

  /** The checks `a.b` and `a[i]` share: the object may be null only with `?.` / `?[`, or when known not to be. */
  private container(object: TypedExpr, objectExpr: Expr, nullSafe: boolean, known: NonNullPaths, dot: Span, form: 'member' | 'index'): AvroType | undefined {
    if (!isNullable(object.type) || nullSafe) return nonNull(object.type);
    const path = pathOf(objectExpr);
    if (path && known.has(path)) return nonNull(object.type);
    const text = form === 'member' ? '?.' : '?[';
    return this.report('nullable-access', dot, `${path ? `\`${path}\`` : 'this value'} may be null (${typeToString(object.type)})`, {
      hints: [`write \`${text}\` to get null when it is, or check \`${path ?? 'it'} != null\` first`],
      fixes: [{ title: `Use ${text}`, span: dot, replacement: text }],
    });
  }

  private member(e: Extract<Expr, { kind: 'member' }>, known: NonNullPaths): TypedExpr | undefined {
    const object = this.check(e.object, known);
    if (!object) return undefined;
    const dot: Span = { file: e.span.file, start: e.object.span.end, end: e.property.span.start };
    const t = this.container(object, e.object, e.nullSafe, known, dot, 'member');
    if (!t) return undefined;
    if (t.kind !== 'record') {
      return this.report('not-a-record', e.property.span, `\`.${e.property.name}\` needs a record, but this is ${typeToString(object.type)}`, {
        hints: t.kind === 'map' ? [`look up map keys with ["${e.property.name}"]`] : [],
      });
    }
    const f = t.fields.find((x) => x.name === e.property.name);
    if (!f) return this.unknownField(e.property, t, `record ${t.name}`);
    const path = pathOf(e);
    const type = path && known.has(path) ? nonNull(f.type) : nullableIf(f.type, isNullable(object.type));
    return { k: 'member', object, name: f.name, nullSafe: e.nullSafe, type, span: e.span };
  }

  private index(e: Extract<Expr, { kind: 'index' }>, known: NonNullPaths): TypedExpr | undefined {
    const object = this.check(e.object, known);
    const index = this.check(e.index, known);
    if (!object || !index) return undefined;
    const bracket: Span = { file: e.span.file, start: e.object.span.end, end: e.index.span.start };
    const t = this.container(object, e.object, e.nullSafe, known, bracket, 'index');
    if (!t) return undefined;
    const it = nonNull(index.type);
    if (t.kind === 'array') {
      if (!isIntegral(it)) return this.mismatch(e.index.span, `an array index must be int or long, found ${typeToString(index.type)}`);
      return { k: 'index', object, index, nullSafe: e.nullSafe, type: nullable(t.items), span: e.span };
    }
    if (t.kind === 'map') {
      if (!isStringLike(it)) return this.mismatch(e.index.span, `a map key must be a string, found ${typeToString(index.type)}`);
      return { k: 'index', object, index, nullSafe: e.nullSafe, type: nullable(t.values), span: e.span };
    }
    return this.report('not-indexable', e.span, `only arrays and maps can be indexed, not ${typeToString(object.type)}`, {
      hints: t.kind === 'record' && e.index.kind === 'string' ? [`read record fields with .${e.index.value}`] : [],
    });
  }

  private call(e: Extract<Expr, { kind: 'call' }>, known: NonNullPaths): TypedExpr | undefined {
    const f = FUNCTIONS_BY_NAME.get(e.callee.name);
    const args = e.args.map((a) => this.check(a, known));
    if (!f && AGGREGATES.has(e.callee.name)) {
      return this.report('aggregate-outside-group', e.span, `\`${e.callee.name}\` is an aggregate: it sums up a group of records, so it belongs in the \`{ … }\` of a \`group by\``, {
        hints: [`\`| group by KEY { ${e.callee.name === 'count' ? 'n: count()' : `${e.callee.name}_x: ${e.callee.name}(x)`} }\`, then use the result in later operators`],
        data: { name: e.callee.name },
      });
    }
    if (!f) {
      const guess = closestMatch(e.callee.name, FUNCTIONS_BY_NAME.keys());
      return this.report('unknown-function', e.callee.span, `unknown function \`${e.callee.name}\``, {
        hints: guess ? [`did you mean \`${guess}\`? (${signatureText(FUNCTIONS_BY_NAME.get(guess)!)})`] : ['see docs/functions.md for the library'],
        data: { name: e.callee.name },
        ...(guess ? { fixes: [{ title: `Change to ${guess}`, span: e.callee.span, replacement: guess }] } : {}),
      });
    }
    const arity = arityProblem(f, e.args.length);
    if (arity) {
      return this.report('wrong-arity', e.span, `\`${f.name}\` takes ${arity} argument${arity === '1' ? '' : 's'}, not ${e.args.length}`, {
        hints: [signatureText(f)],
      });
    }
    if (args.some((a) => !a)) return undefined;
    const typed = args as TypedExpr[];
    const infos: Argument[] = [];
    for (const [i, arg] of typed.entries()) {
      const param = f.params[Math.min(i, f.params.length - 1)]!;
      const t = nonNull(arg.type);
      if (!acceptsType(param.type, t)) {
        return this.mismatch(arg.span, `argument \`${param.name}\` of \`${f.name}\` must be ${PARAM_TYPE_TEXT[param.type]}, found ${typeToString(arg.type)}`, [signatureText(f)]);
      }
      if (param.literal && !this.literalArgument(param.literal, arg, param.name, f.name)) return undefined;
      if (param.type === 'timestamp' && t.kind !== 'timestamp-millis' && t.kind !== 'null') {
        // Time functions run on epoch milliseconds: convert dates and microsecond timestamps.
        typed[i] = { k: 'call', fn: 'timestamp', args: [arg], type: nullableIf(T.timestampMillis, isNullable(arg.type)), span: arg.span };
      }
      infos.push({ type: t, declared: arg.type, ...(arg.k === 'literal' ? { literal: arg.value } : {}) });
    }
    const result = f.result(infos);
    if (typeof result === 'string') return this.mismatch(e.span, result, [signatureText(f)]);
    const lossy = f.lossy?.(infos[0]!.type, result);
    if (lossy) this.report('lossy-cast', e.span, lossy);
    const anyNull = typed.some((a) => isNullable(a.type));
    const type = f.nulls === 'strict' ? nullableIf(result, anyNull || f.mayReturnNull === true) : result;
    return { k: 'call', fn: f.name, args: typed, type, span: e.span };
  }

  /** Validates an argument that must be a literal (a regex, a JSON path, a time unit, an integer). */
  private literalArgument(kind: 'regex' | 'json-path' | 'time-unit' | 'int', arg: TypedExpr, param: string, fn: string): boolean {
    if (arg.k !== 'literal') {
      if (kind === 'regex' || kind === 'json-path') return true; // checked at run time
      this.mismatch(arg.span, `argument \`${param}\` of \`${fn}\` must be a literal`);
      return false;
    }
    const value = arg.value;
    switch (kind) {
      case 'regex':
        return this.regex(value as string, arg.span);
      case 'json-path':
        if (JSON_PATH.test(value as string)) return true;
        this.report('invalid-literal', arg.span, `"${value as string}" is not a JSON path`, { hints: ['write paths like $.a.b, $.items[0] or $[\'odd key\']'] });
        return false;
      case 'time-unit': {
        if ((TIME_UNITS as readonly string[]).includes(value as string)) return true;
        const guess = closestMatch(value as string, TIME_UNITS);
        this.report('invalid-literal', arg.span, `"${value as string}" is not a time unit (${TIME_UNITS.join(', ')})`, {
          hints: guess ? [`did you mean "${guess}"?`] : [],
          ...(guess ? { fixes: [{ title: `Change to "${guess}"`, span: arg.span, replacement: JSON.stringify(guess) }] } : {}),
        });
        return false;
      }
      case 'int':
        return true;
    }
  }

  private regex(source: string, span: Span): boolean {
    try {
      new RegExp(source);
      return true;
    } catch (err) {
      this.report('invalid-regex', span, `invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
      return false;
    }
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>, known: NonNullPaths): TypedExpr | undefined {
    if (e.op === '-' && e.operand.kind === 'number') return this.literal(e);
    const operand = e.op === 'not' ? this.condition(e.operand, known, 'the operand of `not`') : this.check(e.operand, known);
    if (!operand) return undefined;
    if (e.op === '-' && !isNumeric(nonNull(operand.type))) return this.mismatch(e.span, `unary \`-\` needs a number, found ${typeToString(operand.type)}`);
    return { k: 'unary', op: e.op, operand, type: e.op === 'not' ? nullableIf(T.boolean, isNullable(operand.type)) : operand.type, span: e.span };
  }

  private binary(e: BinaryExpr, known: NonNullPaths): TypedExpr | undefined {
    if (e.op === 'and' || e.op === 'or') {
      const left = this.condition(e.left, known, `the left side of \`${e.op}\``);
      const right = this.condition(e.right, withPaths(known, nonNullWhen(e.left, e.op === 'and')), `the right side of \`${e.op}\``);
      if (!left || !right) return undefined;
      return { k: 'binary', op: e.op, left, right, type: nullableIf(T.boolean, isNullable(left.type) || isNullable(right.type)), span: e.span };
    }
    const left = this.check(e.left, known);
    const right = this.check(e.right, known);
    if (!left || !right) return undefined;
    const node = (type: AvroType, l = left, r = right): TypedExpr => ({ k: 'binary', op: e.op, left: l, right: r, type, span: e.span });
    switch (e.op) {
      case '??': {
        if (!isNullable(left.type)) {
          this.report('unnecessary-coalesce', e.span, `the left side of \`??\` is never null (${typeToString(left.type)})`, {
            fixes: [{ title: 'Remove `??`', span: { file: e.span.file, start: e.left.span.end, end: e.span.end }, replacement: '' }],
          });
        }
        const type = left.type.kind === 'null' ? right.type : unifyTypes(nonNull(left.type), right.type);
        if (!type) return this.mismatch(e.right.span, `\`??\` needs a fallback of the left side's type (${typeToString(nonNull(left.type))}), found ${typeToString(right.type)}`);
        return node(type);
      }
      case '==':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const pair = this.comparable(left, right, e.op !== '==' && e.op !== '!=', e.span);
        return pair && node(T.boolean, pair[0], pair[1]);
      }
      case 'like':
      case 'matches': {
        for (const side of [left, right]) {
          if (!isStringLike(nonNull(side.type)) && side.type.kind !== 'null') {
            return this.mismatch(side.span, `\`${e.op}\` compares strings, found ${typeToString(side.type)}`);
          }
        }
        if (e.op === 'matches' && right.k === 'literal' && typeof right.value === 'string' && !this.regex(right.value, right.span)) return undefined;
        return node(T.boolean);
      }
      default:
        return this.arithmetic(e, left, right, node);
    }
  }

  private arithmetic(e: BinaryExpr, left: TypedExpr, right: TypedExpr, node: (t: AvroType, l?: TypedExpr, r?: TypedExpr) => TypedExpr): TypedExpr | undefined {
    const op = e.op as '+' | '-' | '*' | '/' | '%';
    const [a, b] = [nonNull(left.type), nonNull(right.type)];
    const nullish = isNullable(left.type) || isNullable(right.type);
    if (a.kind === 'null' || b.kind === 'null') {
      this.report('always-null', e.span, `\`${op}\` with null is always null`);
      return node(T.null);
    }
    const numeric = arithmeticType(op, a, b);
    if (numeric) return node(nullableIf(numeric, nullish));
    const cannot = () => this.mismatch(e.span, `cannot apply \`${op}\` to ${typeToString(left.type)} and ${typeToString(right.type)}`,
      op === '+' && (isStringLike(a) || isStringLike(b)) ? ['to build a string from other values, use concat(…) or string(x)'] : []);
    if (op === '+' && isStringLike(a) && isStringLike(b)) return node(nullableIf(T.string, nullish));
    if (op === '+' || op === '-') {
      // timestamp ± duration, date ± days, timestamp - timestamp, date - date
      if ((isTimestamp(a) || a.kind === 'date') && isIntegral(b)) return node(nullableIf(a, nullish), left, this.toMicros(right, a));
      if (op === '+' && isIntegral(a) && (isTimestamp(b) || b.kind === 'date')) return node(nullableIf(b, nullish), this.toMicros(left, b), right);
      if (op === '-' && typesEqual(a, b) && (isTimestamp(a) || a.kind === 'date')) return node(nullableIf(a.kind === 'date' ? T.int : T.long, nullish));
      if (op === '-' && isTimestamp(a) && isTimestamp(b)) {
        return this.mismatch(e.span, `cannot subtract ${typeToString(b)} from ${typeToString(a)}`, ['convert one side with timestamp(x) (milliseconds)']);
      }
    }
    return cannot();
  }

  /** A duration literal next to a timestamp_micros counts in microseconds. */
  private toMicros(e: TypedExpr, next: AvroType): TypedExpr {
    const micros = this.micros.get(e);
    return next.kind === 'timestamp-micros' && micros !== undefined ? { ...e, value: micros } as TypedExpr : e;
  }

  /**
   * Checks that two values can be compared (ordered when `ordering`), and
   * adapts literals to the other side (a timestamp literal next to a
   * timestamp_micros becomes microseconds).
   */
  comparable(l: TypedExpr, r: TypedExpr, ordering: boolean, span: Span): [TypedExpr, TypedExpr] | undefined {
    const [a, b] = [nonNull(l.type), nonNull(r.type)];
    if (a.kind === 'null' || b.kind === 'null') {
      if (!ordering) return [l, r];
      return this.mismatch(span, 'null cannot be ordered', ['test for null with `x == null` or is_null(x)']);
    }
    if (a.kind === 'enum' || b.kind === 'enum') {
      const [e, other] = a.kind === 'enum' ? [a, r] : [b as Extract<AvroType, { kind: 'enum' }>, l];
      if (!ordering && other.k === 'literal' && typeof other.value === 'string') {
        if (e.symbols.includes(other.value)) return [l, r];
        const guess = closestMatch(other.value, e.symbols);
        return this.report('unknown-symbol', other.span, `"${other.value}" is not a symbol of enum ${e.name} (${e.symbols.join(', ')})`, {
          hints: guess ? [`did you mean "${guess}"?`] : [],
          data: { enum: e.name, symbol: other.value },
          ...(guess ? { fixes: [{ title: `Change to "${guess}"`, span: other.span, replacement: JSON.stringify(guess) }] } : {}),
        });
      }
      if (!ordering && (typesEqual(a, b) || isStringLike(a) && isStringLike(b))) return [l, r];
      return this.mismatch(span, ordering ? `enum values cannot be ordered (${typeToString(l.type)})` : `cannot compare ${typeToString(l.type)} with ${typeToString(r.type)}`);
    }
    if (isNumeric(a) && isNumeric(b)) return [l, r];
    if (isStringLike(a) && isStringLike(b)) return [l, r];
    const temporal = (t: AvroType) => (isTimestamp(t) ? 'timestamp' : t.kind === 'time-millis' || t.kind === 'time-micros' ? 'time' : t.kind === 'date' ? 'date' : undefined);
    const [ta, tb] = [temporal(a), temporal(b)];
    if (ta && ta === tb) {
      if (a.kind === b.kind) return [l, r];
      // timestamp_millis literal vs timestamp_micros value (and time): express the literal in microseconds
      const adapt = (x: TypedExpr, to: AvroType) => (this.micros.has(x) ? ({ ...x, value: this.micros.get(x)!, type: to } as TypedExpr) : undefined);
      if (a.kind.endsWith('micros') && this.micros.has(r)) return [l, adapt(r, a)!];
      if (b.kind.endsWith('micros') && this.micros.has(l)) return [adapt(l, b)!, r];
      return this.mismatch(span, `cannot compare ${typeToString(l.type)} with ${typeToString(r.type)}`, [`convert with ${ta === 'timestamp' ? 'timestamp(x)' : 'a cast'} first`]);
    }
    if ((ta || tb) && (l.k === 'literal' || r.k === 'literal')) {
      const [lit, kind] = ta ? [r, ta] : [l, tb!];
      if (lit.k === 'literal' && typeof lit.value === 'string') {
        const word = kind === 'timestamp' ? 'timestamp' : kind;
        return this.mismatch(lit.span, `cannot compare ${typeToString(ta ? l.type : r.type)} with a string`, [`write a ${word} literal: ${word} ${JSON.stringify(lit.value)}`], [
          { title: `Make it a ${word} literal`, span: { file: lit.span.file, start: lit.span.start, end: lit.span.start }, replacement: `${word} ` },
        ]);
      }
    }
    if (!ordering && (typesEqual(a, b) || (a.kind === 'bytes' || a.kind === 'fixed') && (b.kind === 'bytes' || b.kind === 'fixed'))) {
      return [l, r];
    }
    if (ordering && typesEqual(a, b) && (a.kind === 'bytes' || a.kind === 'boolean')) return [l, r];
    return this.mismatch(span, `cannot ${ordering ? 'order' : 'compare'} ${typeToString(l.type)} ${ordering ? 'and' : 'with'} ${typeToString(r.type)}`);
  }

  private in(e: Extract<Expr, { kind: 'in' }>, known: NonNullPaths): TypedExpr | undefined {
    const value = this.check(e.value, known);
    const items = e.list.map((x) => this.check(x, known));
    if (!value || items.some((x) => !x)) return undefined;
    const list: TypedExpr[] = [];
    for (const item of items as TypedExpr[]) {
      const pair = this.comparable(value, item, false, item.span);
      if (!pair) return undefined;
      list.push(pair[1]);
    }
    return { k: 'in', value, list, negated: e.negated, type: T.boolean, span: e.span };
  }
}

/** `a`, `a.b`, `a?.b`: the path of a field reference, for null narrowing. */
export function pathOf(e: Expr): string | undefined {
  if (e.kind === 'field') return e.name.name;
  if (e.kind === 'member') {
    const base = pathOf(e.object);
    return base && `${base}.${e.property.name}`;
  }
  return undefined;
}

function withPaths(known: NonNullPaths, more: string[]): NonNullPaths {
  return more.length === 0 ? known : new Set([...known, ...more]);
}

function isNullExpr(e: Expr): boolean {
  return e.kind === 'null';
}

/**
 * Paths that cannot be null when `e` evaluates to `outcome`:
 * `x != null` (true), `x == null` (false), `is_null(x)` (false), `not`,
 * `and` (true), `or` (false), and comparisons with a non-null literal (true).
 */
export function nonNullWhen(e: Expr, outcome: boolean): string[] {
  switch (e.kind) {
    case 'unary':
      return e.op === 'not' ? nonNullWhen(e.operand, !outcome) : [];
    case 'call':
      return e.callee.name === 'is_null' && e.args.length === 1 && !outcome ? optional(pathOf(e.args[0]!)) : [];
    case 'binary': {
      if (e.op === 'and') return outcome ? [...nonNullWhen(e.left, true), ...nonNullWhen(e.right, true)] : [];
      if (e.op === 'or') return outcome ? [] : [...nonNullWhen(e.left, false), ...nonNullWhen(e.right, false)];
      const sides = [e.left, e.right];
      if (e.op === '==' || e.op === '!=') {
        const nullSide = sides.findIndex(isNullExpr);
        if (nullSide >= 0) return outcome === (e.op === '!=') ? optional(pathOf(sides[1 - nullSide]!)) : [];
      }
      const ordered = ['<', '<=', '>', '>=', 'like', 'matches'].includes(e.op);
      if ((ordered || e.op === '==') && outcome) {
        const literal = (x: Expr) => x.kind === 'number' || x.kind === 'string' || x.kind === 'typed' || x.kind === 'boolean';
        return sides.flatMap((s, i) => (ordered || literal(sides[1 - i]!) ? optional(pathOf(s)) : []));
      }
      return [];
    }
    case 'between':
      return outcome && !e.negated ? optional(pathOf(e.value)) : [];
    default:
      return [];
  }
}

function optional(path: string | undefined): string[] {
  if (!path) return [];
  // `a.b` not null implies `a` not null.
  const parts = path.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

