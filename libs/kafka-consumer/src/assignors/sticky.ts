import {
  AssignmentBuilder,
  compareStrings,
  normalizeMembers,
  partitionCount,
  subscribedTopics,
  type NormalizedMember,
} from './assignment-helpers';
import type { Assignment, GroupMemberSubscription, TopicPartitionCounts } from './assignment.types';

/**
 * Sticky assignment: as balanced as the subscriptions allow, keeping previous owners where balance
 * permits.
 *
 * 1. Every valid previous claim is kept (claimant still here, still subscribed, partition exists;
 *    a doubly claimed partition stays with the higher generation, else the first member by id).
 * 2. Unclaimed partitions, in (topic, partition) order, go to the least-loaded subscriber. Ties go
 *    to the member keeping the nearest lower partition of that topic (runs of neighbours stay
 *    together), then to the lowest id; with no previous data and equal subscriptions this is exactly
 *    round-robin.
 * 3. While some member could shed load to a member at least 2 lighter, directly or through a chain
 *    of members passing one partition each along, do it over the shortest chain. Once no such
 *    chain exists the loads are optimally balanced (the semi-matching optimality condition). Each
 *    hop prefers a partition that is already moving; with equal subscriptions every chain is one
 *    hop, so kept partitions leave only over-quota members and the move count is minimal.
 */
export function stickyAssign(members: GroupMemberSubscription[], partitionCounts: TopicPartitionCounts): Assignment {
  const sorted = normalizeMembers(members, partitionCounts);
  if (sorted.length === 0) return {};
  const placement = new Placement(sorted, previousClaims(sorted, partitionCounts));
  for (const topic of subscribedTopics(sorted)) {
    for (let partition = 0; partition < partitionCount(partitionCounts, topic); partition++) {
      if (!placement.claims.has(key(topic, partition))) placement.placeOrphan(topic, partition);
    }
  }
  placement.balance();
  return placement.build();
}

interface Claim {
  member: number;
  generation: number;
  topic: string;
  partition: number;
}

const key = (topic: string, partition: number) => `${topic} ${partition}`;

/** Winning previous claim per partition, deduplicated. Members are in id order, so ties keep the first. */
function previousClaims(members: NormalizedMember[], counts: TopicPartitionCounts): Map<string, Claim> {
  const claims = new Map<string, Claim>();
  members.forEach((m, member) => {
    const previous = m.source.previous ?? {};
    const generation = m.source.generation ?? Number.NEGATIVE_INFINITY;
    for (const topic of Object.keys(previous).sort(compareStrings)) {
      const partitions = previous[topic];
      if (!m.topics.has(topic) || !Array.isArray(partitions)) continue;
      const count = partitionCount(counts, topic);
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) continue;
        const existing = claims.get(key(topic, partition));
        if (!existing || generation > existing.generation) {
          claims.set(key(topic, partition), { member, generation, topic, partition });
        }
      }
    }
  });
  return claims;
}

/** Mutable working state: who holds what, and each member's load. */
class Placement {
  private readonly held: Map<string, Set<number>>[];
  private readonly load: number[];
  private readonly subscribers = new Map<string, number[]>();
  // A member whose chain search failed stays failed until a member it could reach changes, so
  // balanced parts of a large group are searched once rather than once per move elsewhere.
  private readonly noChain: ({ since: number; reach: number[] } | undefined)[];
  private readonly changedAt: number[];
  private step = 0;

  constructor(
    private readonly members: NormalizedMember[],
    readonly claims: Map<string, Claim>,
  ) {
    this.held = members.map(() => new Map());
    this.load = members.map(() => 0);
    this.noChain = members.map(() => undefined);
    this.changedAt = members.map(() => 0);
    members.forEach((m, i) => {
      for (const t of m.topics) {
        const list = this.subscribers.get(t);
        if (list) list.push(i);
        else this.subscribers.set(t, [i]);
      }
    });
    for (const c of claims.values()) this.put(c.member, c.topic, c.partition);
  }

