export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Map key for a topic-partition; a topic name cannot contain a space. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic} ${partition}`;
}

export function parseTopicPartitionKey(key: string): TopicPartition {
  const space = key.lastIndexOf(' ');
  return { topic: key.slice(0, space), partition: Number(key.slice(space + 1)) };
}

/** `topic partition` keys as partition numbers by topic (an assignment), each key once. */
export function partitionsByTopic(keys: Iterable<string>): Record<string, number[]> {
  const byTopic: Record<string, number[]> = {};
  for (const key of new Set(keys)) {
    const { topic, partition } = parseTopicPartitionKey(key);
    (byTopic[topic] ??= []).push(partition);
  }
  return byTopic;
}
