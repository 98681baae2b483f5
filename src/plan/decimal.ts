/**
 * Decimals, exact to precision 38.
 *
 * At run time a decimal is a number while it has at most 15 significant
 * digits, and its canonical text beyond (`"-12345678901234567.25"`: plain
 * notation, no leading zeros, no trailing fractional zeros). Every decimal
 * of 15 digits is the shortest text of the double nearest to it, so the
 * number stands for it exactly, orders with `<` and converts back through
 * `String()`; and as each value has one form, equal decimals are `===`
 * whatever their form. The common case (amounts, prices, rates) stays a
 * plain number; wider values never pass through a double.
 *
 * Arithmetic takes the number fast path while the operands and the result
 * are safe integers once scaled, and computes with bigints otherwise.
 * Results are rounded half away from zero to the result's scale (SQL's
 * rule); a result with more digits than its precision is an overflow.
 */

/** A decimal's run-time value. */
export type DecimalValue = number | string;

/** A decimal operand: a decimal, or an int or long (a long past 2^53 is a bigint). */
export type DecimalOperand = number | string | bigint;

/** How many significant digits a decimal may have and still be a number. */
export const NUMBER_DIGITS = 15;

/** `±digits × 10^exponent`; `digits` without leading zeros ("" for zero). */
interface DecimalDigits {
  negative: boolean;
  digits: string;
  exponent: number;
}

/** unscaled × 10^-scale. */
interface Exact {
  unscaled: bigint;
  scale: number;
}

const NUMBER = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Powers of ten a double holds exactly. */
const P10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Below this an unscaled number has at most 15 digits, and a double product or sum of such numbers is off by less than ½. */
const FAST = 1e15;

const bigPowers: bigint[] = [];
function pow10(n: number): bigint {
  return (bigPowers[n] ??= 10n ** BigInt(n));
}

function decimalDigits(text: string): DecimalDigits | undefined {
  const m = NUMBER.exec(text.trim());
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const all = (m[2]! + frac).replace(/^0+/, '');
  // Trailing zeros carry no digits: 1.500 has one decimal place.
  const digits = all.replace(/0+$/, '');
  return { negative: m[1] === '-', digits, exponent: Number(m[4] ?? 0) - frac.length + (all.length - digits.length) };
}

/** Whether the text is a number in decimal notation (`-12.5`, `1e3`). */
export function isDecimalText(text: string): boolean {
  return NUMBER.test(text.trim());
}

/** Why a number (a JSON number's text, or a double) does not fit decimal(p, s); undefined when it does. */
export function decimalProblem(value: string | number, precision: number, scale: number): string | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  const d = decimalDigits(text);
  if (!d) return `${text} is not a decimal number`;
  if (d.digits === '') return undefined;
  const places = Math.max(0, -d.exponent);
  if (places > scale) return `${text} has ${places} decimal places, more than decimal(${precision}, ${scale}) keeps`;
  const whole = d.digits.length + d.exponent;
  if (whole > precision - scale) return `${text} does not fit decimal(${precision}, ${scale}) (${whole} digits before the point, at most ${precision - scale})`;
  return undefined;
}

/** A wide decimal's run-time text: plain notation. */
const PLAIN = /^-?\d+(?:\.\d+)?$/;

/** Whether the text is in the plain notation of a wide decimal at run time (`-12.5`, no exponent). */
export function isPlainDecimal(text: string): boolean {
  return PLAIN.test(text);
}

/** The exact value of an operand (a double by its shortest text); undefined for NaN, infinities and text that is not a decimal number. */
function exactOf(v: DecimalOperand): Exact | undefined {
  if (typeof v === 'bigint') return { unscaled: v, scale: 0 };
  if (typeof v === 'string' && PLAIN.test(v)) {
    // The common text (a wide decimal at run time): its digits are the unscaled value.
    const dot = v.indexOf('.');
    return dot < 0 ? { unscaled: BigInt(v), scale: 0 } : { unscaled: BigInt(v.slice(0, dot) + v.slice(dot + 1)), scale: v.length - dot - 1 };
  }
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { unscaled: BigInt(v), scale: 0 };
    if (!Number.isFinite(v)) return undefined;
  }
  const d = decimalDigits(String(v));
  if (!d) return undefined;
  const digits = BigInt(d.digits || '0');
  const unscaled = d.exponent > 0 ? digits * pow10(d.exponent) : digits;
  return { unscaled: d.negative ? -unscaled : unscaled, scale: Math.max(0, -d.exponent) };
}

