import { AssignmentBuilder, normalizeMembers, partitionCount, subscribedTopics } from './assignment-helpers';
import type { Assignment, GroupMemberSubscription, TopicPartitionCounts } from './assignment.types';

/**
 * Kafka's RoundRobinAssignor: all partitions sorted by (topic, partition) are dealt over the
 * members sorted by id in circular order, skipping members not subscribed to the partition's topic.
 */
export function roundRobinAssign(members: GroupMemberSubscription[], partitionCounts: TopicPartitionCounts): Assignment {
  const sorted = normalizeMembers(members, partitionCounts);
  const result = new AssignmentBuilder(sorted.map((m) => m.memberId));
  let cursor = 0;
  for (const topic of subscribedTopics(sorted)) {
    const count = partitionCount(partitionCounts, topic);
    for (let partition = 0; partition < count; partition++) {
      // Terminates: every topic listed by subscribedTopics has at least one subscriber.
      while (!sorted[cursor].topics.has(topic)) cursor = (cursor + 1) % sorted.length;
      result.add(sorted[cursor].memberId, topic, partition);
      cursor = (cursor + 1) % sorted.length;
    }
  }
  return result.build();
}
