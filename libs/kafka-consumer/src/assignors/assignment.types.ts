/** One group member as the pure assignors see it: its id and its own subscription. */
export interface GroupMemberSubscription {
  memberId: string;
  topics: string[];
  /** Sticky only: what the member owned after the last rebalance it took part in (topic -> partitions). */
  previous?: Record<string, number[]>;
  /** Sticky only: freshness of `previous`; when two members claim one partition the higher value keeps it. */
  generation?: number;
}

/** Topic -> number of partitions (partitions are 0..count-1). */
export type TopicPartitionCounts = Record<string, number>;

/** Topic -> partitions for one member. */
export type TopicPartitions = Record<string, number[]>;

/** MemberId -> that member's partitions. Every given member has an entry, possibly empty. */
export type Assignment = Record<string, TopicPartitions>;

/** Signature shared by the pure assignors. */
export type AssignFn = (members: GroupMemberSubscription[], partitionCounts: TopicPartitionCounts) => Assignment;