/** The unscaled value at `scale`, rounded half away from zero when the value has more places. */
function rescale({ unscaled, scale: from }: Exact, scale: number): bigint {
  if (scale >= from) return unscaled * pow10(scale - from);
  return divideRounded(unscaled, pow10(from - scale));
}

/** n / d rounded half away from zero. */
function divideRounded(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  const twice = (r < 0n ? -r : r) * 2n;
  return twice >= (d < 0n ? -d : d) ? q + ((n < 0n) !== (d < 0n) ? -1n : 1n) : q;
}

/** Plain decimal text of unscaled × 10^-scale, without trailing fractional zeros; and its count of significant digits. */
function plain(unscaled: bigint, scale: number): { text: string; significant: number } {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  let places = scale;
  while (places > 0 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    places--;
  }
  let significant = digits.length;
  while (significant > 1 && digits.charCodeAt(significant - 1) === 48) significant--;
  const text = places === 0 ? digits : `${digits.slice(0, -places).padStart(1, '0')}.${digits.slice(-places).padStart(places, '0')}`;
  return { text: negative ? `-${text}` : text, significant };
}

/** The run-time value of unscaled × 10^-scale: a number up to 15 significant digits, canonical text beyond. */
export function decimalOf(unscaled: bigint, scale: number): DecimalValue {
  if (unscaled > -1_000_000_000_000_000n && unscaled < 1_000_000_000_000_000n && scale < P10.length) return Number(unscaled) / P10[scale]! + 0;
  const { text, significant } = plain(unscaled, scale);
  return significant <= NUMBER_DIGITS ? Number(text) : text;
}

/** The run-time value of a decimal's text (exact; any number of places). */
export function decimalFromText(text: string): DecimalValue | undefined {
  const e = exactOf(text);
  return e && decimalOf(e.unscaled, e.scale);
}

/** round(value × 10^scale), exact, half away from zero: a double by its shortest decimal text, as SQL rounds the decimal it stands for. */
export function unscaledAt(value: DecimalOperand, scale: number): bigint {
  const fast = fastUnscaled(value, scale);
  if (!Number.isNaN(fast)) return BigInt(fast);
  return rescale(exact(value), scale);
}

function overflow(precision: number, scale: number, unscaled: bigint): never {
  throw new RangeError(`decimal(${precision},${scale}) overflow: ${plain(unscaled, scale).text}`);
}

/** A bigint result as decimal(p, s): more digits than the precision is an overflow. */
function fitted(unscaled: bigint, precision: number, scale: number): DecimalValue {
  const limit = pow10(precision);
  if (unscaled >= limit || unscaled <= -limit) overflow(precision, scale, unscaled);
  return decimalOf(unscaled, scale);
}

/** A safe-integer result as decimal(p, s). */
function fittedNumber(unscaled: number, precision: number, scale: number): DecimalValue {
  if (precision < P10.length && !(Math.abs(unscaled) < P10[precision]!)) overflow(precision, scale, BigInt(unscaled));
  return unscaled > -FAST && unscaled < FAST && scale < P10.length ? unscaled / P10[scale]! + 0 : decimalOf(BigInt(unscaled), scale);
}

/**
 * round(x × 10^scale) as a safe integer, half away from zero by the decimal
 * x stands for, when the double shows it plainly: below 10^15 once scaled,
 * the product is off by less than ⅓, so clear of a tie (within 0.16 of an
 * integer, as a decimal operand at its own scale always is) the nearest
 * integer is the answer. NaN when the fast path does not apply.
 */
