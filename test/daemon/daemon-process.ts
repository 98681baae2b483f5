/**
 * Runs the real `sensei-run` executable as a child process and talks to it
 * the way an operator does: its JSON log lines, its admin endpoints, signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/sensei-run.js');

export type LogEvent = Record<string, unknown> & { event?: string; level?: string; msg?: string };

export class DaemonProcess {
  readonly child: ChildProcess;
  readonly events: LogEvent[] = [];
  /** Lines of stdout that are not JSON. */
  readonly textLines: string[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];
  private port: number | undefined;

  constructor(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
    const { FORCE_COLOR: _f, NO_COLOR: _n, ...env } = process.env;
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      // Port 0: tests run side by side, each daemon gets a free port (read from the admin-listening event).
      env: { ...env, SENSEI_ADMIN_PORT: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.onLine(line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((done) => this.child.on('exit', (code, signal) => done({ code, signal })));
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let e: LogEvent;
    try {
      e = JSON.parse(line) as LogEvent;
    } catch {
      // Only --help and --check print text; a daemon's stdout is JSON (a test checks the lines).
      this.textLines.push(line);
      return;
    }
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  /** The first log event (already seen or still to come) that matches; fails after `timeoutMs` or when the process exits. */
  waitFor(match: string | ((e: LogEvent) => boolean), timeoutMs = 60_000): Promise<LogEvent> {
    const test = typeof match === 'string' ? (e: LogEvent) => e.event === match : match;
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log event within ${timeoutMs} ms (${String(match)}); events: ${this.events.map((x) => x.event).join(', ')}; stderr: ${this.stderr}`)), timeoutMs);
      const waiter = {
        match: test,
        resolve: (e: LogEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(({ code }) => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`sensei-run exited (${code}) before a matching log event (${String(match)}); events: ${this.events.map((x) => x.event).join(', ')}; stderr: ${this.stderr}`));
      });
    });
  }

  async adminPort(): Promise<number> {
    this.port ??= Number((await this.waitFor('admin-listening')).port);
    return this.port;
  }

  async request(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; contentType: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.adminPort()}${path}`, init);
    return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
  }

  async json<T = any>(path: string): Promise<T> {
    const r = await this.request(path);
    return JSON.parse(r.text) as T;
  }

  /** Polls `/readyz` until it answers 200. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.request('/readyz').catch(() => undefined);
      if (r?.status === 200) return;
      if (Date.now() > until) {
        const errors = this.events.filter((e) => e.level === 'error' || e.level === 'fatal').map((e) => JSON.stringify(e));
        throw new Error(`not ready within ${timeoutMs} ms: ${r?.text}; errors logged: ${errors.join('\n')}; stderr: ${this.stderr}`);
      }
      await sleep(100);
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Makes sure the process is gone (test cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-run-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4); throws on a line that does not follow it. */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // prom-client writes NaN as `Nan`; Prometheus reads NaN in any case.
    if (Number.isNaN(value) && !/^nan$/i.test(m[3]!)) throw new Error(`bad sample value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** Sum of the samples of a metric whose labels include `labels`. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
