/**
 * Longs at run time: a number while the value is a safe integer (|n| < 2^53),
 * a bigint beyond, so that every 64-bit value is exact and the common case
 * stays a plain number. Generated chains carry their own copy (codegen/prelude.ts).
 */
export const MIN_LONG = -(2n ** 63n);
export const MAX_LONG = 2n ** 63n - 1n;

/** A 64-bit integer as a long's run-time value; undefined past 64 bits. */
export function longValue(n: bigint): number | bigint | undefined {
  if (n < MIN_LONG || n > MAX_LONG) return undefined;
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n;
}
