import type { ResolvedRetry } from '../options/resolved-options';
import type { PartitionOffsetTracker } from '../offsets/partition-offset-tracker';
import { parseTopicPartitionKey } from '../offsets/topic-partition-key';
import { backoffDelay, sleep } from '../utils/backoff';

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** Next offset to read: last finished record + 1. */
  offset: string;
  /** Commit metadata: the finished-ahead map ('' for none), for partitions whose handler carries it. */
  metadata?: string;
}

/** What the committer needs to know about one partition. */
export interface CommittablePartition {
  tracker: PartitionOffsetTracker;
  /** Manual mode: nothing at or past this offset is committed (exclusive bound). */
  limit?: bigint;
  /** Commits carry the offsets finished above the committed one (commitMetadata: 'finished-ahead'). */
  finishedAhead?: boolean;
}

export interface OffsetCommitterDeps {
  /** Partitions this member owns now; a revoked partition is never committed. */
  partitions: () => ReadonlyMap<string, CommittablePartition>;
  send: (offsets: OffsetToCommit[]) => Promise<void>;
  retry: ResolvedRetry;
  /** Errors worth another attempt (coordinator moved, timeouts); not generation errors. */
  isRetriable: (error: unknown) => boolean;
  /** Called for commits that failed for good; the offsets stay pending. */
  onFailure: (error: unknown, offsets: OffsetToCommit[]) => void;
  /** The metadata of a finished-ahead partition's commit at `offset` ('' when there is none or it must be left out). */
  finishedAheadMetadata?: (key: string, offset: bigint, tracker: PartitionOffsetTracker) => string;
}

type PendingCommit = OffsetToCommit & { tracker: PartitionOffsetTracker; aheadChanges?: number };

interface QueuedCommit {
  keys: Set<string> | 'all';
  promise: Promise<void>;
}

/**
 * Sends commits one at a time. Offsets are read when a commit starts, not when
 * it is asked for, and a tracker's committed offset only moves forward, so a
 * late or retried commit can never move a partition's offset backwards
 * (§4.6.3). Requests made while a commit is queued join it.
 */
export class OffsetCommitter {
  private tail: Promise<void> = Promise.resolve();
  private queued: QueuedCommit | undefined;

  constructor(private readonly deps: OffsetCommitterDeps) {}

  /**
   * Commits the pending offsets of `keys` (topic-partition keys), or of every
   * owned partition. Resolves when the broker has acknowledged; rejects when
   * the commit failed for good (the offsets then stay pending).
   */
  commit(keys?: Iterable<string>): Promise<void> {
    if (this.queued) {
      if (keys === undefined) this.queued.keys = 'all';
      else if (this.queued.keys !== 'all') for (const key of keys) this.queued.keys.add(key);
      return this.queued.promise;
    }
    const entry: QueuedCommit = { keys: keys === undefined ? 'all' : new Set(keys), promise: Promise.resolve() };
    entry.promise = this.tail.then(() => {
      this.queued = undefined;
      return this.send(entry.keys);
    });
    this.queued = entry;
    this.tail = entry.promise.catch(() => undefined);
    return entry.promise;
  }

  /**
   * Adds `key` to the commit that is queued behind the one in flight, if there
   * is one, and reports whether it did: a caller that does not wait for the
   * result needs nothing more (offsets are read when that commit starts).
   */
  joinQueued(key: string): boolean {
    const queued = this.queued;
    if (!queued) return false;
    if (queued.keys !== 'all') queued.keys.add(key);
    return true;
  }

  /**
   * Offsets that would be committed now. A finished-ahead partition also has
   * one when only its finished-ahead set grew (a slow record holds the
   * watermark while others finish): the same offset, new metadata.
   */
  pending(keys: Set<string> | 'all' = 'all'): PendingCommit[] {
    const result: PendingCommit[] = [];
    for (const [key, { tracker, limit, finishedAhead }] of this.deps.partitions()) {
      if (keys !== 'all' && !keys.has(key)) continue;
      const news = finishedAhead === true && tracker.finishedAheadUncommitted;
      let next = tracker.pendingCommit() ?? (news ? tracker.baseOffset : undefined);
      if (next === undefined) continue;
      if (limit !== undefined && next > limit) next = limit;
      const committed = tracker.committedOffset;
      if (committed !== undefined && (next < committed || (next === committed && !news))) continue;
      const entry: PendingCommit = { ...parseTopicPartitionKey(key), offset: next.toString(), tracker };
      if (finishedAhead && this.deps.finishedAheadMetadata) {
        entry.aheadChanges = tracker.finishedAheadChanges();
        entry.metadata = this.deps.finishedAheadMetadata(key, next, tracker);
      }
      result.push(entry);
    }
    return result;
  }

  private async send(keys: Set<string> | 'all'): Promise<void> {
    const { retry, isRetriable, onFailure } = this.deps;
    const batch = this.pending(keys);
    if (batch.length === 0) return;
    const offsets = batch.map(({ topic, partition, offset, metadata }) => (metadata === undefined ? { topic, partition, offset } : { topic, partition, offset, metadata }));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.send(offsets);
        for (const { tracker, offset, aheadChanges } of batch) tracker.markCommitted(offset, aheadChanges);
        return;
      } catch (error) {
        if (attempt >= retry.attempts || !isRetriable(error)) {
          onFailure(error, offsets);
          throw error;
        }
        await sleep(backoffDelay(retry, attempt));
      }
    }
  }
}
