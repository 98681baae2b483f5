/**
 * Typed expressions → JavaScript expressions, for the fused chains of
 * codegen.ts. Every name and string from a pipeline reaches the output only
 * through JSON.stringify (property keys, string literals, regex sources), so
 * no pipeline text can become code.
 *
 * Null semantics:
 * (The same rules as src/check/expr.ts, which gives expressions their types.)
 * - Arithmetic, unary minus, casts and strict library calls are null when an
 *   operand is null.
 * - Equality (`==`, `!=`, `in`, `not in`) is null-aware: null equals null and
 *   nothing else, and `a != b` is `not (a == b)`.
 * - Ordering and matching (`< <= > >=`, `between`, `not between`, `like`,
 *   `matches`) are false when an operand is null.
 * - `and`, `or`, `not` on nullable booleans follow SQL's three-valued logic;
 *   `where`, `if` and `case` treat null as false.
 * - `a.b` on a nullable record, `a[i]` out of range and a missing map key are null.
 *
 * Numbers: int arithmetic fails on 32-bit overflow and long arithmetic on
 * 64-bit overflow (longs are numbers while safe, bigints beyond: prelude.ts);
 * integral division truncates;
 * integral and decimal division by zero fail. Decimals are exact to
 * precision 38 (numbers up to 15 significant digits, their text beyond:
 * plan/decimal.ts); results are rounded half away from zero to their type's
 * scale at every step, so 19.99 * 100 is 1999.
 */
import type { Constant, TypedExpr } from '../check/typed.ts';
import type { AvroType } from '../types/avro-type.ts';
import { isNullable, nonNull } from '../types/type-utils.ts';
import { NUMBER_DIGITS } from '../plan/decimal.ts';
import { FUNCTIONS_BY_NAME } from '../check/functions.ts';
import { helpersCode, type HelperName } from './prelude.ts';
import { LIKE_FLAGS, likeToRegex } from '../plan/like.ts';

/** Constants, regexes and library functions of one chain, hoisted to chain creation. */
export class ChainScope {
  private readonly consts = new Map<string, string>();
  private readonly libs = new Map<string, string>();
  readonly helpers = new Set<HelperName>();
  /** How many expression temporaries (`t0`, `t1`, …) the chain needs. */
  temps = 0;

  /** A constant computed once; identical code shares one constant. */
  hoist(code: string): string {
    let name = this.consts.get(code);
    if (name === undefined) this.consts.set(code, (name = `c${this.consts.size}`));
    return name;
  }

  /** A function of the library, checked to exist when the chain is created. */
  lib(fn: string): string {
    let name = this.libs.get(fn);
    if (name === undefined) this.libs.set(fn, (name = `f${this.libs.size}`));
    return name;
  }

  helper(name: HelperName): string {
    this.helpers.add(name);
    return name;
  }

