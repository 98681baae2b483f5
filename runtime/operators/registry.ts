/**
 * The registry of stateful operator kinds, by the `kind` a plan names.
 * Adding a stateful operator: a plan descriptor (src/plan/plan.ts
 * `PlanOperator` with its stores), a checker rule (src/check/), a codegen
 * rule that calls the operator through `ctx.operators[i]` (src/codegen/),
 * and an entry here (docs/architecture.md has the checklist).
 */
import type { PlanOperator } from '../../src/plan/plan.ts';
import { StoreCodec, type StoredForm } from '../state/codec.ts';
import { Aggregate } from './aggregate.ts';
import { Dedupe } from './dedupe.ts';
import type { OperatorFactory } from './operator.ts';

export interface OperatorKind {
  create: OperatorFactory;
  /** How the values of store `store` convert to its schema, when they are not already in it. */
  storedForm?(descriptor: PlanOperator, store: string): StoredForm | undefined;
}

export const OPERATORS: ReadonlyMap<string, OperatorKind> = new Map<string, OperatorKind>([
  ['dedupe', { create: Dedupe.create }],
  ['aggregate', { create: Aggregate.create, storedForm: Aggregate.storedForm }],
]);

/** The codecs of an operator's stores, by store name. */
export function storeCodecs(descriptor: PlanOperator): Map<string, StoreCodec> {
  const kind = OPERATORS.get(descriptor.kind);
  return new Map(descriptor.stores.map((s) => [s.name, new StoreCodec(s, kind?.storedForm?.(descriptor, s.name))]));
}
