import test from 'ava';
import { formatText } from '../../src/format/format.ts';
import { docUri, mark, sharedServer } from './client.ts';

const client = sharedServer(test);

const MESSY = `pipeline   p
schema Order {id: string
  amount: double}
source orders: Order from datagen {count: 1}
stream s = orders | where amount > 0 | select {id}
sink s to stdout {format: json}
`;

test('formatting replaces the document with the formatter\'s output', async (t) => {
  const uri = docUri('format.sensei');
  client.open(uri, MESSY);
  const edits = (await client.formatting(uri))!;
  t.is(edits.length, 1);
  t.deepEqual(edits[0]!.range.start, { line: 0, character: 0 });
  t.deepEqual(edits[0]!.range.end, { line: 6, character: 0 });
  t.is(edits[0]!.newText, formatText('x.sensei', MESSY).text!);
});

test('formatting a formatted or broken document changes nothing', async (t) => {
  const clean = docUri('format-clean.sensei');
  client.open(clean, formatText('x.sensei', MESSY).text!);
  t.deepEqual(await client.formatting(clean), []);
  const broken = docUri('format-broken.sensei');
  client.open(broken, `${MESSY}stream t = s | where (`);
  t.deepEqual(await client.formatting(broken), []);
});

test('formatting keeps a CRLF document\'s line endings', async (t) => {
  const crlf = (text: string) => text.replace(/\n/g, '\r\n');
  const messy = crlf(MESSY.replace('pipeline   p\n', 'pipeline   p\n/* a comment\n   on two lines */\n'));
  const uri = docUri('format-crlf.sensei');
  client.open(uri, messy);
  const edits = (await client.formatting(uri))!;
  t.is(edits.length, 1);
  t.deepEqual(edits[0]!.range.end, { line: messy.split('\r\n').length - 1, character: 0 });
  const expected = crlf(formatText('x.sensei', messy.replace(/\r\n/g, '\n')).text!);
  t.is(edits[0]!.newText, expected);
  t.false(/[^\r]\n/.test(edits[0]!.newText), 'every line ends with CRLF');
  // Formatted already, with CRLF: nothing to do.
  const clean = docUri('format-crlf-clean.sensei');
  client.open(clean, expected);
  t.deepEqual(await client.formatting(clean), []);
});

test('a did-you-mean diagnostic offers a quick fix that replaces the word', async (t) => {
  const m = mark(`pipeline p
schema Order { id: string, amount: double }
source orders: Order from datagen {}
stream s = orders | where «amout» > 0
sink s to stdout {}
`);
  const uri = docUri('quickfix.sensei');
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  const actions = (await client.codeActions(uri, m.ranges[0]!, diagnostics))!;
  t.is(actions.length, 1);
  const [action] = actions;
  t.is(action!.kind, 'quickfix');
  t.regex(action!.title, /amount/);
  t.true(action!.isPreferred);
  t.deepEqual(action!.diagnostics?.map((d) => d.code), ['unknown-field']);
  t.deepEqual(action!.edit!.changes![uri], [{ range: m.ranges[0]!, newText: 'amount' }]);
});

test('no quick fixes away from a diagnostic', async (t) => {
  const m = mark(`pipeline p
«schema» Order { id: string, amount: double }
source orders: Order from datagen {}
stream s = orders | where amout > 0
sink s to stdout {}
`);
  const uri = docUri('no-quickfix.sensei');
  client.open(uri, m.text);
  const diagnostics = await client.diagnostics(uri, { version: 1 });
  t.deepEqual(await client.codeActions(uri, m.ranges[0]!, diagnostics), []);
});

test('the graph request renders the pipeline\'s dataflow graph as SVG, or says why not', async (t) => {
  const uri = docUri('graph.sensei');
  client.open(uri, formatText('x.sensei', MESSY).text!);
  const { svg } = await client.graph(uri);
  t.regex(svg!, /<svg[\s\S]*orders[\s\S]*<\/svg>/);
  const broken = docUri('graph-broken.sensei');
  client.open(broken, `${MESSY}stream t = nowhere\n`);
  const result = await client.graph(broken);
  t.is(result.svg, undefined);
  t.regex(result.error!, /errors/);
});