  placeOrphan(topic: string, partition: number): void {
    let best = -1;
    let bestNeighbour = -1;
    this.members.forEach((m, i) => {
      if (!m.topics.has(topic)) return;
      const neighbour = this.nearestKeptBelow(i, topic, partition);
      const better =
        best < 0 ||
        this.load[i] < this.load[best] ||
        (this.load[i] === this.load[best] && neighbour > bestNeighbour);
      if (better) [best, bestNeighbour] = [i, neighbour];
    });
    this.put(best, topic, partition);
  }

  balance(): void {
    for (;;) {
      this.step++;
      const minLoad = Math.min(...this.load);
      const sources = this.load
        .map((_, i) => i)
        .filter((i) => this.load[i] >= minLoad + 2 && !this.stillNoChain(i))
        .sort((a, b) => this.load[b] - this.load[a] || a - b);
      let path: number[] | undefined;
      for (const source of sources) {
        if (this.stillNoChain(source)) continue; // marked by an earlier search in this step
        if ((path = this.shortestChain(source))) break;
      }
      if (!path) return;
      // Last hop first, so every member passes on a partition it held before this chain.
      for (let i = path.length - 1; i > 0; i--) this.pass(path[i - 1], path[i]);
      for (const m of path) this.changedAt[m] = this.step;
    }
  }

  build(): Assignment {
    const result = new AssignmentBuilder(this.members.map((m) => m.memberId));
    this.held.forEach((topics, i) => {
      for (const [topic, partitions] of topics) {
        for (const p of partitions) result.add(this.members[i].memberId, topic, p);
      }
    });
    return result.build();
  }

  /** BFS over "can hand a partition to"; returns the member path to the lightest nearest target. */
  private shortestChain(source: number): number[] | undefined {
    const parent = this.members.map(() => -1);
    parent[source] = source;
    const reach = [source];
    let frontier = [source];
    while (frontier.length > 0) {
      const next: number[] = [];
      for (const from of frontier) {
        for (const [topic, partitions] of this.held[from]) {
          if (partitions.size === 0) continue;
          for (const to of this.subscribers.get(topic) ?? []) {
            if (parent[to] === -1) {
              parent[to] = from;
              next.push(to);
            }
          }
        }
      }
      const targets = next
        .filter((m) => this.load[m] <= this.load[source] - 2)
        .sort((a, b) => this.load[a] - this.load[b] || a - b);
      if (targets.length > 0) {
        const path = [targets[0]];
        while (path[0] !== source) path.unshift(parent[path[0]]);
        return path;
      }
      reach.push(...next);
      frontier = next;
    }
    // Members reachable from here reach a subset of `reach`; those no heavier cannot shed either.
    const record = { since: this.step, reach };
    for (const m of reach) if (this.load[m] <= this.load[source]) this.noChain[m] = record;
    return undefined;
  }

  private stillNoChain(member: number): boolean {
    const record = this.noChain[member];
    return record !== undefined && record.reach.every((m) => this.changedAt[m] < record.since);
  }

  /** Moves one partition: preferably one already moving (not kept from before); then first topic, highest partition. */
  private pass(from: number, to: number): void {
    let pick: { topic: string; partition: number; kept: boolean } | undefined;
    for (const [topic, partitions] of this.held[from]) {
      if (!this.members[to].topics.has(topic)) continue;
      for (const partition of partitions) {
        const kept = this.claims.get(key(topic, partition))?.member === from;
        const better =
          !pick ||
          (pick.kept !== kept ? !kept : (compareStrings(topic, pick.topic) || pick.partition - partition) < 0);
        if (better) pick = { topic, partition, kept };
      }
    }
    if (!pick) throw new Error('sticky: chain hop without a transferable partition');
    this.held[from].get(pick.topic)?.delete(pick.partition);
    this.load[from]--;
    this.put(to, pick.topic, pick.partition);
  }

  private put(member: number, topic: string, partition: number): void {
    const partitions = this.held[member].get(topic);
    if (partitions) partitions.add(partition);
    else this.held[member].set(topic, new Set([partition]));
    this.load[member]++;
  }

  /** Highest partition below `partition` of `topic` that `member` keeps from before, or -1. */
  private nearestKeptBelow(member: number, topic: string, partition: number): number {
    let nearest = -1;
    for (const p of this.held[member].get(topic) ?? []) {
      if (p < partition && p > nearest && this.claims.get(key(topic, p))?.member === member) nearest = p;
    }
    return nearest;
  }
}
