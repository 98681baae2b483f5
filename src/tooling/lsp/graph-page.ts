/**
 * The page of the VS Code extension's graph webview, kept beside the
 * protocol (it imports nothing else, so the extension's bundle stays small)
 * and tested with the real server: the pipeline's SVG with every node
 * clickable (a click posts the node's element id; the extension reveals its
 * source), and, while the pipeline being edited has errors, the graph as it
 * last compiled, marked as such, rather than a page that flickers to an
 * error at every keystroke.
 */
import type { GraphNode, GraphResult } from './protocol.ts';

/** The graph on screen: its SVG and where each node comes from. */
export interface ShownGraph {
  svg: string;
  nodes: GraphNode[];
}

export interface GraphPage {
  html: string;
  /** What the page shows, to find a clicked node's source; undefined when it shows no graph. */
  shown: ShownGraph | undefined;
}

/** A message the page posts when a node is clicked. */
export interface NodeClicked {
  node: string;
}

export function graphPage(result: GraphResult, previous: ShownGraph | undefined, nonce: string): GraphPage {
  const current = result.svg !== undefined ? { svg: result.svg, nodes: result.nodes ?? [] } : undefined;
  const shown = current ?? previous;
  const notice = current ? '' : `<p class="${shown ? 'stale' : 'error'}">${escapeHtml(result.error ?? 'no graph')}${shown ? ' — showing the graph as it last compiled.' : ''}</p>`;
  const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'nonce-${nonce}';">
<style>
  body { background: var(--vscode-editor-background); color: var(--vscode-editor-foreground); }
  svg { max-width: 100%; height: auto; background: white; border-radius: 4px; }
  g.node { cursor: pointer; }
  g.node:hover polygon, g.node:hover ellipse, g.node:hover path { stroke: #0066cc; stroke-width: 2; }
  .error { color: var(--vscode-errorForeground); }
  .stale { color: var(--vscode-editorWarning-foreground); }
</style></head>
<body>${notice}${shown ? `<div class="${current ? 'graph' : 'graph stale-graph'}">${shown.svg}</div>` : ''}
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  for (const node of document.querySelectorAll('g.node')) node.addEventListener('click', () => vscode.postMessage({ node: node.id }));
</script>
</body></html>`;
  return { html, shown };
}

/** The source position of a clicked node, if the shown graph has it. */
export function clickedNode(shown: ShownGraph | undefined, message: unknown): GraphNode | undefined {
  const id = typeof message === 'object' && message !== null && typeof (message as NodeClicked).node === 'string' ? (message as NodeClicked).node : undefined;
  return id === undefined ? undefined : shown?.nodes.find((n) => n.id === id);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
