import type { ClusterAdmin } from '../engine/kafka-client';
import type { SeekPosition } from '../interfaces/seek-position.interface';

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