function fastUnscaled(x: DecimalOperand, scale: number): number {
  if (typeof x !== 'number' || scale >= P10.length) return NaN;
  const u = x * P10[scale]!;
  const r = Math.round(u);
  return u > -FAST && u < FAST && Math.abs(u - r) < 0.16 ? r + 0 : NaN;
}

/** An operand's exact value, at its type's scale without text when it is a plain number. */
function exactAt(x: DecimalOperand, scale: number): Exact {
  const u = fastUnscaled(x, scale);
  return Number.isNaN(u) ? exact(x) : { unscaled: BigInt(u), scale };
}

function exact(x: DecimalOperand): Exact {
  const e = exactOf(x);
  if (!e) throw new RangeError(`not a decimal: ${String(x)}`);
  return e;
}

function safe(...xs: number[]): boolean {
  for (const x of xs) if (!(x >= -Number.MAX_SAFE_INTEGER && x <= Number.MAX_SAFE_INTEGER)) return false;
  return true;
}

/** a + b as decimal(p, s), where a has scale sa and b scale sb. */
export function decimalAdd(a: DecimalOperand, sa: number, b: DecimalOperand, sb: number, precision: number, scale: number): DecimalValue {
  const ua = fastUnscaled(a, sa);
  const ub = fastUnscaled(b, sb);
  if (scale >= sa && scale >= sb && scale < P10.length) {
    const x = ua * P10[scale - sa]!;
    const y = ub * P10[scale - sb]!;
    const r = x + y;
    if (safe(x, y, r)) return fittedNumber(r, precision, scale);
  }
  const ea = exactAt(a, sa);
  const eb = exactAt(b, sb);
  const common = Math.max(ea.scale, eb.scale);
  return fitted(rescale({ unscaled: rescale(ea, common) + rescale(eb, common), scale: common }, scale), precision, scale);
}

/** a − b as decimal(p, s). */
export function decimalSub(a: DecimalOperand, sa: number, b: DecimalOperand, sb: number, precision: number, scale: number): DecimalValue {
  return decimalAdd(a, sa, decimalNeg(b), sb, precision, scale);
}

/** a × b as decimal(p, s). */
export function decimalMul(a: DecimalOperand, sa: number, b: DecimalOperand, sb: number, precision: number, scale: number): DecimalValue {
  const r = fastUnscaled(a, sa) * fastUnscaled(b, sb);
  if (scale === sa + sb && safe(r)) return fittedNumber(r + 0, precision, scale);
  const ea = exactAt(a, sa);
  const eb = exactAt(b, sb);
  return fitted(rescale({ unscaled: ea.unscaled * eb.unscaled, scale: ea.scale + eb.scale }, scale), precision, scale);
}

/** a ÷ b as decimal(p, s), rounded half away from zero; division by zero is an error. */
export function decimalDiv(a: DecimalOperand, sa: number, b: DecimalOperand, sb: number, precision: number, scale: number): DecimalValue {
  if (b === 0 || b === 0n) throw new RangeError('division by zero');
  const shift = scale + sb - sa;
  const ua = fastUnscaled(a, sa);
  const ub = fastUnscaled(b, sb);
  if (shift >= 0 && shift < P10.length) {
    const n = ua * P10[shift]!;
    if (safe(n, ub)) {
      const rem = n % ub;
      const q = (n - rem) / ub;
      return fittedNumber((2 * Math.abs(rem) >= Math.abs(ub) ? q + (n < 0 !== ub < 0 ? -1 : 1) : q) + 0, precision, scale);
    }
  }
  const ea = exactAt(a, sa);
  const eb = exactAt(b, sb);
  // a/b × 10^scale = ua × 10^(scale + sb' − sa') / ub, with the power moved to the side where it is whole.
  const k = scale + eb.scale - ea.scale;
  const n = k >= 0 ? ea.unscaled * pow10(k) : ea.unscaled;
  const d = k >= 0 ? eb.unscaled : eb.unscaled * pow10(-k);
  return fitted(divideRounded(n, d), precision, scale);
}

