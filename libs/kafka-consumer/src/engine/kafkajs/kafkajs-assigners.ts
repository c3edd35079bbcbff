import { AssignerProtocol } from 'kafkajs';
import type { Assigner, Cluster, GroupMember, GroupMemberAssignment, Logger, PartitionAssigner } from 'kafkajs';
import { compareStrings } from '../../assignors/assignment-helpers';
import type { AssignFn, Assignment, GroupMemberSubscription, TopicPartitionCounts } from '../../assignors/assignment.types';
import { rangeAssign } from '../../assignors/range';
import { roundRobinAssign } from '../../assignors/round-robin';
import { withholdMovingPartitions } from '../../assignors/cooperative';
import { stickyAssign } from '../../assignors/sticky';
import { decodeStickyUserData, encodeStickyUserData, StickyMemberState } from '../../assignors/sticky-member-state';

// Version 0 of the subscription/assignment wire format: a Java leader reading v1+ would expect
// fields (owned partitions, generation) that kafkajs cannot encode.
const WIRE_VERSION = 0;

/**
 * Protocol names on the wire. `range` and `roundrobin` are Java's names with Java's meaning and
 * encoding, so these members can share a group with Java consumers. The sticky assignors keep
 * their state in a user-data format of their own and hand over in the module's two rounds, not
 * Java's: under Java's names (`sticky`, `cooperative-sticky`) a mixed group would run two
 * algorithms under one name, so they carry names of their own, and a Java member asking for
 * Java's sticky assignors is refused by the coordinator (no common protocol) instead.
 */
export const PROTOCOL_NAMES = {
  range: 'range',
  roundrobin: 'roundrobin',
  sticky: 'nestjs-sticky',
  'cooperative-sticky': 'nestjs-cooperative-sticky',
} as const;

interface DecodedMember {
  memberId: string;
  topics: string[];
  userData: Buffer | null;
}

type AssignerConfig = Parameters<PartitionAssigner>[0];

export const RangeAssignor: PartitionAssigner = (config) => createAssigner(PROTOCOL_NAMES.range, config, plain(rangeAssign));

export const RoundRobinAssignor: PartitionAssigner = (config) =>
  createAssigner(PROTOCOL_NAMES.roundrobin, config, plain(roundRobinAssign));

/**
 * Sticky assignor reporting `state.current` to the leader on every join. The runtime keeps `state`
 * up to date after each join (see StickyMemberState); one state per consumer, never shared.
 */
export function createStickyAssignor(state: StickyMemberState = new StickyMemberState()): PartitionAssigner {
  return (config) => stickyAssigner(PROTOCOL_NAMES.sticky, config, state, false);
}

/**
 * The sticky target reached in two rounds (§4.1.2): in the first, a partition moving away from a
 * live member that still claims it is assigned to nobody; the old owner revokes it and joins
 * again, and the second round gives it to its new owner. The module's runner does the revoking
 * and the second join; kafkajs itself still rejoins eagerly. Not Java's cooperative-sticky (which
 * uses subscription v1+ owned partitions), hence its own protocol name (PROTOCOL_NAMES).
 */
export function createCooperativeStickyAssignor(state: StickyMemberState = new StickyMemberState()): PartitionAssigner {
  return (config) => stickyAssigner(PROTOCOL_NAMES['cooperative-sticky'], config, state, true);
}

/** kafkajs-compatible without a hook: fresh state per consumer (sticky only via the leader's memory). */
export const StickyAssignor: PartitionAssigner = (config) => createStickyAssignor()(config);
export const CooperativeStickyAssignor: PartitionAssigner = (config) => createCooperativeStickyAssignor()(config);

function plain(assign: AssignFn) {
  return (members: DecodedMember[], counts: TopicPartitionCounts) =>
    assign(members.map(({ memberId, topics }) => ({ memberId, topics })), counts);
}

