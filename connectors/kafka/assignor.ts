/**
 * A sticky partition assignor for kafkajs, whose only built-in assignor
 * (round robin) reshuffles every partition whenever a process joins or
 * leaves. Each member sends the partitions it owns in its join metadata; the
 * group leader keeps every owned partition where it is and moves only what
 * balance requires: a process joining takes partitions from the most loaded
 * members, a process leaving hands its partitions to the least loaded.
 *
 * The placement is the runtime's (`SourceContext.assignor`, the algorithm
 * that also places tasks on worker threads); `assignSticky` maps a group's
 * members and partitions onto it, and `stickyAssigner` adapts that to
 * kafkajs's `PartitionAssigner` interface.
 */
import kafkajs from 'kafkajs';
import type { Assigner, PartitionAssigner } from 'kafkajs';
import type { GroupAssignor, GroupSlot } from '../../src/spi/connector.ts';

export interface MemberSubscription {
  id: string;
  topics: readonly string[];
  /** Partitions the member owned before this rebalance, by topic. */
  owned: Readonly<Record<string, readonly number[]>>;
}

/** Member id → topic → partitions (ascending). */
export type GroupAssignment = Map<string, Record<string, number[]>>;

/**
 * Assigns every partition of the subscribed topics to exactly one member
 * subscribed to its topic, with the runtime's sticky assignor: owned
 * partitions stay with their owner (the first claimant in member-id order
 * wins a partition claimed twice) unless the owner has more than its share;
 * then partitions move from the most to the least loaded member, one at a
 * time, until no two members differ by more than one. Deterministic.
 */
export function assignSticky(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>, assignor: GroupAssignor): GroupAssignment {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const slotId = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const claimed = new Map<string, string>();
  for (const m of sorted) {
    for (const [topic, partitions] of Object.entries(m.owned)) {
      const count = partitionCounts.get(topic);
      if (count === undefined || !m.topics.includes(topic)) continue;
      for (const partition of partitions) {
        const id = slotId(topic, partition);
        if (partition >= 0 && partition < count && !claimed.has(id)) claimed.set(id, m.id);
      }
    }
  }
  const slots: GroupSlot[] = [];
  const where = new Map<string, { topic: string; partition: number }>();
  for (const topic of [...partitionCounts.keys()].sort()) {
    const eligible = sorted.filter((m) => m.topics.includes(topic)).map((m) => m.id);
    for (let partition = 0; partition < partitionCounts.get(topic)!; partition++) {
      const id = slotId(topic, partition);
      where.set(id, { topic, partition });
      slots.push({ id, owner: claimed.get(id), eligible });
    }
  }
  const owners = assignor(slots, sorted.map((m) => m.id));
  const result: GroupAssignment = new Map(sorted.map((m) => [m.id, {}]));
  for (const [id, member] of owners) {
    const { topic, partition } = where.get(id)!;
    (result.get(member)![topic] ??= []).push(partition);
  }
  for (const byTopic of result.values()) for (const list of Object.values(byTopic)) list.sort((a, b) => a - b);
  return result;
}

/** Partitions taken from a member that is still in the group: what a sticky assignment keeps low (a leaving member's partitions must move). */
export function movedPartitions(before: GroupAssignment, after: GroupAssignment): number {
  const ownerBefore = new Map<string, string>();
  for (const [member, topics] of before) for (const [t, ps] of Object.entries(topics)) for (const p of ps) ownerBefore.set(`${t}:${p}`, member);
  let moved = 0;
  for (const [member, topics] of after) {
    for (const [t, ps] of Object.entries(topics)) {
      for (const p of ps) {
        const was = ownerBefore.get(`${t}:${p}`);
        if (was !== undefined && was !== member && after.has(was)) moved++;
      }
    }
  }
  return moved;
}

export const STICKY_PROTOCOL = 'SenseiSticky';

/** The member's standing while its hook runs before a rejoin. */
export interface Membership {
  /** The coordinator no longer knows the member: its partitions are already elsewhere. */
  readonly lost: boolean;
  /** Asks the coordinator now; false once it no longer knows the member. */
  confirm(): Promise<boolean>;
}

/** What the adapter needs from the consumer it serves. */
export interface AssignorHost {
  /** The partitions this member owns now, sent along when it (re)joins. */
  owned(): Record<string, number[]>;
  /** Called before the member sends JoinGroup (see rebalance-hook.ts), while the member heartbeats. */
  beforeJoin(membership: Membership): Promise<void>;
  /** The runtime's assignor (`SourceContext.assignor`), used when this member leads the group. */
  readonly assignor: GroupAssignor;
  /** Joins as this static member (static-membership.ts); dynamic membership when undefined. */
  readonly groupInstanceId: string | undefined;
}

/** Marks an assigner object whose consumer wants to drain before rejoining. */
export const BEFORE_JOIN = Symbol.for('sensei.kafka.beforeJoin');
/** Marks an assigner object whose consumer joins as a static member, with this instance id. */
export const GROUP_INSTANCE_ID = Symbol.for('sensei.kafka.groupInstanceId');

export function stickyAssigner(host: AssignorHost): PartitionAssigner {
  const { AssignerProtocol } = kafkajs;
  return ({ cluster }) => {
    const assigner: Assigner & { [BEFORE_JOIN]: AssignorHost['beforeJoin']; [GROUP_INSTANCE_ID]: string | undefined } = {
      name: STICKY_PROTOCOL,
      version: 1,
      protocol({ topics }) {
        const userData = Buffer.from(JSON.stringify({ owned: host.owned() }));
        return { name: STICKY_PROTOCOL, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
      },
      async assign({ members, topics }) {
        const subscriptions = members.map((m): MemberSubscription => {
          const meta = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          let owned: MemberSubscription['owned'] = {};
          try {
            owned = (JSON.parse(meta?.userData.toString() || '{}') as { owned?: MemberSubscription['owned'] }).owned ?? {};
          } catch {
            // A member without our metadata owns nothing we know of.
          }
          return { id: m.memberId, topics: meta?.topics ?? [], owned };
        });
        // kafkajs hands the leader its own topics only; members of the group may read others (a repartition's topic).
        const all = [...new Set([...topics, ...subscriptions.flatMap((s) => s.topics)])];
        if (all.length > topics.length) await cluster.addMultipleTargetTopics(all);
        const counts = new Map<string, number>();
        for (const topic of all) counts.set(topic, cluster.findTopicPartitionMetadata(topic).length);
        const assignment = assignSticky(subscriptions, counts, host.assignor);
        return members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: assignment.get(m.memberId) ?? {}, userData: Buffer.alloc(0) }),
        }));
      },
      [BEFORE_JOIN]: (membership) => host.beforeJoin(membership),
      [GROUP_INSTANCE_ID]: host.groupInstanceId,
    };
    return assigner;
  };
}
