// The protocol's lifecycle and error rules: requests before `initialize` and
// after `shutdown` are refused with the codes the specification names,
// `exit` ends the process with 0 only after `shutdown`, and a request
// missing a parameter is answered InvalidParams naming it.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { ErrorCodes, type ResponseError } from 'vscode-jsonrpc/node';
import { docUri, initialize, sharedServer, spawnServer, type LspClient } from './client.ts';

const client = sharedServer(test);

const POSITION = { line: 0, character: 0 };
const TEXT = 'pipeline p\nschema A { id: string }\nsource a: A from datagen {}\nsink a to stdout {}\n';

/** The error a request is answered with (fails the test when it succeeds). */
async function refusal(c: LspClient, method: string, params?: unknown): Promise<ResponseError> {
  try {
    const result = await c.connection.sendRequest(method, params);
    throw new Error(`${method} answered ${JSON.stringify(result)}`);
  } catch (error) {
    if ((error as ResponseError).code === undefined) throw error;
    return error as ResponseError;
  }
}

const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((done) => (child.exitCode !== null ? done(child.exitCode) : child.once('exit', (code) => done(code))));

test('before initialize: requests are refused with ServerNotInitialized and notifications are dropped', async (t) => {
  const c = spawnServer();
  try {
    t.is((await refusal(c, 'textDocument/hover', { textDocument: { uri: docUri('early.sensei') }, position: POSITION })).code, ErrorCodes.ServerNotInitialized);
    t.is((await refusal(c, 'shutdown')).code, ErrorCodes.ServerNotInitialized);
    t.is((await refusal(c, 'sensei/no-such-request', {})).code, ErrorCodes.ServerNotInitialized);
    c.open(docUri('early.sensei'), TEXT);
    await initialize(c, { diagnosticsDelay: 0 });
    // The didOpen sent before initialize was dropped: the document is unknown.
    t.deepEqual(await c.symbols(docUri('early.sensei')), []);
    t.is((await refusal(c, 'initialize', { processId: null, rootUri: null, capabilities: {} })).code, ErrorCodes.InvalidRequest);
  } finally {
    await c.stop();
  }
});

test('after shutdown: requests are refused with InvalidRequest, and exit ends the process with 0', async (t) => {
  const c = spawnServer();
  await initialize(c, { diagnosticsDelay: 0 });
  c.open(docUri('late.sensei'), TEXT);
  t.true((await c.symbols(docUri('late.sensei')))!.length > 0);
  t.is(await c.connection.sendRequest('shutdown'), null);
  t.is((await refusal(c, 'textDocument/documentSymbol', { textDocument: { uri: docUri('late.sensei') } })).code, ErrorCodes.InvalidRequest);
  t.is((await refusal(c, 'shutdown')).code, ErrorCodes.InvalidRequest);
  const exited = exitCode(c.child);
  void c.connection.sendNotification('exit');
  t.is(await exited, 0);
  c.connection.dispose();
});

for (const initialized of [true, false]) {
  test(`exit without shutdown ends the process with 1 (${initialized ? 'after' : 'before'} initialize)`, async (t) => {
    const c = spawnServer();
    if (initialized) await initialize(c, { diagnosticsDelay: 0 });
    const exited = exitCode(c.child);
    void c.connection.sendNotification('exit');
    t.is(await exited, 1);
    c.connection.dispose();
  });
}

test('a request missing a parameter is answered InvalidParams naming it, without a logged stack trace', async (t) => {
  const uri = docUri('params.sensei');
  client.open(uri, TEXT);
  const cases: [string, unknown, RegExp][] = [
    ['textDocument/hover', { textDocument: { uri } }, /`position` is missing/],
    ['textDocument/hover', { position: POSITION }, /`textDocument.uri` is missing/],
    ['textDocument/completion', { textDocument: { uri }, position: { line: 'x', character: 0 } }, /`position` is not a position/],
    ['textDocument/references', { textDocument: { uri }, position: POSITION }, /`context.includeDeclaration` is missing/],
    ['textDocument/rename', { textDocument: { uri }, position: POSITION }, /`newName` is missing/],
    ['textDocument/codeAction', { textDocument: { uri }, range: { start: POSITION, end: POSITION } }, /`context.diagnostics` is missing/],
    ['textDocument/formatting', {}, /`textDocument.uri` is missing/],
    ['sensei/graph', { textDocument: {} }, /`textDocument.uri` is missing/],
  ];
  for (const [method, params, message] of cases) {
    const error = await refusal(client, method, params);
    t.is(error.code, ErrorCodes.InvalidParams, method);
    t.regex(error.message, message, method);
  }
  t.notRegex(client.stderr, /TypeError|\n\s+at /);
  // Complete parameters still work.
  t.true((await client.symbols(uri))!.length > 0);
});
