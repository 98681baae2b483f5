/**
 * String literal escapes: `\n \t \r \" \' \\ \/ \0 \uXXXX`. The lexer accepts
 * any backslash pair so that a bad escape is one precise diagnostic instead
 * of a broken token; `badEscapes` finds them, `unescapeString` keeps the
 * escaped character as written.
 */

const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\', '/': '/', '0': '\0' };

const escapePattern = /\\(u[0-9a-fA-F]{4}|.?)/gs;

/** The value of a string token (with its quotes; a missing closing quote is tolerated). */
export function unescapeString(image: string): string {
  const quote = image[0];
  let end = 1;
  while (end < image.length && image[end] !== quote) end += image[end] === '\\' ? 2 : 1;
  return image.slice(1, Math.min(end, image.length)).replace(escapePattern, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return simple[e] ?? e;
  });
}

/** Offsets (within the image) and text of escapes that the language does not have. */
export function badEscapes(image: string): { offset: number; text: string }[] {
  const bad: { offset: number; text: string }[] = [];
  for (const m of image.matchAll(escapePattern)) {
    const e = m[1]!;
    if (e.length === 5 || simple[e] !== undefined) continue;
    bad.push({ offset: m.index, text: m[0] });
  }
  return bad;
}

/** A double-quoted literal for `value`, escaping what must be escaped. */
export function quoteString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
