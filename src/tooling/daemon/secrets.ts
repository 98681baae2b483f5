/**
 * Secrets reach the process only through the environment: set directly, as
 * a file named by `<VAR>_FILE`, or as a file `<VAR>` in `secrets.dir` (a
 * mounted Kubernetes Secret). Their values are collected so that every log
 * line and every admin response can be scrubbed of them, and of the password
 * of any URL, wherever it came from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maskUrlPasswords } from '../../plan/url-passwords.ts';
import { ConfigError, type ConfigProblem } from './config.ts';
import { SECRET_VARIABLES } from './settings.ts';

const REDACTED = '[redacted]';

/** Fills secret variables from files; returns the names of the secrets that are set (never their values). */
export function loadSecrets(env: NodeJS.ProcessEnv, dir: string | undefined, extra: readonly string[] = []): string[] {
  const problems: ConfigProblem[] = [];
  const names = [...new Set([...SECRET_VARIABLES, ...extra])];
  for (const name of names) {
    if (env[name]) continue;
    const file = env[`${name}_FILE`] || (dir !== undefined ? join(dir, name) : undefined);
    if (file === undefined) continue;
    try {
      env[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A secrets directory need not hold every secret; a file named explicitly must exist.
      if (env[`${name}_FILE`] || code !== 'ENOENT') problems.push({ key: env[`${name}_FILE`] ? `${name}_FILE` : 'secrets.dir', message: `cannot read the secret ${name} from ${file} (${code ?? 'error'})` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return names.filter((n) => env[n]);
}

/** Replaces every occurrence of a secret value in text, and masks the passwords of URLs. */
export class Scrubber {
  private values: string[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    names: readonly string[],
  ) {
    this.watch(names);
  }

  /** Also scrub these variables (e.g. named by a pipeline's `sasl_password_env`). */
  watch(names: readonly string[]): void {
    const values = new Set(this.values);
    for (const n of names) {
      const v = this.env[n];
      // A URL's password may also show up on its own (a client's connection settings in an error).
      for (const secret of [v, ...urlPassword(v)]) {
        // Very short values would scrub ordinary text; nobody uses them as secrets.
        if (!secret || secret.length < 4) continue;
        values.add(secret);
        // As it appears inside JSON (log lines, /status).
        values.add(JSON.stringify(secret).slice(1, -1));
      }
    }
    // Longest first, so a secret containing another is replaced whole.
    this.values = [...values].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return maskUrlPasswords(out);
  }
}

/** The password of a URL, as written and decoded; none when `text` is not a URL with one. */
function urlPassword(text: string | undefined): string[] {
  if (!text || !URL.canParse(text)) return [];
  const password = new URL(text).password;
  return password ? [...new Set([password, decodeURIComponent(password)])] : [];
}
