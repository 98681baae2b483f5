/**
 * Requests the Sensei server adds to the language server protocol, shared
 * by the server and the editor extension (this file imports nothing, so the
 * extension's bundle stays small).
 */

/** The dataflow graph of the pipeline in a document, as SVG (the `sensei.showGraph` command). */
export const GRAPH_REQUEST = 'sensei/graph';
export interface GraphParams {
  textDocument: { uri: string };
}
export interface GraphResult {
  svg?: string;
  /** Each node of the SVG (`<g id="…">`) and where in the source it comes from, to jump there on a click. */
  nodes?: GraphNode[];
  error?: string;
}
export interface GraphNode {
  /** The id of the node's element in the SVG. */
  id: string;
  label: string;
  uri: string;
  /** Zero-based line and UTF-16 character of the source, operator or sink, as LSP positions. */
  line: number;
  character: number;
}

/**
 * Commands of the editor extension that the server's code lenses on a
 * pipeline invoke, each with the document's URI as its argument.
 */
export const COMMANDS = {
  runPipeline: 'sensei.runPipeline',
  runTests: 'sensei.runTests',
  showGraph: 'sensei.showGraph',
} as const;

/** Settings a client may pass as `initializationOptions` or as the `sensei` configuration section. */
export interface ServerSettings {
  /** Quiet time after an edit before diagnostics are computed (ms). */
  diagnosticsDelay?: number;
  /** URL of docs/diagnostics.md; each diagnostic code links to its section. */
  docsUrl?: string;
}
