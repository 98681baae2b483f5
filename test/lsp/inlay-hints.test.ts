// Inlay hints over JSON-RPC: the inferred Avro type of each computed
// `select` field, after its expression; none for fields kept as they are,
// and only those inside the range asked for.
import test from 'ava';
import type { InlayHint, Range } from 'vscode-languageserver-protocol';
import { docUri, mark, sharedServer } from './client.ts';

const client = sharedServer(test);

const TEXT = `pipeline p
schema Order { id: string, amount: decimal(12, 2), country: string?, at: timestamp_millis }
source orders: Order from datagen {}
stream s = orders
  | select { id, cents: long(amount * 100)‸«», country: upper(country ?? "zz")«», big: amount > 10«» }
  | select { *, label: id + "/" + country«» }
sink s to stdout {}
`;

const WHOLE: Range = { start: { line: 0, character: 0 }, end: { line: 100, character: 0 } };

let n = 0;
function open(text: string): string {
  const uri = docUri(`inlay-${n++}.sensei`);
  client.open(uri, text);
  return uri;
}
const hints = (uri: string, range: Range): Promise<InlayHint[] | null> => client.connection.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range });

test('each computed select field shows its inferred type after the expression', async (t) => {
  const m = mark(TEXT);
  const got = (await hints(open(m.text), WHOLE))!;
  t.deepEqual(got.map((h) => h.position), m.ranges.map((r) => r.start));
  t.deepEqual(got.map((h) => h.label), [': long', ': string', ': boolean', ': string']);
  t.true(got.every((h) => h.kind === 1), 'type hints');
});

test('only hints inside the range asked for', async (t) => {
  const m = mark(TEXT);
  const line = m.cursor.line;
  const got = (await hints(open(m.text), { start: { line, character: 0 }, end: m.cursor }))!;
  t.deepEqual(got.map((h) => h.label), [': long']);
});

test('a field whose expression has an error gets no hint, the others still do', async (t) => {
  const m = mark(TEXT);
  const got = (await hints(open(m.text.replace('upper(country ?? "zz")', 'upper(nothing)')), WHOLE))!;
  t.deepEqual(got.filter((h) => h.position.line === m.cursor.line).map((h) => h.label), [': long', ': boolean']);
});

test('a group\'s computed keys and aggregates show the types of its output fields', async (t) => {
  const m = mark(`pipeline p
schema Order { id: string, amount: decimal(12, 2), country: string?, at: timestamp_millis }
source orders: Order from datagen {} event time at
stream s = orders
  | window tumbling 1m
  | group by country, upper_id: upper(id)«» { n: count()«», revenue: sum(amount)«», ids: collect(id)«» }
sink s to stdout {}
`);
  const got = (await hints(open(m.text), WHOLE))!;
  t.deepEqual(got.map((h) => h.position), m.ranges.map((r) => r.start));
  t.deepEqual(got.map((h) => h.label), [': string', ': long', ': decimal(38,2)', ': array<string>']);
});
