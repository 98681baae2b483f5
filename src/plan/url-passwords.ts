/**
 * Passwords inside connection URLs (`postgres://user:secret@host/db`,
 * `redis://:secret@host`), masked wherever such text leaves a process:
 * logs, status, errors, written plans, rendered diagnostics. It lives in
 * `src/plan/` because every layer may import it: the compiler warns about
 * such URLs, the tooling masks its output.
 */

/**
 * `scheme://user:` and then the password, up to the last `@` of the
 * authority (a password may hold an unencoded `@`); quotes and spaces end
 * it, so URLs inside JSON or messages are found too.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'`<>]*:)[^\s/?#"'`<>]+@/gi;

/** Replaces the password of every `scheme://user:password@host` in `text` with `***`. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@');
}
