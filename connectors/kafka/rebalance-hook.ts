/**
 * kafkajs has no "partitions revoked" callback: when the group rebalances it
 * sends JoinGroup straight away, and the partitions a member gives up go to
 * their new owner from the last committed offset while the old owner may
 * still be writing output for them (duplicates, and per-key order broken
 * across the two). The Java client calls `onPartitionsRevoked` before it
 * rejoins, which is where a stream processor drains and commits.
 *
 * This gives kafkajs 2.2 the same point: `ConsumerGroup#joinAndSync` (every
 * join and rejoin goes through it) first awaits the `BEFORE_JOIN` hook of
 * the consumer's assigners. The broker waits for a member up to its
 * rebalance timeout, so a drain of the in-flight batches fits easily.
 * kafkajs is pinned to 2.2.x (its last line); test/kafka/rebalance.test.ts
 * fails if the hook stops being called. The hook is also where a static
 * member's coordinator requests start carrying its instance id.
 */
import { createRequire } from 'node:module';
import { BEFORE_JOIN, GROUP_INSTANCE_ID } from './assignor.ts';
import { useStaticMembership, type GroupWithCoordinator } from './static-membership.ts';

interface ConsumerGroupLike extends GroupWithCoordinator {
  assigners: { [BEFORE_JOIN]?: (lost: boolean) => Promise<void>; [GROUP_INSTANCE_ID]?: string }[];
  memberId: string | null;
  joinAndSync(): Promise<void>;
}

let installed = false;
/** Marks the wrapper, for the self-check. */
const OURS = Symbol('sensei joinAndSync');

export function installRebalanceHook(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: ConsumerGroupLike };
  const joinAndSync = ConsumerGroup.prototype.joinAndSync;
  if (typeof joinAndSync !== 'function') throw new Error('kafkajs: ConsumerGroup#joinAndSync not found; this kafkajs version is not supported');
  const wrapped = async function (this: ConsumerGroupLike) {
    // kafkajs clears memberId when the coordinator forgot the member: its partitions are already gone.
    const lost = this.memberId === null;
    for (const assigner of this.assigners) {
      const instanceId = assigner[GROUP_INSTANCE_ID];
      if (instanceId !== undefined) useStaticMembership(this, instanceId);
      await assigner[BEFORE_JOIN]?.(lost);
    }
    return joinAndSync.call(this);
  };
  ConsumerGroup.prototype.joinAndSync = Object.assign(wrapped, { [OURS]: true });
  checkRebalanceHook();
  installed = true;
}

/** Throws unless the ConsumerGroup class kafkajs's consumer uses is the one whose joinAndSync was wrapped. */
export function checkRebalanceHook(): void {
  const require = createRequire(import.meta.url);
  // The module kafkajs's consumer loads, resolved the way it resolves it.
  const used = createRequire(require.resolve('kafkajs/src/consumer/index.js'))('./consumerGroup') as { prototype: ConsumerGroupLike };
  if (!(OURS in used.prototype.joinAndSync)) {
    throw new Error(`kafkajs: the rebalance hook did not reach the ConsumerGroup kafkajs's consumer uses; this kafkajs installation (${require.resolve('kafkajs')}) is not supported`);
  }
}
