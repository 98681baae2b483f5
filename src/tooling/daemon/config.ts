/**
 * Loading the `sensei-run` configuration: a YAML or JSON file checked against
 * SETTINGS, then environment variables over it, then defaults. A wrong or
 * unknown key is an error naming the key (with its file position and a
 * did-you-mean), never a silent default. Values of unknown keys are never
 * echoed: they may be secrets someone put in the wrong place.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { durationMillis } from '../../check/options.ts';
import { closestMatch } from '../../syntax/suggest.ts';
import { leafSettings, SECRET_KEYS, SETTINGS, type DaemonConfig, type Leaf, type Setting } from './settings.ts';

export interface ConfigProblem {
  /** Dotted key (`admin.port`) or environment variable (`SENSEI_ADMIN_PORT`). */
  key: string;
  message: string;
  /** `file:line:col` of the key, when it came from a file. */
  where?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.where ? `${p.where}: ` : ''}${p.key}: ${p.message}`;
}

const SECRET_LIKE = /pass(word|wd)?|secret|token|credential|api[-_]?key|private[-_]?key/i;

export interface LoadOptions {
  /** The config file (YAML or JSON); without it, only the environment and defaults. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Base of relative paths when there is no file (default: the working directory). */
  cwd?: string;
}

/** Problems found so far, each placed at its key in the file when there is one. */
class Problems {
  readonly list: ConfigProblem[] = [];
  constructor(private readonly locate: (key: string) => string | undefined = () => undefined) {}

  add(key: string, message: string): void {
    const where = this.locate(key);
    this.list.push({ key, message, ...(where ? { where } : {}) });
  }
}

export async function loadConfig(options: LoadOptions = {}): Promise<DaemonConfig> {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  let base = options.cwd ?? process.cwd();
  let problems = new Problems();
  if (options.file !== undefined) {
    const file = options.file;
    base = dirname(resolve(base, file));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new ConfigError([{ key: file, message: `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }]);
    }
    const parsed = parseConfigText(file, text);
    raw = parsed.value;
    problems = new Problems(parsed.locate);
  }
  const { $schema: _editorHint, ...settings } = raw;
  const values = checkGroup(settings, SETTINGS, '', problems);
  applyEnvironment(values, env, problems);
  if (problems.list.length > 0) throw new ConfigError(problems.list);

  const config = withDefaults(values, SETTINGS) as unknown as DaemonConfig;
  if (config.workers.min > config.workers.max) problems.add('workers.min', `is ${config.workers.min}, more than workers.max (${config.workers.max})`);
  const pg = config.postgres;
  if (pg.serverConnections !== undefined && pg.processes * pg.connections > pg.serverConnections) {
    problems.add(
      'postgres.serverConnections',
      `is ${pg.serverConnections}, fewer than postgres.processes (${pg.processes}) × postgres.connections (${pg.connections}) = ${pg.processes * pg.connections}: ` +
        'lower postgres.connections, or run fewer processes',
    );
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  const fromBase = (p: string) => resolve(base, p);
  config.pipelines = config.pipelines.map(fromBase);
  if (config.secrets.dir !== undefined) config.secrets.dir = fromBase(config.secrets.dir);
  return config;
}

/** Parses YAML (JSON is YAML) and gives a locator of keys (`admin.port`) in the text. */
function parseConfigText(file: string, text: string): { value: Record<string, unknown>; locate: (key: string) => string | undefined } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ key: file, where: at(e.pos[0]), message: `not valid YAML or JSON: ${e.message.split('\n')[0]}` })));
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { value: {}, locate: () => undefined };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([{ key: file, message: 'the config file must hold a mapping of settings' }]);
  }
  return {
    value: value as Record<string, unknown>,
    locate: (key) => {
      const offset = keyOffset(doc, key.split('.'));
      return offset === undefined ? undefined : at(offset);
    },
  };
}

/** Start offset of the key at `path`, or of the deepest key of it that exists. */
function keyOffset(doc: Document, path: string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const name of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === name);
    if (!pair || !isScalar(pair.key)) break;
    offset = pair.key.range?.[0];
    node = pair.value;
  }
  return offset;
}

type Values = { [key: string]: unknown };

