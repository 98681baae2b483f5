/**
 * Stateful operators as the runtime sees them. An operator declares its
 * stores in the plan (`PlanOperator.stores`); the runtime opens them per
 * task, builds the operator from its registry entry, hands it to the chain
 * (`ChainContext.operators`), drives its time, and snapshots its stores when
 * the task moves, and reports their changes for the state log. The operator
 * only handles records and time.
 */
import type { WindowResult } from '../../src/plan/chain.ts';
import type { PlanOperator } from '../../src/plan/plan.ts';
import type { KeyValueStore } from '../state/store.ts';

export interface StatefulOperator {
  /** The task's watermark moved to `watermark` (epoch milliseconds): expire what it makes final. */
  onWatermark?(watermark: number): void;
  /** Results to send on since the last call (an aggregate's closed or changed windows); the chain's emitter for the operator takes them. */
  takeResults?(): WindowResult[];
}

/** A registry entry: how to build an operator of one kind for one task. */
export type OperatorFactory = (descriptor: PlanOperator, stores: ReadonlyMap<string, KeyValueStore>) => StatefulOperator;
