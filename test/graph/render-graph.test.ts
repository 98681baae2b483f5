import test from 'ava';
import type { PlanGraph, PlanNode } from '../../src/plan/plan.ts';
import { graphToDot, graphToMermaid, graphToSvg } from '../../src/graph/render-graph.ts';

const at = { file: 'pipelines/x.sensei', line: 1, column: 1 };
const node = (id: string, kind: PlanNode['kind'], type: string, label: string): PlanNode => ({
  id,
  kind,
  type,
  label,
  location: at,
});

const graph: PlanGraph = {
  nodes: [
    node('source:orders', 'source', 'datagen', 'orders'),
    node('paid/0:where', 'operator', 'where', 'where status == "PAID"'),
    node('paid/1:key-by', 'operator', 'key-by', 'key by customer_id'),
    node('stream:paid', 'stream', 'stream', 'paid'),
    node('sink:paid:0', 'sink', 'stdout', 'paid'),
  ],
  edges: [
    { from: 'source:orders', to: 'paid/0:where', schema: { type: 'record', name: 'Order', fields: [] } },
    { from: 'paid/0:where', to: 'paid/1:key-by', schema: { type: 'record', name: 'Order', fields: [] } },
    { from: 'paid/1:key-by', to: 'stream:paid', schema: { type: 'record', name: 'Order', fields: [] }, key: 'customer_id' },
    { from: 'stream:paid', to: 'sink:paid:0', schema: 'Order', key: 'customer_id' },
  ],
};

/** Names written to break out of DOT and Mermaid quoting. */
const hostile: PlanGraph = {
  nodes: [
    node('a"; evil -> x; "', 'source', 'datagen', 'x"] ; click n0 "javascript:alert(1)"; %% \\N <b>'),
    node('b\\', 'sink', 'stdout', 'y|`#"\nz'),
  ],
  edges: [{ from: 'a"; evil -> x; "', to: 'b\\', schema: { type: 'record', name: 'R"]; x', fields: [] }, key: 'k"|' }],
};

test('dot has every node with a shape per kind and every edge labelled with type and key', (t) => {
  const dot = graphToDot(graph, { name: 'orders' });
  t.true(dot.startsWith('digraph "orders" {\n'));
  t.true(dot.includes('"source:orders" [label="orders\\n(datagen)", id="sensei_node_0", shape=invhouse];'));
  t.true(dot.includes('"paid/0:where" [label="where status == \\"PAID\\"", id="sensei_node_1", shape=box, style=rounded];'));
  t.true(dot.includes('"stream:paid" [label="paid", id="sensei_node_3", shape=ellipse];'));
  t.true(dot.includes('"sink:paid:0" [label="paid\\n(stdout)", id="sensei_node_4", shape=house];'));
  t.true(dot.includes('"source:orders" -> "paid/0:where" [label="Order"];'));
  t.true(dot.includes('"paid/1:key-by" -> "stream:paid" [label="Order\\nkey: customer_id"];'));
  t.true(dot.includes('"stream:paid" -> "sink:paid:0" [label="Order\\nkey: customer_id"];'));
  t.is(dot.match(/ -> /g)?.length, graph.edges.length);
});

test('mermaid has every node with a shape per kind and every edge labelled', (t) => {
  const mermaid = graphToMermaid(graph);
  t.is(
    mermaid,
    [
      'flowchart LR',
      '  n0[/"orders<br/>(datagen)"/]',
      '  n1["where status == #34;PAID#34;"]',
      '  n2["key by customer_id"]',
      '  n3(["paid"])',
      '  n4[\\"paid<br/>(stdout)"\\]',
      '  n0 -->|"Order"| n1',
      '  n1 -->|"Order"| n2',
      '  n2 -->|"Order<br/>key: customer_id"| n3',
      '  n3 -->|"Order<br/>key: customer_id"| n4',
      '',
    ].join('\n'),
  );
});

test('hostile names cannot break out of DOT strings', (t) => {
  const dot = graphToDot(hostile);
  // Every statement line holds only quoted strings with escaped quotes: removing them leaves bare syntax.
  const bare = dot.replace(/"(?:[^"\\]|\\.)*"/g, 'S');
  t.is(
    bare,
    [
      'digraph S {',
      '  rankdir=LR;',
      '  node [fontname=S, fontsize=11];',
      '  edge [fontname=S, fontsize=9];',
      '  S [label=S, id=S, shape=invhouse];',
      '  S [label=S, id=S, shape=house];',
      '  S -> S [label=S];',
      '}',
      '',
    ].join('\n'),
  );
  t.true(dot.includes('\\\\N'), 'label escapes like \\N are neutralised');
});

test('hostile names cannot break out of Mermaid labels', (t) => {
  const mermaid = graphToMermaid(hostile);
  const lines = mermaid.trimEnd().split('\n');
  t.is(lines.length, 4);
  t.regex(lines[1]!, /^ {2}n0\[\/"[^"|%`]*"\/\]$/);
  t.regex(lines[2]!, /^ {2}n1\[\\"[^"|%`]*"\\\]$/);
  t.regex(lines[3]!, /^ {2}n0 -->\|"[^"|%`]*"\| n1$/);
  t.true(lines[2]!.includes('y#124;#96;#35;#34;<br/>z'));
});

test('svg is rendered by Graphviz and holds every label', async (t) => {
  const svg = await graphToSvg(graph);
  t.regex(svg, /<svg[\s>]/);
  t.true(svg.trimEnd().endsWith('</svg>'));
  for (const label of ['orders', 'paid', 'key by customer_id', 'key: customer_id']) t.true(svg.includes(label), label);
  const hostileSvg = await graphToSvg(hostile);
  t.regex(hostileSvg, /<svg[\s>]/);
  t.false(hostileSvg.includes('<b>'), 'names are escaped as XML text');
});
