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
 * text (decimals are held as doubles too, exact to 15 digits), and random
 * doubles, which have 17 digits, would otherwise send most lines the slow way.
 */
const MANY_DIGITS = /(?<![\d.])\d{16,}(?![.eE\d])/;

/** The numbers a double holds exactly stay numbers; the others keep their text. */
function exactNumber(text: string): number | LosslessNumber {
  return isSafeNumber(text) ? Number(text) : new LosslessNumber(text);
}

/** Parses JSON text; numbers a double would round come back as `LosslessNumber`. Throws SyntaxError on malformed text. */
export function parseJson(text: string): unknown {
  return MANY_DIGITS.test(text) ? parse(text, null, exactNumber) : JSON.parse(text);
}

/**
 * Parses JSON text written from run-time values (sink lines, dead letters):
 * integers past 2^53 come back as bigints, as longs are at run time.
 */
export function parseJsonValue(text: string): unknown {
  return MANY_DIGITS.test(text) ? parse(text, null, parseNumberAndBigInt) : JSON.parse(text);
}

/** JSON text of a value; bigints are written as JSON numbers. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    // "Do not know how to serialize a BigInt": only then the slower writer.
    if (!(e instanceof TypeError)) throw e;
    return stringify(value) ?? 'null';
  }
}
