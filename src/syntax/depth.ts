/**
 * How deep a syntax tree may be. The stages after parsing (resolve, check,
 * codegen, lowering, the formatter) walk expressions recursively. The parser
 * bounds nesting (MAX_NESTING in grammar/parser.ts), but a chain of operators
 * (`a + b + …`, `x or y or …`, `r.a.b.c…`) is parsed in a loop and still makes
 * the tree one level deeper per operator.
 */
import type { Node } from './ast.ts';

/** Well below the depth at which the later stages exhaust the call stack (over a thousand). */
export const MAX_TREE_DEPTH = 256;

/**
 * A node deeper than MAX_TREE_DEPTH under `root` (which is at depth 1), if
 * any. Iterative: the trees it looks for are too deep to recurse into.
 */
export function nodeTooDeep(root: Node): Node | undefined {
  const values: object[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop()!;
    const parentDepth = depths.pop()!;
    const depth = 'span' in value ? parentDepth + 1 : parentDepth;
    if (depth > MAX_TREE_DEPTH) return value as Node;
    const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) {
      if (child !== null && typeof child === 'object' && child !== (value as Partial<Node>).span) {
        values.push(child);
        depths.push(depth);
      }
    }
  }
  return undefined;
}
