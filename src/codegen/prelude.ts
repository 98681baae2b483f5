/**
 * Helpers that generated chains define once, at chain creation: operator
 * semantics that are not library functions (checked integer arithmetic,
 * null-safe map lookup, structural equality, rejections) and conversions
 * that depend on the static type. A chain includes only the helpers it calls (and the
 * helpers those name in `needs`); the function library proper comes in through `lib`.
 *
 * Longs are numbers while they are safe integers and bigints beyond (json-codec.ts):
 * long arithmetic takes the number fast path when both operands are numbers and the
 * result is safe (a result past 2^53 is then never rounded back below it), else
 * computes with bigints; past 64 bits is an overflow, as past 32 bits is for int.
 */

interface Helper {
  code: string;
  needs?: readonly string[];
}

export const HELPERS = {
  /** int arithmetic stays within 32 bits: anything else is an overflow, not a wrap-around. */
  int32: {
    code: `function int32(x) { const y = x | 0; if (y !== x) throw new RangeError("int overflow: " + x); return y; }`,
  },
  /** A bigint result as a long: an overflow past 64 bits, a number again while safe. */
  long64: {
    code: `function long64(x) {
  if (x < -9223372036854775808n || x > 9223372036854775807n) throw new RangeError("long overflow: " + x);
  return x >= -9007199254740991n && x <= 9007199254740991n ? Number(x) : x;
}`,
  },
  ladd: {
    code: `function ladd(a, b) {
  if (typeof a === "number" && typeof b === "number") { const r = a + b; if (r >= -9007199254740991 && r <= 9007199254740991) return r + 0; }
  return long64(BigInt(a) + BigInt(b));
}`,
    needs: ['long64'],
  },
  lsub: {
    code: `function lsub(a, b) {
  if (typeof a === "number" && typeof b === "number") { const r = a - b; if (r >= -9007199254740991 && r <= 9007199254740991) return r + 0; }
  return long64(BigInt(a) - BigInt(b));
}`,
    needs: ['long64'],
  },
  lmul: {
    code: `function lmul(a, b) {
  if (typeof a === "number" && typeof b === "number") { const r = a * b; if (r >= -9007199254740991 && r <= 9007199254740991) return r + 0; }
  return long64(BigInt(a) * BigInt(b));
}`,
    needs: ['long64'],
  },
  /** Integral division truncates; `(a - a % b) / b` is exact where `Math.trunc(a / b)` may round. */
  ldiv: {
    code: `function ldiv(a, b) {
  if (b === 0 || b === 0n) throw new RangeError("division by zero");
  if (typeof a === "number" && typeof b === "number") return (a - a % b) / b + 0;
  return long64(BigInt(a) / BigInt(b));
}`,
    needs: ['long64'],
  },
  lmod: {
    code: `function lmod(a, b) {
  if (b === 0 || b === 0n) throw new RangeError("division by zero");
  if (typeof a === "number" && typeof b === "number") return a % b + 0;
  return long64(BigInt(a) % BigInt(b));
}`,
    needs: ['long64'],
  },
  /** -(-2^63) is an overflow; a safe number negates as a number. */
  lneg: {
    code: `function lneg(x) { return typeof x === "number" ? 0 - x : long64(-x); }`,
    needs: ['long64'],
  },
  /** int division: as ldiv, on numbers only. */
  idiv: {
    code: `function idiv(a, b) { if (b === 0) throw new RangeError("division by zero"); return (a - a % b) / b + 0; }`,
  },
  imod: {
    code: `function imod(a, b) { if (b === 0) throw new RangeError("division by zero"); return a % b + 0; }`,
  },
  /** Structural equality of records, arrays, maps and bytes. */
  deepEqual: {
    code: `function deepEqual(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
  return true;
}`,
  },
  /** Map lookup that never sees inherited properties (`m["constructor"]`). */
  mapGet: {
    code: `function mapGet(m, k) { return m !== null && k !== null && Object.hasOwn(m, k) ? m[k] : null; }`,
  },
  timeText: {
    code: `function timeText(ms) { return new Date(ms).toISOString().slice(11, 23); }`,
  },
  /** Epoch microseconds → milliseconds, rounded down: exact for a bigint (before 1685 or after 2255), whose milliseconds are safe. */
  millisOfMicros: {
    code: `function millisOfMicros(us) { return typeof us === "bigint" ? Number(us / 1000n - (us % 1000n < 0n ? 1n : 0n)) : Math.floor(us / 1000); }`,
  },
  /** ISO 8601 with six fractional digits, for timestamp-micros (a bigint before 1685 or after 2255). */
  microsText: {
    code: `function microsText(us) {
  if (typeof us === "bigint") {
    const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
    return new Date(Number(ms)).toISOString().slice(0, 23) + String(us - ms * 1000n).padStart(3, "0") + "Z";
  }
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + String(us - ms * 1000).padStart(3, "0") + "Z";
}`,
  },
  /** A value's identity as a Map key: structured values compare by content. */
  stateKey: {
    code: `function stateKey(v) { return v !== null && typeof v === "object" ? (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : JSON.stringify(v)) : v; }`,
  },
  /** The identity of a group of several keys (scalars) as one Map key: the parts' types and lengths keep "a|b" apart from "a", "b". */
  groupKey: {
    code: `function groupKey(parts) {
  let s = "";
  for (const p of parts) s += (typeof p === "string" ? "s" + p.length + ":" + p : p === null ? "z" : typeof p === "boolean" ? "b" + p : "n" + p) + "|";
  return s;
}`,
  },
  /** The exchange partition of a key (repartitioning): FNV-1a of its text (structured parts by content), the same in every process. */
  exchangePartition: {
    code: `function exchangePartition(parts, n) {
  const s = groupKey(parts.map(stateKey));
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}`,
    needs: ['groupKey', 'stateKey'],
  },
  /** Adds a value to a collected array kept in event-time order (`ts` beside it); equal times keep their arrival order. */
  collectAdd: {
    code: `function collectAdd(vs, ts, v, t) {
  let i = ts.length;
  while (i > 0 && ts[i - 1] > t) i--;
  vs.splice(i, 0, v);
  ts.splice(i, 0, t);
}`,
  },
  /** Merges collected array `b` into `a` (sessions that merge), keeping event-time order. */
  collectMerge: {
    code: `function collectMerge(a, at, b, bt) {
  for (let i = 0; i < b.length; i++) collectAdd(a, at, b[i], bt[i]);
}`,
    needs: ['collectAdd'],
  },
  /** Records an operator's rejection; the source record is kept, so a dead letter can be replayed. */
  reject: {
    code: `function reject(rejected, action, operator, e, offset, key, value) {
  rejected.push({ action, operator, reason: e instanceof Error ? e.message : String(e), offset, key, value });
}`,
  },
} satisfies Record<string, Helper>;

export type HelperName = keyof typeof HELPERS;

/** The code of the helpers and of those they need, in a fixed order so that output is stable. */
export function helpersCode(used: ReadonlySet<HelperName>): string {
  const all = new Set<string>(used);
  for (const n of used) for (const dep of (HELPERS[n] as Helper).needs ?? []) all.add(dep);
  return (Object.keys(HELPERS) as HelperName[]).filter((n) => all.has(n)).map((n) => HELPERS[n].code).join('\n');
}
