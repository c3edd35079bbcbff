import type { Assignment, GroupMemberSubscription, TopicPartitionCounts } from './assignment.types';

/** A member with its subscription reduced to topics that exist (have partitions). */
export interface NormalizedMember {
  memberId: string;
  topics: ReadonlySet<string>;
  source: GroupMemberSubscription;
}

/** Partition count of a topic; 0 for unknown topics or nonsense counts. */
export function partitionCount(counts: TopicPartitionCounts, topic: string): number {
  const n = Object.hasOwn(counts, topic) ? counts[topic] : 0;
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Members sorted by id (results must not depend on input order); a repeated id keeps its first entry. */
export function normalizeMembers(members: GroupMemberSubscription[], counts: TopicPartitionCounts): NormalizedMember[] {
  const byId = new Map<string, NormalizedMember>();
  for (const source of members) {
    if (byId.has(source.memberId)) continue;
    const topics = new Set(source.topics.filter((t) => partitionCount(counts, t) > 0));
    byId.set(source.memberId, { memberId: source.memberId, topics, source });
  }
  return [...byId.values()].sort((a, b) => compareStrings(a.memberId, b.memberId));
}

/** Sorted union of the members' (existing) topics: only these get assigned. */
export function subscribedTopics(members: NormalizedMember[]): string[] {
  const all = new Set<string>();
  for (const m of members) for (const t of m.topics) all.add(t);
  return [...all].sort(compareStrings);
}

/** Collects partitions per member and emits a sorted plain-object Assignment. */
export class AssignmentBuilder {
  private readonly owned = new Map<string, Map<string, number[]>>();

  constructor(memberIds: string[]) {
    for (const id of memberIds) this.owned.set(id, new Map());
  }

  add(memberId: string, topic: string, partition: number): void {
    const topics = this.owned.get(memberId);
    if (!topics) throw new Error(`unknown member ${memberId}`);
    const list = topics.get(topic);
    if (list) list.push(partition);
    else topics.set(topic, [partition]);
  }

  // Object.fromEntries defines own properties, so a topic or member named "__proto__" stays data.
  build(): Assignment {
    return Object.fromEntries(
      [...this.owned].map(([id, topics]) => [
        id,
        Object.fromEntries(
          [...topics]
            .sort(([a], [b]) => compareStrings(a, b))
            .map(([topic, partitions]) => [topic, [...partitions].sort((a, b) => a - b)]),
        ),
      ]),
    );
  }
}

/** Code-unit order: locale-independent, so every leader computes the same result. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