  /** The code that runs once at chain creation, before the chain function. */
  prelude(): string {
    const lines = [...this.libs].map(([fn, name]) => `const ${name} = lib[${JSON.stringify(fn)}];`);
    if (this.libs.size > 0) {
      lines.push(`for (const [n, f] of [${[...this.libs].map(([fn, name]) => `[${JSON.stringify(fn)}, ${name}]`).join(', ')}]) {`,
        `  if (typeof f !== "function") throw new Error("the function library has no " + n);`, '}');
    }
    lines.push(...[...this.consts].map(([code, name]) => `const ${name} = ${code};`));
    const helpers = helpersCode(this.helpers);
    return lines.join('\n') + (helpers ? `\n${helpers}` : '');
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `.name` or `["na me"]`. */
export function prop(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** A key in an object literal; `__proto__` must be computed, or it would set the prototype. */
export function literalKey(name: string): string {
  return name === '__proto__' ? `[${JSON.stringify(name)}]` : JSON.stringify(name);
}

const isNullLiteral = (e: TypedExpr) => e.k === 'literal' && e.value === null;
const simple = (code: string) => /^[\w$.]+$/.test(code);

/** Whether the code is one parenthesized group: `(a) || (b)` is not. String literals are skipped. */
function grouped(code: string): boolean {
  if (!code.startsWith('(')) return false;
  let depth = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '"') {
      for (i++; i < code.length && code[i] !== '"'; i++) if (code[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === code.length - 1;
  }
  return false;
}

/** The code as an operand: parenthesized unless it is a name, a property path or already one group. */
export function paren(code: string): string {
  return simple(code) || grouped(code) ? code : `(${code})`;
}

/** Compiles one expression over the record in variable `rec`. */
export function compileExpr(e: TypedExpr, rec: string, scope: ChainScope): string {
  const compiler = new ExprCompiler(scope, rec);
  const code = compiler.expr(e);
  scope.temps = Math.max(scope.temps, compiler.temps);
  return code;
}

/** Rounds half away from zero to the scale; more digits than the precision is an error. */
function decimalCode(code: string, t: Extract<AvroType, { kind: 'decimal' }>, scope: ChainScope): string {
  return `${scope.lib('decimal')}(${code}, ${t.precision}, ${t.scale})`;
}

class ExprCompiler {
  temps = 0;

  constructor(
    private readonly scope: ChainScope,
    private readonly rec: string,
  ) {}

  private temp(): string {
    return `t${this.temps++}`;
  }

  expr(e: TypedExpr): string {
    switch (e.k) {
      case 'literal':
        return this.literal(e.value, e.type);
      case 'field':
        return `${this.rec}${prop(e.name)}`;
      case 'member': {
        const obj = paren(this.expr(e.object));
        if (!e.nullSafe && !isNullable(e.object.type)) return `${obj}${prop(e.name)}`;
        return `(${obj}?.${IDENTIFIER.test(e.name) ? e.name : `[${JSON.stringify(e.name)}]`} ?? null)`;
      }
      case 'index': {
        const obj = this.expr(e.object);
        const index = this.expr(e.index);
        if (nonNull(e.object.type).kind === 'map') return `${this.scope.helper('mapGet')}(${obj}, ${index})`;
        return `(${paren(obj)}${e.nullSafe || isNullable(e.object.type) ? '?.' : ''}[${index}] ?? null)`;
      }
      case 'call':
        return this.call(e.fn, e.args, e.type);
      case 'unary':
        return e.op === 'not' ? this.not(e.operand) : this.strict([e.operand], ([x]) => negate(x!, e.type, this.scope));
      case 'binary':
        return this.binary(e);
      case 'in':
        return this.inList(e.value, e.list, e.negated);
      case 'between':
        return this.nullFalse([e.value, e.low, e.high], ([v, lo, hi]) => {
          const test = `${ordered('<=', lo!, v!, e.low.type, e.value.type, this.scope)} && ${ordered('<=', v!, hi!, e.value.type, e.high.type, this.scope)}`;
          return e.negated ? `!(${test})` : test;
        });
      case 'if':
        return `(${this.condition(e.condition)} ? ${this.expr(e.then)} : ${this.expr(e.otherwise)})`;
      case 'case':
        return `(${e.branches.map((b) => `${this.condition(b.condition)} ? ${this.expr(b.value)} : `).join('')}${this.expr(e.otherwise)})`;
      case 'array':
        return `[${e.items.map((item) => this.expr(item)).join(', ')}]`;
      case 'map':
        return `{ ${e.entries.map((entry) => `${literalKey(entry.key)}: ${this.expr(entry.value)}`).join(', ')} }`;
    }
  }

  private condition(e: TypedExpr): string {
    const code = this.expr(e);
    return isNullable(e.type) ? `(${code} === true)` : paren(code);
  }

  private literal(value: Constant, type: AvroType): string {
    if (value === null) return 'null';
    const t = nonNull(type);
    switch (t.kind) {
      case 'bytes':
      case 'fixed':
        // Constants hold bytes as hex text.
        return this.scope.hoist(`Buffer.from(${JSON.stringify(value)}, "hex")`);
      case 'array':
        return `[${(value as Constant[]).map((v) => this.literal(v, t.items)).join(', ')}]`;
      case 'map':
        return `{ ${Object.entries(value as Record<string, Constant>).map(([k, v]) => `${literalKey(k)}: ${this.literal(v, t.values)}`).join(', ')} }`;
      case 'record':
        return `{ ${t.fields.map((f) => `${literalKey(f.name)}: ${this.literal((value as Record<string, Constant>)[f.name] ?? null, f.type)}`).join(', ')} }`;
      case 'long':
        // A long past 2^53 is a bigint at run time; its Constant holds the digits.
        if (typeof value === 'string') return this.scope.hoist(`${value}n`);
        return typeof value === 'number' && value < 0 ? `(${value})` : JSON.stringify(value);
      default:
        // Numbers, strings and booleans: JSON is JavaScript (negative numbers parenthesized).
        return typeof value === 'number' && (value < 0 || Object.is(value, -0)) ? `(${value})` : JSON.stringify(value);
    }
  }

  /**
   * Null propagation: the operands that may be null are evaluated into
   * temporaries first; if one is null the result is `onNull`.
   */
  private guard(args: TypedExpr[], build: (codes: string[]) => string, onNull: 'null' | 'false'): string {
    if (args.some(isNullLiteral)) return onNull;
    const checks: string[] = [];
    const codes = args.map((a) => {
      const code = this.expr(a);
      if (!isNullable(a.type)) return code;
      const t = this.temp();
      checks.push(`(${t} = ${code}) == null`);
      return t;
    });
    const body = build(codes);
    if (checks.length === 0) return body;
    return onNull === 'null' ? `(${checks.join(' || ')} ? null : ${body})` : `(!(${checks.join(' || ')}) && ${body})`;
  }

  private strict(args: TypedExpr[], build: (codes: string[]) => string): string {
    return this.guard(args, build, 'null');
  }

  private nullFalse(args: TypedExpr[], build: (codes: string[]) => string): string {
    return this.guard(args, (codes) => `(${build(codes)})`, 'false');
  }

  private not(operand: TypedExpr): string {
    const code = this.expr(operand);
    if (!isNullable(operand.type)) return `!${paren(code)}`;
    const t = this.temp();
    return `((${t} = ${code}) == null ? null : !${t})`;
  }

  private binary(e: Extract<TypedExpr, { k: 'binary' }>): string {
    const { op, left, right } = e;
    switch (op) {
      case '??':
        return `(${this.expr(left)} ?? ${this.expr(right)})`;
      case 'and':
      case 'or':
        return this.logical(op, left, right, e.type);
      case '==':
      case '!=': {
        const eq = this.equality(left, right);
        return op === '==' ? eq : `!${eq}`;
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.nullFalse([left, right], ([a, b]) => ordered(op, a!, b!, left.type, right.type, this.scope));
      case 'like':
      case 'matches':
        return this.match(op, left, right);
      default:
        // The difference of two timestamps is in milliseconds whatever their precision (truncated toward zero).
        if (op === '-' && nonNull(left.type).kind === 'timestamp-micros' && nonNull(right.type).kind === 'timestamp-micros') {
          return this.strict([left, right], ([a, b]) => `${this.scope.helper('ldiv')}(${this.scope.helper('lsub')}(${a}, ${b}), 1000)`);
        }
        return this.strict([left, right], ([a, b]) => arithmetic(op, a!, b!, left.type, right.type, e.type, this.scope));
    }
  }

  /** SQL's three-valued `and`/`or` when an operand may be null; plain `&&`/`||` otherwise. */
  private logical(op: 'and' | 'or', left: TypedExpr, right: TypedExpr, type: AvroType): string {
    const a = this.expr(left);
    const b = this.expr(right);
    if (!isNullable(left.type) && !isNullable(right.type)) return `(${a} ${op === 'and' ? '&&' : '||'} ${b})`;
    const [x, y] = [this.temp(), this.temp()];
    const decisive = op === 'and' ? 'false' : 'true';
    const code = `((${x} = ${a}) === ${decisive} ? ${decisive} : (${y} = ${b}) === ${decisive} ? ${decisive} : ${x} == null || ${y} == null ? null : ${op === 'and' ? 'true' : 'false'})`;
    return isNullable(type) ? code : `(${code} === true)`;
  }

  /** Null-aware equality; comparing with the literal `null` is a null test. */
  private equality(left: TypedExpr, right: TypedExpr): string {
    if (isNullLiteral(left) && isNullLiteral(right)) return 'true';
    if (isNullLiteral(left) || isNullLiteral(right)) return `(${this.expr(isNullLiteral(left) ? right : left)} == null)`;
    return `(${equal(this.expr(left), this.expr(right), left.type, right.type, this.scope)})`;
  }

  private match(op: 'like' | 'matches', left: TypedExpr, right: TypedExpr): string {
    if (right.k === 'literal' && typeof right.value === 'string') {
      const source = op === 'like' ? likeToRegex(right.value) : right.value;
      const flags = op === 'like' ? LIKE_FLAGS : '';
      const re = this.scope.hoist(`new RegExp(${JSON.stringify(source)}${flags ? `, ${JSON.stringify(flags)}` : ''})`);
      return this.nullFalse([left], ([s]) => `${re}.test(${s})`);
    }
    return this.nullFalse([left, right], ([s, p]) => `${this.scope.lib(op)}(${s}, ${p})`);
  }

  private inList(value: TypedExpr, list: TypedExpr[], negated: boolean): string {
    const v = this.expr(value);
    // A Set of JSON constants, unless a long among them is a bigint at run time.
    const constant = list.every((item) => item.k === 'literal' && (item.value === null || typeof item.value !== 'object') && !(nonNull(item.type).kind === 'long' && typeof item.value === 'string'));
    const structured = !primitiveEquality(value.type);
    let test: string;
    if (constant && !structured && list.length > 6) {
      const values = list.map((item) => (item as { value: Constant }).value);
      test = `${this.scope.hoist(`new Set(${JSON.stringify(values)})`)}.has(${v})`;
    } else if (list.length === 0) {
      test = 'false';
    } else {
      const x = simple(v) ? v : this.temp();
      const first = x === v ? '' : `(${x} = ${v}), `;
      test = `(${first}${list.map((item) => equal(x, this.expr(item), value.type, item.type, this.scope)).join(' || ')})`;
    }
    return negated ? `!${paren(test)}` : paren(test);
  }

  private call(fn: string, args: TypedExpr[], type: AvroType): string {
    const spec = FUNCTIONS_BY_NAME.get(fn);
    if (spec?.category === 'cast') {
      // Further arguments (`decimal(x, 12, 2)`) are already in the call's type.
      const from = nonNull(args[0]!.type);
      return this.strict(args.slice(0, 1), ([x]) => cast(fn, x!, from, nonNull(type), this.scope));
    }
    const exact = exactNumericCall(fn, args, nonNull(type), this.scope);
    if (exact) return this.strict(args, exact);
    const f = this.scope.lib(fn);
    if (spec?.nulls !== 'strict') return `${f}(${args.map((a) => this.expr(a)).join(', ')})`;
    // abs(-2^31) is past an int, as -(-2^31) is (the library checks longs itself).
    const checked = fn === 'abs' && nonNull(type).kind === 'int' ? (code: string) => `${this.scope.helper('int32')}(${code})` : (code: string) => code;
    return this.strict(args, (codes) => checked(`${f}(${codes.join(', ')})`));
  }
}

/** Values of these types compare with `===`. */
export function primitiveEquality(t: AvroType): boolean {
  const k = nonNull(t).kind;
  return !['bytes', 'fixed', 'record', 'array', 'map', 'union'].includes(k);
}

function equal(a: string, b: string, ta: AvroType, tb: AvroType, scope: ChainScope): string {
  if (exactCompare(ta, tb)) return `${scope.lib('dcmp')}(${a}, ${b}) === 0`;
  if (primitiveEquality(ta) && primitiveEquality(tb)) return `${a} === ${b}`;
  const bytes = (t: AvroType) => t.kind === 'bytes' || t.kind === 'fixed';
  if (bytes(ta) && bytes(tb)) return `Buffer.compare(${a}, ${b}) === 0`;
  return `${scope.helper('deepEqual')}(${a}, ${b})`;
}

export function ordered(op: '<' | '<=' | '>' | '>=', a: string, b: string, ta: AvroType, tb: AvroType, scope: ChainScope): string {
  if (exactCompare(ta, tb)) return `${scope.lib('dcmp')}(${a}, ${b}) ${op} 0`;
  const k = nonNull(ta).kind;
  return k === 'bytes' || k === 'fixed' ? `Buffer.compare(${a}, ${b}) ${op} 0` : `${a} ${op} ${b}`;
}

/** A decimal past 15 digits is its text at run time (plan/decimal.ts). */
function wideDecimal(t: AvroType): boolean {
  const n = nonNull(t);
  return n.kind === 'decimal' && n.precision > NUMBER_DIGITS;
}

/**
 * Whether a comparison needs the exact decimal comparison: a wide decimal
 * (text at run time), or a decimal beside a long (equal values may be a
 * number and a bigint). Other numbers compare exactly with `<` and `===`.
 */
function exactCompare(ta: AvroType, tb: AvroType): boolean {
  const [a, b] = [nonNull(ta).kind, nonNull(tb).kind];
  return wideDecimal(ta) || wideDecimal(tb) || (a === 'decimal' && b === 'long') || (a === 'long' && b === 'decimal');
}

/** The scale of an operand of decimal arithmetic (an int or a long is a decimal of scale 0). */
function scaleOf(t: AvroType): number {
  const n = nonNull(t);
  return n.kind === 'decimal' ? n.scale : 0;
}

/** An operand of double arithmetic as a number (a long past 2^53 is a bigint, a wide decimal text). */
function asDouble(code: string, t: AvroType): string {
  return nonNull(t).kind === 'long' || wideDecimal(t) ? `Number(${code})` : code;
}

/**
 * The math functions whose meaning depends on an exact operand's type:
 * `round`, `floor`, `ceil` of decimals (to the digits asked, exactly) and of
 * longs (already integral), `least` and `greatest` of decimals.
 */
function exactNumericCall(fn: string, args: TypedExpr[], type: AvroType, scope: ChainScope): ((codes: string[]) => string) | undefined {
  if (type.kind === 'decimal') {
    const { precision: p, scale: s } = type;
    if (fn === 'round') return ([x, digits]) => `${scope.lib('dround')}(${x}, ${args.length > 1 ? digits : 0}, "round", ${p}, ${s})`;
    if (fn === 'floor' || fn === 'ceil') return ([x]) => `${scope.lib('dround')}(${x}, 0, "${fn}", ${p}, ${s})`;
    if (fn === 'least' || fn === 'greatest') return (codes) => `${scope.lib(fn === 'least' ? 'dleast' : 'dgreatest')}(${codes.join(', ')})`;
  }
  if (type.kind === 'long' || type.kind === 'int') {
    if (fn === 'floor' || fn === 'ceil' || (fn === 'round' && args.length === 1)) return ([x]) => x!;
    // Negative digits round to tens, hundreds…: through the decimal rounding, checked back into the type.
    if (fn === 'round') return ([x, digits]) => `${scope.lib(type.kind)}(${scope.lib('dtrunc')}(${scope.lib('dround')}(${x}, ${digits}, "round", 20, 0)))`;
  }
  return undefined;
}

function negate(x: string, type: AvroType, scope: ChainScope): string {
  switch (nonNull(type).kind) {
    case 'int':
      return `${scope.helper('int32')}(0 - ${x})`;
    case 'float':
    case 'double':
      return `(-${x})`;
    case 'long':
      return `${scope.helper('lneg')}(${x})`;
    default:
      if (wideDecimal(type)) return `${scope.lib('dneg')}(${x})`;
      // `0 - x` rather than `-x`: an integral or decimal zero has no sign.
      return `(0 - ${x})`;
  }
}

const LONG_OPS = { '+': 'ladd', '-': 'lsub', '*': 'lmul', '/': 'ldiv', '%': 'lmod' } as const;

const DECIMAL_OPS = { '+': 'dadd', '-': 'dsub', '*': 'dmul', '/': 'ddiv', '%': 'dmod' } as const;

export function arithmetic(op: '+' | '-' | '*' | '/' | '%', a: string, b: string, ta: AvroType, tb: AvroType, type: AvroType, scope: ChainScope): string {
  const t = nonNull(type);
  switch (t.kind) {
    case 'int': {
      const check = scope.helper('int32');
      if (op === '/') return `${check}(${scope.helper('idiv')}(${a}, ${b}))`;
      if (op === '%') return `${scope.helper('imod')}(${a}, ${b})`;
      return `${check}(${a} ${op} ${b})`;
    }
    case 'long':
      return `${scope.helper(LONG_OPS[op])}(${a}, ${b})`;
    case 'float':
      return `Math.fround(${asDouble(a, ta)} ${op} ${asDouble(b, tb)})`;
    case 'decimal':
      // Exact, rounded to the result's scale at every step, so that 19.99 * 100 is 1999 and not 1998.9999999999998.
      return `${scope.lib(DECIMAL_OPS[op])}(${a}, ${scaleOf(ta)}, ${b}, ${scaleOf(tb)}, ${t.precision}, ${t.scale})`;
    case 'string':
      return `(${a} + ${b})`;
    case 'double':
      return `(${asDouble(a, ta)} ${op} ${asDouble(b, tb)})`;
    default:
      // Timestamps, dates and times plus or minus durations: long arithmetic.
      return `${scope.helper(LONG_OPS[op])}(${a}, ${b})`;
  }
}

const DAY_MILLIS = 86_400_000;

/**
 * A cast of a non-null value `x` of type `from` (a `cast` function of
 * functions.ts). The library converts by runtime value; the conversions
 * whose meaning depends on the static type (a timestamp and a long are both
 * numbers) are done here.
 */
function cast(fn: string, x: string, from: AvroType, to: AvroType, scope: ChainScope): string {
  const f = from.kind;
  switch (to.kind) {
    case 'string':
      switch (f) {
        case 'string':
        case 'uuid':
        case 'enum':
          return x;
        case 'decimal':
          return `${scope.lib('dtext')}(${x}, ${from.scale})`;
        case 'timestamp-millis':
          return `new Date(${x}).toISOString()`;
        case 'timestamp-micros':
          return `${scope.helper('microsText')}(${x})`;
        case 'date':
          return `new Date(${x} * ${DAY_MILLIS}).toISOString().slice(0, 10)`;
        case 'time-millis':
          return `${scope.helper('timeText')}(${x})`;
        case 'time-micros':
          return `${scope.helper('timeText')}(Math.floor(${x} / 1000))`;
      }
      break;
    case 'timestamp-millis':
      if (f === 'date') return `(${x} * ${DAY_MILLIS})`;
      if (f === 'timestamp-micros') return `${scope.helper('millisOfMicros')}(${x})`;
      break;
    case 'date':
      if (f === 'timestamp-millis') return `Math.floor(${x} / ${DAY_MILLIS})`;
      if (f === 'timestamp-micros') return `Math.floor(${scope.helper('millisOfMicros')}(${x}) / ${DAY_MILLIS})`;
      break;
    case 'decimal':
      return decimalCode(x, to, scope);
    case 'int':
    case 'long':
      // Truncated toward zero, then checked against the type's range.
      if (f === 'decimal') return `${scope.lib(fn)}(${scope.lib('dtrunc')}(${x}))`;
      break;
  }
  return `${scope.lib(fn)}(${x})`;
}