/** The remainder of a ÷ b (the sign of a, as SQL's MOD) as decimal(p, s); by zero is an error. */
export function decimalMod(a: DecimalOperand, sa: number, b: DecimalOperand, sb: number, precision: number, scale: number): DecimalValue {
  if (b === 0 || b === 0n) throw new RangeError('division by zero');
  const common = Math.max(sa, sb);
  if (common < P10.length) {
    const x = fastUnscaled(a, sa) * P10[common - sa]!;
    const y = fastUnscaled(b, sb) * P10[common - sb]!;
    if (common === scale && safe(x, y)) return fittedNumber((x % y) + 0, precision, scale);
  }
  const ea = exactAt(a, sa);
  const eb = exactAt(b, sb);
  const c = Math.max(ea.scale, eb.scale);
  return fitted(rescale({ unscaled: rescale(ea, c) % rescale(eb, c), scale: c }, scale), precision, scale);
}

/** −x (a decimal's precision holds its negation). */
export function decimalNeg(x: DecimalOperand): DecimalOperand {
  if (typeof x === 'number') return 0 - x;
  if (typeof x === 'bigint') return -x;
  return x.startsWith('-') ? x.slice(1) : `-${x}`;
}

/** −1, 0 or 1 as a is below, equal to or above b; numbers compare as they are (exactly, also against bigints). */
export function decimalCompare(a: DecimalOperand, b: DecimalOperand): number {
  if (typeof a !== 'string' && typeof b !== 'string') return a < b ? -1 : a > b ? 1 : 0;
  const ea = exact(a);
  const eb = exact(b);
  const c = Math.max(ea.scale, eb.scale);
  const x = rescale(ea, c);
  const y = rescale(eb, c);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Any value as decimal(p, s): a number by its shortest decimal text, a
 * bigint, or text in decimal notation; rounded half away from zero to the
 * scale; more digits than the precision is an overflow.
 */
export function toDecimal(x: DecimalOperand, precision: number, scale: number): DecimalValue {
  const fast = fastUnscaled(x, scale);
  if (!Number.isNaN(fast)) return fittedNumber(fast, precision, scale);
  const e = exactOf(typeof x === 'string' ? x.trim() : x);
  if (!e) throw new RangeError(`not a decimal: ${typeof x === 'string' ? JSON.stringify(x) : String(x)}`);
  return fitted(rescale(e, scale), precision, scale);
}

/** The text of a decimal with exactly `scale` places (`12.50`). */
export function decimalText(x: DecimalOperand, scale: number): string {
  if (typeof x === 'number' && Math.abs(x) < 1e21) return x.toFixed(scale);
  const u = unscaledAt(x, scale);
  const digits = (u < 0n ? -u : u).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return u < 0n ? `-${text}` : text;
}

/** The integral part (toward zero) of a decimal: a number while safe, a bigint beyond, as longs are. */
export function decimalTrunc(x: DecimalOperand): number | bigint {
  if (typeof x === 'number') return Math.trunc(x) + 0;
  if (typeof x === 'bigint') return x;
  const e = exact(x);
  const whole = e.unscaled / pow10(e.scale);
  return whole >= -9007199254740991n && whole <= 9007199254740991n ? Number(whole) : whole;
}

/** x rounded to `digits` places (negative: tens, hundreds…) half away from zero, down or up, as decimal(p, s). */
export function decimalRound(x: DecimalOperand, digits: number, mode: 'round' | 'floor' | 'ceil', precision: number, scale: number): DecimalValue {
  const e = exact(x);
  const places = Math.min(digits, scale);
  if (places >= e.scale) return fitted(rescale(e, scale), precision, scale);
  const d = pow10(e.scale - places);
  const q = e.unscaled / d;
  const r = e.unscaled % d;
  const n = mode === 'round' ? divideRounded(e.unscaled, d) : r === 0n ? q : mode === 'floor' ? (r < 0n ? q - 1n : q) : r > 0n ? q + 1n : q;
  const rounded: Exact = places >= 0 ? { unscaled: n, scale: places } : { unscaled: n * pow10(-places), scale: 0 };
  return fitted(rescale(rounded, scale), precision, scale);
}
