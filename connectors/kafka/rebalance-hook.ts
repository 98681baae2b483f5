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
 *
 * The broker expires a member that neither heartbeats nor rejoins within
 * its session timeout, and kafkajs sends no heartbeats while the hook
 * runs. Like the Java client's heartbeat thread, the wrapper keeps
 * heartbeating through the hook (the broker answers REBALANCE_IN_PROGRESS
 * and keeps the member), so a drain longer than the session timeout (a
 * slow sink, a partition's state being restored) does not hand the
 * member's partitions to another member while it still writes for them.
 * A heartbeat the coordinator refuses because it forgot the member marks
 * the membership lost: the hook must then not commit.
 */
import { createRequire } from 'node:module';
import { BEFORE_JOIN, GROUP_INSTANCE_ID, type Membership } from './assignor.ts';
import { useStaticMembership, type GroupWithCoordinator } from './static-membership.ts';

interface ConsumerGroupLike extends GroupWithCoordinator {
  assigners: { [BEFORE_JOIN]?: (membership: Membership) => Promise<void>; [GROUP_INSTANCE_ID]?: string }[];
  memberId: string | null;
  generationId: number | null;
  sessionTimeout: number;
  coordinator: GroupWithCoordinator['coordinator'] & { heartbeat?(payload: { groupId: string; groupGenerationId: number | null; memberId: string }): Promise<unknown> };
  joinAndSync(): Promise<void>;
}

/** Coordinator errors that mean the member is gone from the group. */
const GONE = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

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
    for (const assigner of this.assigners) {
      const instanceId = assigner[GROUP_INSTANCE_ID];
      if (instanceId !== undefined) useStaticMembership(this, instanceId);
    }
    const membership = heartbeating(this);
    try {
      for (const assigner of this.assigners) await assigner[BEFORE_JOIN]?.(membership);
    } finally {
      membership.stop();
    }
    return joinAndSync.call(this);
  };
  ConsumerGroup.prototype.joinAndSync = Object.assign(wrapped, { [OURS]: true });
  checkRebalanceHook();
  installed = true;
}

/** Heartbeats the group's coordinator until stopped, noting when it forgot the member. */
function heartbeating(group: ConsumerGroupLike): Membership & { stop(): void } {
  // kafkajs clears memberId when the coordinator forgot the member: its partitions are already gone.
  const memberId = group.memberId;
  let lost = memberId === null;
  const beat = async (): Promise<boolean> => {
    if (lost || memberId === null) return false;
    try {
      await group.coordinator?.heartbeat?.({ groupId: group.groupId, groupGenerationId: group.generationId, memberId });
    } catch (e) {
      // REBALANCE_IN_PROGRESS is the expected answer, and it keeps the member; a network error is retried on the next beat.
      if (GONE.has((e as { type?: string }).type ?? '')) lost = true;
    }
    return !lost;
  };
  const timer = lost ? undefined : setInterval(() => void beat(), Math.max(100, Math.floor(group.sessionTimeout / 3)));
  return {
    get lost() {
      return lost;
    },
    confirm: beat,
    stop: () => clearInterval(timer),
  };
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
