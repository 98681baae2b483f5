/**
 * Decimal numbers as text: their digits, whether they fit a decimal(p, s),
 * and their unscaled integer (value × 10^scale) for the binary encodings.
 */

/** `±digits × 10^exponent`; `digits` without leading zeros ("" for zero). */
interface DecimalDigits {
  negative: boolean;
  digits: string;
  exponent: number;
}

const NUMBER = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

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

/** round(value × 10^scale), exact: from the shortest decimal text of the double when the fast path is not exact. Half away from zero, as SQL rounds. */
export function toUnscaled(value: number, scale: number, factor = 10 ** scale): bigint {
  const fast = Math.round(value * factor);
  if (Math.abs(fast) < Number.MAX_SAFE_INTEGER && fast / factor === value) return BigInt(fast);
  const d = decimalDigits(String(value));
  if (!d) throw new Error(`not a decimal: ${value}`);
  const digits = BigInt(d.digits || '0');
  const shift = d.exponent + scale;
  let n: bigint;
  if (shift >= 0) {
    n = digits * 10n ** BigInt(shift);
  } else {
    const div = 10n ** BigInt(-shift);
    n = digits / div;
    if ((digits % div) * 2n >= div) n += 1n;
  }
  return d.negative ? -n : n;
}
