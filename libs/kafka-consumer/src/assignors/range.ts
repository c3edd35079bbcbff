import { AssignmentBuilder, normalizeMembers, partitionCount, subscribedTopics } from './assignment-helpers';
import type { Assignment, GroupMemberSubscription, TopicPartitionCounts } from './assignment.types';

/**
 * Kafka's RangeAssignor: per topic, its subscribers (sorted by memberId) get contiguous ranges;
 * the first (partitions % subscribers) get one extra.
 */
export function rangeAssign(members: GroupMemberSubscription[], partitionCounts: TopicPartitionCounts): Assignment {
  const sorted = normalizeMembers(members, partitionCounts);
  const result = new AssignmentBuilder(sorted.map((m) => m.memberId));
  for (const topic of subscribedTopics(sorted)) {
    const consumers = sorted.filter((m) => m.topics.has(topic));
    const count = partitionCount(partitionCounts, topic);
    const base = Math.floor(count / consumers.length);
    const extra = count % consumers.length;
    let next = 0;
    consumers.forEach((consumer, i) => {
      const end = next + base + (i < extra ? 1 : 0);
      for (; next < end; next++) result.add(consumer.memberId, topic, next);
    });
  }
  return result.build();
}
