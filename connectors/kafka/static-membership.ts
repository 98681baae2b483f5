/**
 * Static group membership (KIP-345) for kafkajs, which speaks the protocol
 * versions that carry `group.instance.id` but never sends one.
 *
 * A dynamic member that dies keeps its partitions until the broker's session
 * timeout expires (30 s by default): a process restarted after a crash waits
 * for its dead self. A static member rejoining under the same instance id
 * replaces its dead incarnation at once and gets its partitions back without
 * a rebalance of the others, as Kafka Streams does with `group.instance.id`.
 *
 * The group's coordinator broker is wrapped, for one consumer group only, so
 * that JoinGroup, SyncGroup, Heartbeat and LeaveGroup carry the instance id
 * (a graceful close still leaves the group: its partitions move at once).
 * Offset commits need no instance id (the broker checks member id and
 * generation). The wrapper installs itself from the join hook
 * (rebalance-hook.ts) on the first join.
 *
 * A group can keep a coordinator broker that its cluster has since dropped
 * and replaced (a broker restart): its connection then outlives the
 * consumer's disconnect and keeps the process alive. The coordinators used
 * are remembered per member, and `releaseCoordinators` closes them.
 */
import { createRequire } from 'node:module';

type RequestBuilder = (args: Record<string, unknown>) => unknown;

export interface BrokerLike {
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  lookupRequest(apiKey: number, definitions: unknown): RequestBuilder;
  connectionPool: { send(request: unknown): Promise<unknown> };
  disconnect(): Promise<void>;
}

/** What of kafkajs's ConsumerGroup this touches. */
export interface GroupWithCoordinator {
  groupId: string;
  coordinator: BrokerLike | null;
}

const require = createRequire(createRequire(import.meta.url).resolve('kafkajs/src/broker/index.js'));
const { requests } = require('../protocol/requests') as { requests: Record<'JoinGroup' | 'SyncGroup' | 'Heartbeat' | 'LeaveGroup', unknown> };
const apiKeys = require('../protocol/requests/apiKeys') as Record<'JoinGroup' | 'SyncGroup' | 'Heartbeat' | 'LeaveGroup', number>;

/** The first version of each request that carries the instance id. */
const FIRST_STATIC_VERSION = { JoinGroup: 5, SyncGroup: 3, Heartbeat: 3, LeaveGroup: 3 } as const;

const INSTALLED = Symbol('sensei static membership');

/** The coordinator brokers each static member (`groupId` and instance id) has used. */
const coordinatorsUsed = new Map<string, Set<BrokerLike>>();
const memberKey = (groupId: string, instanceId: string) => `${groupId}\u0000${instanceId}`;

/** Closes the connections of every coordinator the member used; call it after the consumer disconnected. */
export async function releaseCoordinators(groupId: string, instanceId: string): Promise<void> {
  const key = memberKey(groupId, instanceId);
  const brokers = coordinatorsUsed.get(key) ?? new Set();
  coordinatorsUsed.delete(key);
  await Promise.all([...brokers].map((b) => b.disconnect().catch(() => {})));
}

/** Makes `group` join as the static member `instanceId` (idempotent). */
export function useStaticMembership(group: GroupWithCoordinator, instanceId: string): void {
  const target = group as GroupWithCoordinator & { [INSTALLED]?: string };
  if (target[INSTALLED] !== undefined) return;
  let coordinator: BrokerLike | null = group.coordinator === null ? null : staticCoordinator(group.coordinator, group.groupId, instanceId);
  Object.defineProperty(group, 'coordinator', {
    configurable: true,
    enumerable: true,
    get: () => coordinator,
    set: (broker: BrokerLike | null) => {
      coordinator = broker === null ? null : staticCoordinator(broker, group.groupId, instanceId);
    },
  });
  target[INSTALLED] = instanceId;
}

/** The coordinator broker, its group requests carrying the instance id; every other call goes to the broker itself. */
function staticCoordinator(broker: BrokerLike, groupId: string, groupInstanceId: string): BrokerLike {
  const key = memberKey(groupId, groupInstanceId);
  coordinatorsUsed.set(key, (coordinatorsUsed.get(key) ?? new Set()).add(broker));
  const send = async (api: keyof typeof FIRST_STATIC_VERSION, args: Record<string, unknown>): Promise<unknown> => {
    const supported = broker.versions?.[apiKeys[api]]?.maxVersion ?? -1;
    if (supported < FIRST_STATIC_VERSION[api]) {
      throw new Error(`kafka: group ${groupId}: the broker does not support static membership (${api} v${FIRST_STATIC_VERSION[api]}, Kafka 2.3 or later); leave group_instance_id unset`);
    }
    try {
      return await broker.connectionPool.send(broker.lookupRequest(apiKeys[api], requests[api])({ ...args, groupInstanceId }));
    } catch (e) {
      // As the broker's own requests do: a closed connection is dropped so that the next request reconnects.
      if ((e as Error).name === 'KafkaJSConnectionClosedError') await broker.disconnect();
      throw e;
    }
  };
  const wrapped = Object.create(broker) as BrokerLike & Record<string, unknown>;
  Object.assign(wrapped, {
    joinGroup: async (args: Record<string, unknown>) => {
      try {
        return await send('JoinGroup', { protocolType: 'consumer', ...args });
      } catch (e) {
        // MEMBER_ID_REQUIRED: join again with the id the broker handed out.
        const memberId = (e as { name?: string; memberId?: string }).memberId;
        if ((e as Error).name === 'KafkaJSMemberIdRequired' && memberId) return send('JoinGroup', { protocolType: 'consumer', ...args, memberId });
        throw e;
      }
    },
    syncGroup: (args: Record<string, unknown>) => send('SyncGroup', args),
    heartbeat: (args: Record<string, unknown>) => send('Heartbeat', args),
    leaveGroup: (args: Record<string, unknown>) => send('LeaveGroup', args),
  });
  return wrapped;
}