function checkGroup(raw: unknown, settings: Readonly<Record<string, Setting>>, prefix: string, problems: Problems): Values {
  const out: Values = {};
  const where = prefix.slice(0, -1) || 'the configuration';
  if (raw === null || raw === undefined) return out;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.add(where, `must be a mapping of settings (${Object.keys(settings).join(', ')})`);
    return out;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const key = `${prefix}${name}`;
    const setting = settings[name];
    if (!setting) {
      problems.add(key, unknownKeyMessage(key, name, Object.keys(settings), prefix));
      continue;
    }
    if (setting.type === 'group') {
      out[name] = checkGroup(value, setting.settings, `${key}.`, problems);
      continue;
    }
    const checked = checkValue(setting, value);
    if ('error' in checked) problems.add(key, checked.error);
    else out[name] = checked.value;
  }
  return out;
}

function unknownKeyMessage(key: string, name: string, siblings: string[], prefix: string): string {
  const secretVar = SECRET_KEYS[key];
  if (secretVar || SECRET_LIKE.test(name)) {
    const instead = secretVar ? `set the environment variable ${secretVar} (or ${secretVar}_FILE, or a file ${secretVar} in secrets.dir)` : 'pass it in an environment variable';
    return `secrets are not read from the config file; ${instead}`;
  }
  const guess = closestMatch(name, siblings);
  if (guess) return `unknown setting; did you mean \`${prefix}${guess}\`?`;
  // A key written at the wrong level: `port` for `admin.port`.
  const elsewhere = leafSettings().map((l) => l.path).filter((p) => p.split('.').pop() === name);
  if (elsewhere.length > 0) return `unknown setting; did you mean \`${elsewhere.join('` or `')}\`?`;
  return `unknown setting; ${prefix ? `\`${prefix.slice(0, -1)}\` has` : 'the settings are'}: ${siblings.join(', ')}`;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkValue(s: Leaf, value: unknown): { value: unknown } | { error: string } {
  const wrong = (expected: string) => ({ error: `expected ${expected}, got ${show(value)}` });
  switch (s.type) {
    case 'string':
      if (typeof value !== 'string') return wrong('a string');
      if (s.values && !s.values.includes(value)) {
        const guess = closestMatch(value, s.values);
        return { error: `must be one of ${s.values.join(', ')}, not ${show(value)}${guess ? ` (did you mean ${guess}?)` : ''}` };
      }
      return { value };
    case 'int':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (s.type === 'int' && !Number.isInteger(value))) {
        return wrong(s.type === 'int' ? 'an integer' : 'a number');
      }
      if (s.min !== undefined && value < s.min) return { error: `must be at least ${s.min}, not ${value}` };
      if (s.max !== undefined && value > s.max) return { error: `must be at most ${s.max}, not ${value}` };
      return { value };
    }
    case 'boolean':
      return typeof value === 'boolean' ? { value } : wrong('true or false');
    case 'duration': {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return { value };
      const ms = typeof value === 'string' ? durationMillis(value) : undefined;
      return ms === undefined ? wrong('a duration like 500ms, 30s, 5m, 1h (or milliseconds)') : { value: ms };
    }
    case 'list':
      if (typeof value === 'string') return { value: [value] };
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return wrong('a list of strings');
      return { value };
  }
}

/** Environment variables win over the file. */
function applyEnvironment(values: Values, env: NodeJS.ProcessEnv, problems: Problems): void {
  for (const { path, setting } of leafSettings()) {
    if (!setting.env) continue;
    const text = env[setting.env];
    if (text === undefined || text === '') continue;
    const checked = checkValue(setting, fromEnvText(setting, text));
    if ('error' in checked) {
      problems.list.push({ key: setting.env, message: `${checked.error} (overrides ${path})` });
      continue;
    }
    const names = path.split('.');
    let target = values;
    for (const name of names.slice(0, -1)) target = (target[name] ??= {}) as Values;
    target[names[names.length - 1]!] = checked.value;
  }
}

function fromEnvText(s: Leaf, text: string): unknown {
  switch (s.type) {
    case 'int':
    case 'number':
      return text.trim() === '' || Number.isNaN(Number(text)) ? text : Number(text);
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text;
    case 'list':
      return text.split(',').map((t) => t.trim()).filter((t) => t !== '');
    default:
      return text;
  }
}

function withDefaults(values: Values, settings: Readonly<Record<string, Setting>>): Values {
  const out: Values = {};
  for (const [name, s] of Object.entries(settings)) {
    if (s.type === 'group') out[name] = withDefaults((values[name] ?? {}) as Values, s.settings);
    else if (values[name] !== undefined) out[name] = values[name];
    else if (s.default !== undefined) out[name] = s.type === 'duration' ? durationMillis(s.default) : Array.isArray(s.default) ? [...s.default] : s.default;
    else out[name] = undefined;
  }
  return out;
}