function stickyAssigner(name: string, config: AssignerConfig, state: StickyMemberState, cooperative: boolean): Assigner {
  // What this process last assigned as leader: a fallback for members that send no sticky data
  // (runtime not feeding its state), which keeps a stable leader sticky. Real claims outrank it.
  let lastAssigned: Assignment = {};
  const assign = (members: DecodedMember[], counts: TopicPartitionCounts) => {
    const subscriptions = members.map(({ memberId, topics, userData }): GroupMemberSubscription => {
      const data = decodeStickyUserData(userData);
      if (data) return { memberId, topics, previous: data.assignment, generation: data.generation };
      const remembered = Object.hasOwn(lastAssigned, memberId) ? lastAssigned[memberId] : undefined;
      return { memberId, topics, previous: remembered };
    });
    const target = stickyAssign(subscriptions, counts);
    // Only a member's own claim (its userData) withholds a partition: the leader's memory may name
    // an assignment the member never received (its SyncGroup lost to a new join), and a member
    // that owns nothing revokes nothing, so it would never join the round that hands it over.
    const claims = subscriptions.filter((s) => s.generation !== undefined);
    lastAssigned = cooperative ? withholdMovingPartitions(claims, target) : target;
    return lastAssigned;
  };
  const userData = () =>
    state.generation < 0
      ? Buffer.alloc(0)
      : encodeStickyUserData({ assignment: state.current, generation: state.generation });
  return createAssigner(name, config, assign, userData);
}

function createAssigner(
  name: string,
  { cluster, logger }: AssignerConfig,
  assign: (members: DecodedMember[], counts: TopicPartitionCounts) => Assignment,
  userData: () => Buffer = () => Buffer.alloc(0),
): Assigner {
  return {
    name,
    version: WIRE_VERSION,
    protocol({ topics }) {
      const metadata = AssignerProtocol.MemberMetadata.encode({ version: WIRE_VERSION, topics, userData: userData() });
      return { name, metadata };
    },
    // `topics` is only the leader's own subscription; each member's comes from its metadata.
    async assign({ members }): Promise<GroupMemberAssignment[]> {
      const decoded = members.map((m) => decodeMember(m, logger));
      const topics = [...new Set(decoded.flatMap((m) => m.topics))].sort(compareStrings);
      const result = assign(decoded, await loadPartitionCounts(cluster, topics, logger));
      return Object.entries(result).map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: WIRE_VERSION,
          assignment,
          userData: Buffer.alloc(0),
        }),
      }));
    },
  };
}

function decodeMember({ memberId, memberMetadata }: GroupMember, logger?: Logger): DecodedMember {
  try {
    const metadata = AssignerProtocol.MemberMetadata.decode(memberMetadata);
    const topics = (metadata?.topics ?? []).filter((t): t is string => typeof t === 'string');
    return { memberId, topics, userData: metadata?.userData ?? null };
  } catch (error) {
    logger?.warn('Unreadable member metadata; the member gets no partitions', { memberId, error: String(error) });
    return { memberId, topics: [], userData: null };
  }
}

/**
 * The leader's cluster only tracks its own topics; members may subscribe to others (regex or
 * per-handler subscriptions), so fetch metadata for those before counting their partitions.
 */
async function loadPartitionCounts(cluster: Cluster, topics: string[], logger?: Logger): Promise<TopicPartitionCounts> {
  const count = (topic: string) => {
    try {
      return cluster.findTopicPartitionMetadata(topic).reduce((n, p) => Math.max(n, p.partitionId + 1), 0);
    } catch {
      return 0; // metadata not loaded at all
    }
  };
  for (const topic of topics.filter((t) => count(t) === 0)) {
    if (typeof cluster.addMultipleTargetTopics !== 'function') break;
    try {
      // One at a time: kafkajs rolls back the whole batch when any topic is unknown.
      await cluster.addMultipleTargetTopics([topic]);
    } catch (error) {
      logger?.warn('No metadata for a subscribed topic; it gets no assignment', { topic, error: String(error) });
    }
  }
  return Object.fromEntries(topics.map((t) => [t, count(t)]));
}
