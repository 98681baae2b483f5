/**
 * JSON text ↔ JavaScript values, without losing digits. JSON.parse rounds
 * every number to a double, so integers past 2^53 would change silently;
 * here a text with such an integer is read with the numbers a double would
 * round as `LosslessNumber` (their text), which fromJson (json-codec.ts)
 * converts as the schema says: a long to a bigint, a double rounded.
 * Longs past 2^53 are bigints at run time, which JSON.stringify refuses;
 * they are written as plain JSON numbers. JSON.parse and JSON.stringify do
 * the common case; lossless-json only the texts that need it.
 */
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse, parseNumberAndBigInt, stringify } from 'lossless-json';

export { isLosslessNumber, LosslessNumber };

/**
 * An integer of 16 digits or more (2^53 has 16): one JSON.parse may round.
 * Fractions and exponents do not count: a double is a double whatever its
 * text, and random doubles, which have 17 digits, would otherwise send most
 * lines the slow way.
 */
const MANY_DIGITS = /(?<![\d.])\d{16,}(?![.eE\d])/;

/** Any number of 16 digits or more, fractions included: for records with decimals wider than 15 digits (decimal.ts). */
const MANY_DIGITS_OR_PLACES = /\d(?:\.?\d){15}/;

/** Whether a number's text has 16 digits or more, which a double may round. */
export function hasManyDigits(text: string): boolean {
  return MANY_DIGITS_OR_PLACES.test(text);
}

/** The numbers a double holds exactly stay numbers; the others keep their text. */
function exactNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

/**
 * Parses JSON text; numbers a double would round come back as `LosslessNumber`:
 * integers always, fractions too when `exactFractions` (the schema has wide
 * decimals). Throws SyntaxError on malformed text.
 */
export function parseJson(text: string, exactFractions = false): unknown {
  return (exactFractions ? MANY_DIGITS_OR_PLACES : MANY_DIGITS).test(text) ? parse(text, null, exactNumber) : JSON.parse(text);
}

/**
 * Parses JSON text written from run-time values (sink lines, dead letters):
 * integers past 2^53 come back as bigints, as longs are at run time, and
 * with `exactFractions` (the schema has wide decimals) fractions a double
 * would round come back as raw numbers, which stringifyJson writes as they were.
 */
export function parseJsonValue(text: string, exactFractions = false): unknown {
  if (!(exactFractions ? MANY_DIGITS_OR_PLACES : MANY_DIGITS).test(text)) return JSON.parse(text);
  return parse(text, null, exactFractions ? runTimeNumber : parseNumberAndBigInt);
}

function runTimeNumber(text: string): unknown {
  if (isSafeNumber(text)) return Number(text);
  return /^-?\d+$/.test(text) ? BigInt(text) : rawNumber(text);
}

/**
 * A number written as its digits: a wide decimal's text (decimal.ts) in JSON.
 * JSON.stringify meets its toJSON and gives way to the writer that knows it.
 */
class RawNumber extends LosslessNumber {
  toJSON(): never {
    throw new TypeError('a number JSON.stringify cannot write');
  }
}

export function rawNumber(digits: string): LosslessNumber {
  return new RawNumber(digits);
}

/** JSON text of a value; bigints and raw numbers are written as JSON numbers. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    // "Do not know how to serialize a BigInt" (or a raw number): only then the slower writer.
    if (!(e instanceof TypeError)) throw e;
    return stringify(value) ?? 'null';
  }
}
