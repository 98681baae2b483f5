/**
 * The registry of stateful operator kinds, by the `kind` a plan names.
 * Adding a stateful operator: a plan descriptor (src/plan/plan.ts
 * `PlanOperator` with its stores), a checker rule (src/check/), a codegen
 * rule that calls the operator through `ctx.operators[i]` (src/codegen/),
 * and an entry here (docs/architecture.md has the checklist).
 */
import { Aggregate } from './aggregate.ts';
import { Dedupe } from './dedupe.ts';
import type { OperatorFactory } from './operator.ts';

export const OPERATORS: ReadonlyMap<string, OperatorFactory> = new Map<string, OperatorFactory>([
  ['dedupe', Dedupe.create],
  ['aggregate', Aggregate.create],
]);
