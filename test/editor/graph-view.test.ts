// The graph webview of the VS Code extension, fed by the real language server: every node of the SVG is
// clickable and maps to its place in the source; as the pipeline is edited the graph is redrawn from the
// new text, and while the text has errors the page keeps the graph as it last compiled, marked as such.
import test from 'ava';
import { join } from 'node:path';
import { clickedNode, graphPage } from '../../src/tooling/lsp/graph-page.ts';
import { sharedServer, tempFiles, uriOf } from '../lsp/client.ts';

const client = sharedServer(test);

const PIPELINE = `pipeline orders
schema Order { id: string, amount: double }
source orders: Order from datagen { count: 10 }
stream big = orders
  | where amount > 100
  | select { id, amount }
sink big to stdout {}
`;

/** The text at a zero-based line and character. */
const at = (text: string, line: number, character: number) => text.split('\n')[line]!.slice(character);

test('every node of the graph is an element of the SVG that maps to its source', async (t) => {
  const uri = uriOf(join(await tempFiles({ 'orders.sensei': PIPELINE }), 'orders.sensei'));
  client.open(uri, PIPELINE);
  const result = await client.graph(uri);
  const nodes = result.nodes!;
  t.deepEqual(nodes.map((n) => n.label), ['orders', 'where amount > 100', 'select { id, amount }', 'big', 'big']);
  for (const n of nodes) {
    t.regex(result.svg!, new RegExp(`<g id="${n.id}" class="node">`), n.id);
    t.is(n.uri, uri);
  }
  t.deepEqual(nodes.map((n) => at(PIPELINE, n.line, n.character).split(/[\s:]/)[0]), ['source', 'where', 'select', 'stream', 'sink'], 'each node at its declaration or operator');

  const page = graphPage(result, undefined, 'n0nce');
  t.regex(page.html, /script-src 'nonce-n0nce'/);
  t.regex(page.html, /<script nonce="n0nce">[\s\S]*postMessage\(\{ node: node\.id \}\)/);
  t.is(clickedNode(page.shown, { node: nodes[1]!.id }), nodes[1]);
  t.is(clickedNode(page.shown, { node: 'elsewhere' }), undefined);
  t.is(clickedNode(page.shown, 'not a message'), undefined);
});

test('edits redraw the graph; while the text has errors the last good graph stays, marked stale', async (t) => {
  const uri = uriOf(join(await tempFiles({ 'edited.sensei': PIPELINE }), 'edited.sensei'));
  client.open(uri, PIPELINE);
  const first = graphPage(await client.graph(uri), undefined, 'a');

  const grown = PIPELINE.replace('  | select { id, amount }', '  | select { id, amount }\n  | key by id');
  client.change(uri, grown);
  const second = graphPage(await client.graph(uri), first.shown, 'b');
  t.deepEqual(second.shown!.nodes.map((n) => n.label), ['orders', 'where amount > 100', 'select { id, amount }', 'key by id', 'big', 'big'], 'redrawn from the new text');
  t.notRegex(second.html, /class="stale"/);

  client.change(uri, grown.replace('amount > 100', 'amount > "a lot"'));
  const broken = await client.graph(uri);
  t.is(broken.svg, undefined);
  const third = graphPage(broken, second.shown, 'c');
  t.is(third.shown, second.shown, 'the last good graph stays');
  t.regex(third.html, /<p class="stale">the pipeline has errors[^<]*showing the graph as it last compiled\.<\/p>/);
  t.true(third.html.includes(second.shown!.svg));

  const none = graphPage(broken, undefined, 'd');
  t.is(none.shown, undefined);
  t.regex(none.html, /<p class="error">the pipeline has errors/);
  t.false(none.html.includes('<svg'));
});
