/**
 * SQL `LIKE` semantics, shared by code generation (which compiles literal
 * patterns once per chain) and the runtime library (patterns computed per
 * record), so both read a pattern the same way.
 */

/** Flags of a LIKE regex: `.` matches any code point, newlines included. */
export const LIKE_FLAGS = 'su';

/** SQL `LIKE` → anchored regex source: `%` any text, `_` one character, `\` makes the next character literal. */
export function likeToRegex(pattern: string): string {
  const chars = [...pattern];
  let out = '^';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) out += escapeRegex(chars[++i]!);
    else if (c === '%') out += '.*';
    else if (c === '_') out += '.';
    else out += escapeRegex(c);
  }
  return `${out}$`;
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
