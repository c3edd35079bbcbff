import type { LoggerService } from '@nestjs/common';
import type { ClusterAdmin } from '../engine/kafka-client';
import { decodeFinishedAhead, encodeFinishedAhead } from '../offsets/finished-ahead-codec';
import type { PartitionOffsetTracker } from '../offsets/partition-offset-tracker';
import type { CommittablePartition } from './offset-committer';
import { parseTopicPartitionKey, topicPartitionKey } from '../offsets/topic-partition-key';

/** Kafka's default offset.metadata.max.bytes, used when the broker's cannot be read. */
export const DEFAULT_METADATA_MAX_BYTES = 4096;
/** A partition whose map passes this share of the limit takes no new records until it is back under RESUME_SHARE. */
export const HOLD_SHARE = 0.75;
export const RESUME_SHARE = 0.5;

export interface FinishedAheadCounts {
  /** Commits that left their map out: it would not fit the broker's limit. */
  dropped: number;
  /** Committed metadata this module did not write or cannot read, ignored. */
  unreadable: number;
}

/**
 * A group's finished-ahead offsets in commit metadata (commitMetadata:
 * 'finished-ahead'): builds each commit's map within the broker's
 * offset.metadata.max.bytes, and on assignment reads the committed maps so
 * that records the previous owner finished are skipped.
 */
export class FinishedAheadOffsets {
  private maxBytes = DEFAULT_METADATA_MAX_BYTES;
  /** Partitions whose map was left out, until it fits again (one warning each time). */
  private readonly overBudget = new Set<string>();
  /** Partitions held (paused) because their map neared the limit. */
  private readonly holding = new Set<string>();
  readonly counts: FinishedAheadCounts = { dropped: 0, unreadable: 0 };

  constructor(
    private readonly deps: { groupId: string; admin: ClusterAdmin; owned: ReadonlyMap<string, CommittablePartition>; logger: LoggerService },
  ) {}

  /** The broker's limit on commit metadata (offset.metadata.max.bytes); Kafka's default when it cannot be read. */
  async readBudget(): Promise<void> {
    try {
      const value = Number(await this.deps.admin.brokerConfig('offset.metadata.max.bytes'));
      if (Number.isInteger(value) && value > 0) this.maxBytes = value;
    } catch (error) {
      this.deps.logger.warn?.(`group ${this.deps.groupId}: offset.metadata.max.bytes unknown (${(error as Error)?.message ?? error}); assuming ${DEFAULT_METADATA_MAX_BYTES}`);
    }
  }

  get budget(): number {
    return this.maxBytes;
  }

  /** The metadata of a commit at `offset`: the map, or '' (with a warning) when it would pass the broker's limit. */
  metadataFor(key: string, offset: bigint, tracker: PartitionOffsetTracker): string {
    const finished = tracker.finishedAboveWatermark().filter((o) => o >= offset);
    const metadata = encodeFinishedAhead(offset, finished);
    if (Buffer.byteLength(metadata) <= this.maxBytes) {
      this.overBudget.delete(key);
      return metadata;
    }
    this.counts.dropped += 1;
    if (!this.overBudget.has(key)) {
      this.overBudget.add(key);
      const { topic, partition } = parseTopicPartitionKey(key);
      this.deps.logger.warn?.(
        `group ${this.deps.groupId}: ${topic}[${partition}]: ${finished.length} finished-ahead offsets take ${metadata.length} bytes, over offset.metadata.max.bytes ${this.maxBytes}; ` +
          'committing the offset alone: after a crash they would be processed again',
      );
    }
    return '';
  }

  /**
   * Backpressure before the limit, checked as each record is taken: a map is
   * never longer than its bitmap, one bit per offset from the committed one
   * to the highest taken. Taking `offset` is refused (the partition held)
   * when that bound would pass HOLD_SHARE of the limit; the records already
   * running go on, so the committed offset moves and the map shrinks.
   */
  holdsBefore(key: string, tracker: PartitionOffsetTracker, offset: string): boolean {
    const base = tracker.baseOffset;
    if (base === undefined || BigInt(offset) - base < this.spanLimit(HOLD_SHARE)) return false;
    this.holding.add(key);
    return true;
  }

  /** Held partitions whose bound is back under RESUME_SHARE of the limit, to resume (on the member's tick). */
  sizeLimits(): { hold: string[]; unhold: string[] } {
    const unhold: string[] = [];
    for (const key of this.holding) {
      const state = this.deps.owned.get(key);
      const base = state?.tracker.baseOffset;
      const highest = state?.tracker.highestBegunOffset;
      if (state && base !== undefined && highest !== undefined && highest - base >= this.spanLimit(RESUME_SHARE)) continue;
      this.holding.delete(key); // under the bound again, or given up (released with it)
      if (state) unhold.push(key);
    }
    return { hold: [], unhold };
  }

  /** Offsets from the committed one whose bitmap fits `share` of the limit as base64, header included. */
  private spanLimit(share: number): bigint {
    return BigInt(Math.max(8, (Math.floor((this.maxBytes * share * 3) / 4) - 24) * 8));
  }

  /**
   * Reads the committed maps of newly assigned partitions whose handler carries
   * them, and has their trackers skip what they name. A map this module did not
   * write, or cannot read, is ignored with a warning: reading starts at the
   * committed offset as usual.
   */
  async restore(keys: string[]): Promise<void> {
    const { owned, admin, groupId, logger } = this.deps;
    const wanted = keys.filter((key) => owned.get(key)?.finishedAhead === true);
    if (wanted.length === 0) return;
    const topics = [...new Set(wanted.map((key) => parseTopicPartitionKey(key).topic))];
    let committed: Awaited<ReturnType<ClusterAdmin['committed']>>;
    try {
      committed = await admin.committed(groupId, topics);
    } catch (error) {
      logger.warn?.(`group ${groupId}: committed metadata unreadable (${(error as Error)?.message ?? error}); finished-ahead records of ${wanted.join(', ')} are processed again`);
      return;
    }
    for (const { topic, partitions } of committed) {
      for (const { partition, offset, metadata } of partitions) {
        const key = topicPartitionKey(topic, partition);
        const state = owned.get(key);
        if (!state?.finishedAhead || !wanted.includes(key) || !/^\d+$/.test(offset)) continue;
        const decoded = decodeFinishedAhead(metadata, BigInt(offset));
        if (decoded.kind === 'unreadable') {
          this.counts.unreadable += 1;
          logger.warn?.(`group ${groupId}: ${topic}[${partition}]: commit metadata ignored (${decoded.reason}); reading starts at the committed offset ${offset}`);
        } else if (decoded.kind === 'map') {
          state.tracker.skipFinished(decoded.finished);
        }
      }
    }
  }
}
