import type { ConsumerEngine } from '../engine/consumer-engine';
import type { ClusterAdmin } from '../engine/kafka-client';
import type { SeekPosition } from '../interfaces/seek-position.interface';
import type { PartitionRegistry } from '../offsets/partition-registry';
import { topicPartitionKey } from '../offsets/topic-partition-key';

/**
 * Moves the fetch position of an owned partition (§4.8). Records already
 * fetched past it are dropped; progress tracking restarts there (a new
 * partition state), so the replayed records are processed and committed again.
 */
export async function seekOwnedPartition(
  member: { groupId: string; owned: PartitionRegistry; engine: ConsumerEngine | undefined; admin: ClusterAdmin; dropQueued(keys: string[]): void },
  topic: string,
  partition: number,
  position: SeekPosition,
): Promise<string> {
  const { groupId, owned, engine, admin } = member;
  const key = topicPartitionKey(topic, partition);
  const state = owned.get(key);
  if (!state || !engine) {
    throw new Error(`group ${groupId}: ${topic}[${partition}] is not assigned to this member; it owns ${[...owned.keys()].join(', ') || 'nothing'}`);
  }
  const offset = await resolveSeekPosition(admin, topic, partition, position);
  engine.seek(topic, partition, offset);
  member.dropQueued([key]); // fetched before the seek: stale
  owned.track(key, state.handler);
  return offset;
}

export async function resolveSeekPosition(admin: ClusterAdmin, topic: string, partition: number, position: SeekPosition): Promise<string> {
  if (position === 'beginning' || position === 'end') {
    const offsets = await admin.watermarks(topic);
    const entry = offsets.find((o) => o.partition === partition);
    if (!entry) throw new Error(`${topic} has no partition ${partition}`);
    return position === 'beginning' ? entry.low : entry.high;
  }
  if ('offset' in position) {
    const offset = String(position.offset);
    if (!/^\d+$/.test(offset)) throw new Error(`seek offset must be a non-negative integer, got ${offset}`);
    return offset;
  }
  if (!Number.isFinite(position.timestamp)) throw new Error(`seek timestamp must be milliseconds since the epoch, got ${position.timestamp}`);
  const offsets = await admin.offsetsForTimes(topic, position.timestamp);
  const entry = offsets.find((o) => o.partition === partition);
  if (!entry) throw new Error(`${topic} has no partition ${partition}`);
  return entry.offset;
}
