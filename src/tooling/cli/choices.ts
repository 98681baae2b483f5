/** Values of enumerated flags and arguments, shared by the command line and the commands. */
export const GRAPH_FORMATS = ['dot', 'mermaid', 'svg'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export const DEBUG_STAGES = ['tokens', 'ast', 'resolved', 'typed', 'plan', 'code'] as const;
export type DebugStage = (typeof DEBUG_STAGES)[number];

export const OUTPUT_FORMATS = ['text', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
