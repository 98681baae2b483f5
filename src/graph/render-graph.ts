/**
 * Renders a plan's dataflow graph as Graphviz DOT, Mermaid or SVG, for
 * `sensei graph`. Names come from user pipelines, so every label and id is
 * escaped: a stream name can never inject syntax into the output.
 */
import type { PlanEdge, PlanGraph, PlanNode } from '../plan/plan.ts';

type NodeKind = PlanNode['kind'];

const DOT_SHAPES: Record<NodeKind, string> = {
  source: 'shape=invhouse',
  operator: 'shape=box, style=rounded',
  stream: 'shape=ellipse',
  sink: 'shape=house',
};

/** Mermaid shape delimiters around the quoted label. */
const MERMAID_SHAPES: Record<NodeKind, [string, string]> = {
  source: ['[/', '/]'],
  operator: ['[', ']'],
  stream: ['([', '])'],
  sink: ['[\\', '\\]'],
};

export function graphToDot(g: PlanGraph, opts: { name?: string } = {}): string {
  const lines = [
    `digraph ${dotString(opts.name ?? 'pipeline')} {`,
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  // Element ids in the SVG (`sensei_node_3`) let an editor map a click back to the node.
  g.nodes.forEach((n, i) => lines.push(`  ${dotString(n.id)} [label=${dotString(nodeLabel(n))}, id=${dotString(svgNodeId(i))}, ${DOT_SHAPES[n.kind]}];`));
  for (const e of g.edges) {
    const label = edgeLabel(e);
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${label ? ` [label=${dotString(label)}]` : ''};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function graphToMermaid(g: PlanGraph): string {
  // Mermaid ids are generated, never taken from names, so only labels need escaping.
  const ids = new Map(g.nodes.map((n, i) => [n.id, `n${i}`]));
  const idOf = (nodeId: string): string => {
    let id = ids.get(nodeId);
    if (id === undefined) ids.set(nodeId, (id = `n${ids.size}`));
    return id;
  };
  const lines = ['flowchart LR'];
  for (const n of g.nodes) {
    const [open, close] = MERMAID_SHAPES[n.kind];
    lines.push(`  ${idOf(n.id)}${open}"${mermaidText(nodeLabel(n))}"${close}`);
  }
  for (const e of g.edges) {
    const label = edgeLabel(e);
    lines.push(`  ${idOf(e.from)} -->${label ? `|"${mermaidText(label)}"|` : ''} ${idOf(e.to)}`);
  }
  return lines.join('\n') + '\n';
}

/** The id of the graph's i-th node in the DOT and SVG output. */
export function svgNodeId(i: number): string {
  return `sensei_node_${i}`;
}

let viz: Promise<{ renderString(dot: string, opts: { format: string }): string }> | undefined;

/** Lays the graph out with Graphviz (compiled to WebAssembly, so no native install). */
export async function graphToSvg(g: PlanGraph, opts: { name?: string } = {}): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return (await viz).renderString(graphToDot(g, opts), { format: 'svg' });
}

/** The node's label, plus the connector for sources and sinks. */
function nodeLabel(n: PlanNode): string {
  return (n.kind === 'source' || n.kind === 'sink') && n.type !== n.label ? `${n.label}\n(${n.type})` : n.label;
}

/** The record type's name and the key, when the edge carries one. */
function edgeLabel(e: PlanEdge): string {
  const parts = [schemaName(e.schema), e.key === undefined ? '' : `key: ${e.key}`];
  return parts.filter((p) => p !== '').join('\n');
}

function schemaName(schema: unknown): string {
  if (typeof schema === 'string') return schema;
  if (schema !== null && typeof schema === 'object' && 'name' in schema && typeof schema.name === 'string') {
    return schema.name;
  }
  return '';
}

/** A DOT quoted string: backslashes (label escapes such as `\N`), quotes and line breaks escaped. */
function dotString(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch.codePointAt(0)! < 0x20) out += ' ';
    else out += ch;
  }
  return out + '"';
}

/** Text inside a quoted Mermaid label: syntax characters become entity codes (`#34;`). */
function mermaidText(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\n') out += '<br/>';
    else if ('"#&<>`|%\\;'.includes(ch) || ch.codePointAt(0)! < 0x20) out += `#${ch.codePointAt(0)};`;
    else out += ch;
  }
  return out;
}
