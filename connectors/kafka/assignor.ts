/**
 * A sticky partition assignor for kafkajs, whose only built-in assignor
 * (round robin) reshuffles every partition whenever a process joins or
 * leaves. Each member sends the partitions it owns in its join metadata; the
 * group leader keeps every owned partition where it is and moves only what
 * balance requires: a process joining takes partitions from the most loaded
 * members, a process leaving hands its partitions to the least loaded.
 *
 * `assignSticky` is the pure core; `stickyAssigner` adapts it to kafkajs's
 * `PartitionAssigner` interface.
 */
import kafkajs from 'kafkajs';
import type { Assigner, PartitionAssigner } from 'kafkajs';

export interface MemberSubscription {
  id: string;
  topics: readonly string[];
  /** Partitions the member owned before this rebalance, by topic. */
  owned: Readonly<Record<string, readonly number[]>>;
}

/** Member id → topic → partitions (ascending). */
export type GroupAssignment = Map<string, Record<string, number[]>>;

interface Slot {
  topic: string;
  partition: number;
}

/**
 * Assigns every partition of the subscribed topics to exactly one member
 * subscribed to its topic. Owned partitions stay with their owner (the first
 * claimant in member-id order wins a partition claimed twice) unless the
 * owner has more than its share; then partitions move from the most to the
 * least loaded member, one at a time, until no two eligible members differ
 * by more than one. Deterministic: the same input gives the same output.
 */
export function assignSticky(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): GroupAssignment {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const subscribed = new Map(sorted.map((m) => [m.id, new Set(m.topics)]));
  const held = new Map<string, Slot[]>(sorted.map((m) => [m.id, []]));
  const owner = new Map<string, string>();
  const slotKey = (s: Slot) => `${s.topic}\u0000${s.partition}`;

  for (const m of sorted) {
    for (const [topic, partitions] of Object.entries(m.owned)) {
      const count = partitionCounts.get(topic);
      if (count === undefined || !subscribed.get(m.id)!.has(topic)) continue;
      for (const partition of partitions) {
        const slot = { topic, partition };
        if (partition < 0 || partition >= count || owner.has(slotKey(slot))) continue;
        owner.set(slotKey(slot), m.id);
        held.get(m.id)!.push(slot);
      }
    }
  }

  const eligible = (member: string, topic: string) => subscribed.get(member)!.has(topic);
  const size = (member: string) => held.get(member)!.length;
  const leastLoaded = (topic: string) => {
    let best: string | undefined;
    for (const m of sorted) if (eligible(m.id, topic) && (best === undefined || size(m.id) < size(best))) best = m.id;
    return best;
  };

  const topics = [...partitionCounts.keys()].sort();
  for (const topic of topics) {
    for (let partition = 0; partition < partitionCounts.get(topic)!; partition++) {
      const slot = { topic, partition };
      if (owner.has(slotKey(slot))) continue;
      const to = leastLoaded(topic);
      if (to === undefined) continue;
      owner.set(slotKey(slot), to);
      held.get(to)!.push(slot);
    }
  }

  // Even out: move one partition at a time from a member with the most to an eligible member with at least two fewer.
  for (;;) {
    const byLoad = [...sorted].sort((a, b) => size(b.id) - size(a.id) || (a.id < b.id ? -1 : 1));
    let moved = false;
    outer: for (const from of byLoad) {
      const slots = held.get(from.id)!;
      // Give away the most recently added (then the highest-numbered) partitions first: those the member owned longest stay.
      for (let i = slots.length - 1; i >= 0; i--) {
        const slot = slots[i]!;
        for (const to of [...byLoad].reverse()) {
          if (size(from.id) - size(to.id) < 2) break;
          if (!eligible(to.id, slot.topic)) continue;
          slots.splice(i, 1);
          held.get(to.id)!.push(slot);
          moved = true;
          break outer;
        }
      }
    }
    if (!moved) break;
  }

  const result: GroupAssignment = new Map();
  for (const m of sorted) {
    const byTopic: Record<string, number[]> = {};
    for (const s of held.get(m.id)!) (byTopic[s.topic] ??= []).push(s.partition);
    for (const list of Object.values(byTopic)) list.sort((a, b) => a - b);
    result.set(m.id, byTopic);
  }
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

/** What the adapter needs from the consumer it serves. */
export interface AssignorHost {
  /** The partitions this member owns now, sent along when it (re)joins. */
  owned(): Record<string, number[]>;
  /** Called before the member sends JoinGroup (see rebalance-hook.ts); `lost` when its membership expired. */
  beforeJoin(lost: boolean): Promise<void>;
}

/** Marks an assigner object whose consumer wants to drain before rejoining. */
export const BEFORE_JOIN = Symbol.for('sensei.kafka.beforeJoin');

export function stickyAssigner(host: AssignorHost): PartitionAssigner {
  const { AssignerProtocol } = kafkajs;
  return ({ cluster }) => {
    const assigner: Assigner & { [BEFORE_JOIN]: AssignorHost['beforeJoin'] } = {
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
        const counts = new Map<string, number>();
        for (const topic of topics) counts.set(topic, cluster.findTopicPartitionMetadata(topic).length);
        const assignment = assignSticky(subscriptions, counts);
        return members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: assignment.get(m.memberId) ?? {}, userData: Buffer.alloc(0) }),
        }));
      },
      [BEFORE_JOIN]: (lost) => host.beforeJoin(lost),
    };
    return assigner;
  };
}
