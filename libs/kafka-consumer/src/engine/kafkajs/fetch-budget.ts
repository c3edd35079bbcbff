import type { TopicPartitions } from 'kafkajs';

/**
 * The fetch budget: how many bytes one Fetch request may ask for, so that
 * the responses a consumer holds at once stay within `maxBufferedBytes`.
 *
 * kafkajs keeps one fetch per broker in flight and decodes each response whole
 * before handing it over, so what it holds is (brokers it fetches from) ×
 * (bytes per request). Each decoded record costs several times its wire size
 * on the V8 heap, and a drained backlog keeps that much alive all the time.
 * Splitting one budget over the brokers bounds it, whatever the backlog.
 */

export interface FetchSizes {
  /** The budget; 0 = off. */
  maxBufferedBytes: number;
  /** fetch.max.bytes: the most one request asks for. */
  fetchMaxBytes: number;
  /** fetch.min.bytes: a request never asks for less than the broker waits for. */
  fetchMinBytes: number;
}

/** Bytes a single Fetch request asks for (that request's fetch.max.bytes). */
export function fetchRequestBytes({ maxBufferedBytes, fetchMaxBytes, fetchMinBytes }: FetchSizes, brokers: number): number {
  if (maxBufferedBytes <= 0) return fetchMaxBytes; // budget off: kafkajs's own sizing
  const share = Math.floor(maxBufferedBytes / Math.max(1, brokers));
  // A response always carries at least one record batch (KIP-74), so a small share still makes progress.
  return Math.max(1, fetchMinBytes, Math.min(fetchMaxBytes, share));
}

/**
 * How many distinct brokers lead these partitions: the fetches a consumer keeps
 * in flight. Partitions whose leader is unknown are not counted (nothing is
 * fetched for them until metadata has one).
 */
export function leadersOf(assigned: TopicPartitions[], leaderOf: (topic: string, partition: number) => number | null | undefined): number {
  const leaders = new Set<number>();
  for (const { topic, partitions } of assigned) {
    for (const partition of partitions) {
      const leader = leaderOf(topic, partition);
      if (leader != null && leader >= 0) leaders.add(leader);
    }
  }
  return leaders.size;
}
