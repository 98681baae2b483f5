/** Pipeline text through the whole compiler with the built-in connectors, for tests that need a plan. */
import { builtinConnectorSpecs } from '../../connectors/registry.ts';
import { compile, type CompileResult } from '../../src/compile.ts';
import type { Plan } from '../../src/plan/plan.ts';

/** The compile result of one in-memory file; throws, listing the errors, when it does not compile. */
export function compileResult(text: string): CompileResult & { plan: Plan } {
  const result = compile({ entry: 'test.sensei', files: new Map([['test.sensei', text]]), connectors: builtinConnectorSpecs() });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !result.plan) {
    throw new Error(`pipeline does not compile:\n${errors.map((d) => `${d.code} ${d.span.start.line}:${d.span.start.column} ${d.message}`).join('\n')}`);
  }
  return result as CompileResult & { plan: Plan };
}

export function compilePlan(text: string): Plan {
  return compileResult(text).plan;
}
