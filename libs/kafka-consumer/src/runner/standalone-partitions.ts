import type { StandaloneTopic } from '../interfaces/module-options.interface';
import type { TopicPartition } from '../interfaces/rebalance.interface';

/**
 * Which partitions a standalone consumer reads (§4.11), from the topic
 * metadata. Pure: the runner fetches the metadata and applies the result.
 */

/** A partition as the metadata lists it; leader -1 while none is elected. */
export interface ListedPartition {
  partition: number;
  leader: number;
}

/** Partitions by topic, for the topics that exist. */
export type TopicMetadata = ReadonlyMap<string, readonly ListedPartition[]>;

export interface StandalonePlan {
  /** What to read from the start, by topic. */
  assignment: Record<string, number[]>;
  /** Configured but absent: `orders[7]`, or a topic name. Without discovery these never appear by themselves. */
  missing: string[];
  /** Absent or without a leader yet; discovery takes them once they are there. */
  waiting: string[];
}

/**
 * The partitions to read at startup. Explicit partitions must exist. A topic
 * read in full takes every listed partition; with discovery, only the ones
 * with a leader (kafkajs fetches from the leader its metadata names, so a
 * partition taken before its leader is known would sit idle until kafkajs
 * refreshes its metadata), and a missing topic is waited for.
 */
export function planStandalone(assign: readonly StandaloneTopic[], metadata: TopicMetadata, discovery: boolean): StandalonePlan {
  const plan: StandalonePlan = { assignment: {}, missing: [], waiting: [] };
  for (const { topic, partitions } of assign) {
    const listed = metadata.get(topic);
    if (partitions) {
      const absent = partitions.filter((p) => !listed?.some((l) => l.partition === p));
      plan.missing.push(...absent.map((p) => `${topic}[${p}]`));
      const present = partitions.filter((p) => !absent.includes(p));
      if (present.length > 0) plan.assignment[topic] = present;
      continue;
    }
    if (!listed) {
      (discovery ? plan.waiting : plan.missing).push(topic);
      continue;
    }
    const ready = discovery ? listed.filter((l) => l.leader >= 0) : listed;
    plan.waiting.push(...listed.filter((l) => !ready.includes(l)).map((l) => `${topic}[${l.partition}]`));
    if (ready.length > 0) plan.assignment[topic] = ready.map((l) => l.partition).sort((a, b) => a - b);
  }
  return plan;
}

/** Partitions of the topics read in full that have a leader and are not read yet, in topic and partition order. */
export function partitionsToAdd(assign: readonly StandaloneTopic[], metadata: TopicMetadata, current: Record<string, number[]>): TopicPartition[] {
  const added: TopicPartition[] = [];
  for (const { topic, partitions } of assign) {
    if (partitions) continue;
    const read = new Set(current[topic] ?? []);
    const ready = (metadata.get(topic) ?? []).filter((l) => l.leader >= 0 && !read.has(l.partition));
    added.push(...ready.map((l) => ({ topic, partition: l.partition })).sort((a, b) => a.partition - b.partition));
  }
  return added;
}
