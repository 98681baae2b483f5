// Signature help over JSON-RPC: the function's signature from the checker's
// table with the parameter the cursor is on, also in a call still being
// written; nothing outside a call.
import test from 'ava';
import type { SignatureHelp } from 'vscode-languageserver-protocol';
import { AGGREGATES } from '../../src/check/aggregates.ts';
import { signatureText, FUNCTIONS_BY_NAME } from '../../src/check/functions.ts';
import { docUri, mark, sharedServer } from './client.ts';

const client = sharedServer(test);

const HEAD = `pipeline p
schema Order { id: string, amount: double }
source orders: Order from datagen {}
`;

let n = 0;
async function helpAt(source: string): Promise<SignatureHelp | null> {
  const m = mark(`${HEAD}${source}`);
  const uri = docUri(`signature-${n++}.sensei`);
  client.open(uri, m.text);
  return client.connection.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position: m.cursor });
}

/** The function, the active parameter and that parameter's part of the label. */
function shown(help: SignatureHelp | null): [string, number, string] | null {
  if (!help) return null;
  const s = help.signatures[help.activeSignature ?? 0]!;
  const active = help.activeParameter ?? 0;
  const [start, end] = s.parameters![active]!.label as [number, number];
  return [s.label.slice(0, s.label.indexOf('(')), active, s.label.slice(start, end)];
}

test('the signature of the function called, with the parameter at the cursor', async (t) => {
  const help = await helpAt('stream s = orders | select { x: substring(id, ‸) }\n');
  t.is(help!.signatures[0]!.label, signatureText(FUNCTIONS_BY_NAME.get('substring')!));
  t.regex(JSON.stringify(help!.signatures[0]!.documentation), /substring|characters|string/i);
  t.deepEqual(shown(help), ['substring', 1, 'start: int or long']);
  t.deepEqual(shown(await helpAt('stream s = orders | select { x: substring(‸id, 1) }\n')), ['substring', 0, 's: string']);
  t.deepEqual(shown(await helpAt('stream s = orders | select { x: substring(id, 1, 2‸) }\n')), ['substring', 2, 'length?: int or long']);
});

test('the innermost call, and a variadic parameter for every further argument', async (t) => {
  t.deepEqual(shown(await helpAt('stream s = orders | select { x: concat(id, upper(‸)) }\n')), ['upper', 0, 's: string']);
  t.deepEqual(shown(await helpAt('stream s = orders | select { x: concat(upper(id), [1, 2], ‸) }\n')), ['concat', 0, '...values: string, number or boolean']);
});

test('a call still being written, and a cast', async (t) => {
  t.deepEqual(shown(await helpAt('stream s = orders | where substring(id, 1, ‸\n')), ['substring', 2, 'length?: int or long']);
  t.deepEqual(shown(await helpAt('stream s = orders | select { x: long(‸ }\n')), ['long', 0, 'x: any type']);
});

test('nothing outside a call, in a comment, or for an unknown function', async (t) => {
  t.is(await helpAt('stream s = orders | where id == ‸\n'), null);
  t.is(await helpAt('stream s = orders | select { ‸ }\n'), null);
  t.is(await helpAt('stream s = orders | select { x: upper(id) ‸}\n'), null);
  t.is(await helpAt('// upper(‸\n'), null);
  t.is(await helpAt('stream s = orders | select { x: nope(‸) }\n'), null);
});

test('an aggregate\'s signature inside a group block, and only there', async (t) => {
  const help = await helpAt('stream s = orders | group by id { total: sum(‸) }\n');
  t.is(help!.signatures[0]!.label, AGGREGATES.get('sum')!.signature);
  t.regex(JSON.stringify(help!.signatures[0]!.documentation), /The sum of x/);
  t.deepEqual(shown(help), ['sum', 0, 'x']);
  t.deepEqual(shown(await helpAt('stream s = orders | window tumbling 1m | group { n: count(‸\n')), ['count', 0, 'x']);
  t.deepEqual(shown(await helpAt('stream s = orders | group by id { n: count(upper(‸)) }\n')), ['upper', 0, 's: string']);
  t.is(await helpAt('stream s = orders | select { x: sum(‸) }\n'), null);
});
