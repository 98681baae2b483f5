/**
 * Drives the language server the way an editor does: a child process
 * (`src/tooling/lsp/main.ts --stdio`) and a real JSON-RPC connection over its
 * stdin/stdout. Cursor positions are marked in test texts with `‸`, ranges
 * with `«…»`.
 */
import type { TestFn } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection,
} from 'vscode-jsonrpc/node';
import type {
  CodeAction, CompletionItem, CompletionList, Diagnostic, DocumentSymbol, FoldingRange, Hover, InitializeResult, Location, Position,
  PublishDiagnosticsParams, Range, TextEdit, WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { GRAPH_REQUEST, type GraphResult } from '../../src/tooling/lsp/protocol.ts';
import { marked } from '../syntax/helpers.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Marked {
  text: string;
  /** The `‸` position, if any. */
  cursor: Position;
  /** The `«…»` ranges, in order. */
  ranges: Range[];
}

/** Removes the markers; positions are LSP positions (0-based line, UTF-16 character). */
export function mark(source: string): Marked {
  const at = source.indexOf('‸');
  const { text: withCaret, ranges } = marked(source.replace('‸', '\u0000'));
  const caret = withCaret.indexOf('\u0000');
  const text = withCaret.replace('\u0000', '');
  const shift = (o: number) => (caret >= 0 && o > caret ? o - 1 : o);
  return {
    text,
    cursor: positionAt(text, at >= 0 ? caret : 0),
    ranges: ranges.map(([s, e]) => ({ start: positionAt(text, shift(s)), end: positionAt(text, shift(e)) })),
  };
}

export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}

export class LspClient {
  /** Every publishDiagnostics notification, in arrival order. */
  readonly published: PublishDiagnosticsParams[] = [];
  stderr = '';
  /** The answer to `initialize`. */
  initialized?: InitializeResult;
  private readonly versions = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(
    readonly connection: MessageConnection,
    readonly child: ChildProcess,
  ) {
    connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.published.push(p);
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  open(uri: string, text: string): void {
    this.versions.set(uri, 1);
    void this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'sensei', version: 1, text } });
  }

  /** Replaces the whole text; returns the new version. */
  change(uri: string, text: string): number {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
    return version;
  }

  /** An incremental edit of a range; returns the new version. */
  edit(uri: string, range: Range, text: string): number {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    void this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text }] });
    return version;
  }

  close(uri: string): void {
    void this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Waits for diagnostics of `uri` (at `version`, when given) that satisfy `accept`. */
  async diagnostics(uri: string, opts: { version?: number; accept?: (d: Diagnostic[]) => boolean; timeoutMs?: number } = {}): Promise<Diagnostic[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      const found = this.published.findLast((p) => p.uri === uri && (opts.version === undefined || p.version === opts.version));
      if (found && (opts.accept?.(found.diagnostics) ?? true)) return found.diagnostics;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no diagnostics for ${uri} (version ${opts.version}); got ${JSON.stringify(this.published.filter((p) => p.uri === uri).at(-1))}\n${this.stderr}`);
      await new Promise<void>((go) => {
        const timer = setTimeout(go, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          go();
        });
      });
    }
  }

  graph(uri: string): Promise<GraphResult> {
    return this.connection.sendRequest(GRAPH_REQUEST, { textDocument: { uri } });
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const r: CompletionItem[] | CompletionList | null = await this.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position });
    return Array.isArray(r) ? r : (r?.items ?? []);
  }

  definition(uri: string, position: Position): Promise<Location | Location[] | null> {
    return this.connection.sendRequest('textDocument/definition', { textDocument: { uri }, position });
  }

  references(uri: string, position: Position, includeDeclaration = true): Promise<Location[] | null> {
    return this.connection.sendRequest('textDocument/references', { textDocument: { uri }, position, context: { includeDeclaration } });
  }

  prepareRename(uri: string, position: Position): Promise<{ range: Range; placeholder: string } | null> {
    return this.connection.sendRequest('textDocument/prepareRename', { textDocument: { uri }, position });
  }

  rename(uri: string, position: Position, newName: string): Promise<WorkspaceEdit | null> {
    return this.connection.sendRequest('textDocument/rename', { textDocument: { uri }, position, newName });
  }

  formatting(uri: string): Promise<TextEdit[] | null> {
    return this.connection.sendRequest('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  }

  codeActions(uri: string, range: Range, diagnostics: Diagnostic[]): Promise<CodeAction[] | null> {
    return this.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  symbols(uri: string): Promise<DocumentSymbol[] | null> {
    return this.connection.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  }

  folding(uri: string): Promise<FoldingRange[] | null> {
    return this.connection.sendRequest('textDocument/foldingRange', { textDocument: { uri } });
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      void this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    await new Promise<void>((done) => {
      if (this.child.exitCode !== null) return done();
      const timer = setTimeout(() => {
        this.child.kill();
        done();
      }, 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
    this.connection.dispose();
  }
}

/** Starts the server without initializing it. `script` is the server to run: the sources by default, or a bundle. */
export function spawnServer(script: string[] = ['--import', 'tsx', join(ROOT, 'src/tooling/lsp/main.ts')]): LspClient {
  const child = spawn(process.execPath, [...script, '--stdio'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.listen();
  return new LspClient(connection, child);
}

/** Initializes a started server for the workspace folder `root`. */
export async function initialize(client: LspClient, initializationOptions: Record<string, unknown>, root = ROOT): Promise<InitializeResult> {
  const init: InitializeResult = await client.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).href,
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'workspace' }],
    capabilities: {},
    initializationOptions,
  });
  if (!init.capabilities.hoverProvider) throw new Error('server did not initialize');
  client.initialized = init;
  void client.connection.sendNotification('initialized', {});
  return init;
}

/**
 * Starts the server and initializes it (no debounce, so tests wait for
 * analyses, not timers). `script` is the server to run: the sources by
 * default, or a bundle.
 */
export async function startServer(initializationOptions: Record<string, unknown> = { diagnosticsDelay: 0 }, script?: string[]): Promise<LspClient> {
  const client = spawnServer(script);
  await initialize(client, initializationOptions);
  return client;
}

/**
 * One server for all tests of a file: started before them, stopped after.
 * The returned client forwards to it once it has started.
 */
export function sharedServer(test: TestFn): LspClient {
  let client: LspClient | undefined;
  test.before(async () => {
    client = await startServer();
  });
  test.after.always(async () => {
    await client?.stop();
  });
  return new Proxy({} as LspClient, {
    get: (_, key) => {
      const value = Reflect.get(client!, key);
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
}

/** A fresh folder with the given files (path → text), for tests of imports read from disk. */
export async function tempFiles(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensei-lsp-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

export const uriOf = (path: string) => pathToFileURL(path).href;

/** An in-memory document URI under the repository (nothing is written there). */
export const docUri = (name: string) => pathToFileURL(join(ROOT, 'test/lsp/.virtual', name)).href;

/** A diagnostic's message as text (the protocol also allows markup). */
export const messageOf = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : d.message.value);
