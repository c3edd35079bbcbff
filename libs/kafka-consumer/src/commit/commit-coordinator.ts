import type { LoggerService } from '@nestjs/common';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { ClusterAdmin } from '../engine/kafka-client';
import type { CommitMetadataMode } from '../interfaces/handler-options.interface';
import type { ResolvedCommitPolicy } from '../options/resolved-options';
import { FinishedAheadOffsets } from './finished-ahead-offsets';
import type { CommitSchedule } from './commit-schedule';
import { CommittablePartition, OffsetCommitter, OffsetToCommit } from './offset-committer';

/** What commits need of a handler. */
export interface CommitHandler {
  name: string;
  commit: ResolvedCommitPolicy;
  commitMetadata?: CommitMetadataMode;
}

/** An owned partition as commits see it. */
export interface CommitPartition extends CommittablePartition {
  handler: CommitHandler;
}

export interface CommitCoordinatorOptions {
  groupId: string;
  logger: LoggerService;
  reportFailure(failure: KafkaConsumerFailure): Promise<void>;
  handlers: CommitHandler[];
  owned: ReadonlyMap<string, CommitPartition>;
  schedule(handler: CommitHandler): CommitSchedule;
  /** False while nothing may be committed (a standalone reader that never commits; a stalled member). */
  committing(): boolean;
  /** Sends one OffsetCommit to the group coordinator. */
  send(offsets: OffsetToCommit[]): Promise<void>;
  /** Classifies failures: generation errors end the generation, retriable ones are retried. */
  isRetriable(error: unknown): boolean;
  isGenerationError(error: unknown): boolean;
  /** A commit learned that the generation is over: the fetch loop should rejoin now. */
  generationEnded(error: unknown): void;
  /** Takes a failure itself when it returns true (a standalone reader has rules of its own). */
  delegateFailure?(error: unknown, offsets: OffsetToCommit[]): boolean;
  /** Reads committed metadata and the broker's limit on it, for handlers with commitMetadata 'finished-ahead'. */
  admin?: ClusterAdmin;
}

const NOTHING: ReadonlyMap<string, CommittablePartition> = new Map();

/** Commits that only update the finished-ahead map (the watermark held by a slow record) go out at most this often. */
export const FINISHED_AHEAD_COMMIT_MS = 500;

/**
 * Commit policy decisions (§4.6) turned into committer calls: which
 * partitions, when, synchronously or not, and what a failure means. Every
 * commit comes from the offset trackers, so no unfinished record is committed.
 */
export class CommitCoordinator {
  private readonly committer: OffsetCommitter;
  /** Finished-ahead maps in commit metadata, when a handler carries them. */
  readonly finishedAhead: FinishedAheadOffsets | undefined;
  private lastAheadCommit = 0;

  constructor(private readonly options: CommitCoordinatorOptions) {
    const { admin, groupId, owned, logger } = options;
    const finishedAhead = admin && options.handlers.some((h) => h.commitMetadata === 'finished-ahead') ? new FinishedAheadOffsets({ groupId, admin, owned, logger }) : undefined;
    this.finishedAhead = finishedAhead;
    this.committer = new OffsetCommitter({
      finishedAheadMetadata: finishedAhead && ((key, offset, tracker) => finishedAhead.metadataFor(key, offset, tracker)),
      partitions: () => (options.committing() ? options.owned : NOTHING),
      send: (offsets) => options.send(offsets),
      retry: { attempts: 5, initialDelayMs: 200, maxDelayMs: 5_000 },
      isRetriable: (error) => options.isRetriable(error),
      onFailure: (error, offsets) => this.onFailure(error, offsets),
    });
  }

  /**
   * Commits by the handler's policy. A synchronous policy returns the promise to
   * wait for; an asynchronous one returns nothing (no promise per record on
   * the hot path). Failures are reported; the offsets stay pending.
   * `requested` partitions are committed, or all of the handler's when left out.
   */
  byPolicy(handler: CommitHandler, requested?: string[]): Promise<void> | undefined {
    // An auto commit covers every partition of the handler, as the schedule counts finished
    // records across them: a commit of one partition would clear the count of the others and
    // leave their finished records uncommitted until more records finish.
    const keys = handler.commit.mode === 'auto' || requested === undefined ? this.keysOf(handler) : requested;
    // Asynchronous commits asked for faster than the broker answers (record mode) join the queued one.
    if (!handler.commit.sync && keys.length === 1 && this.committer.joinQueued(keys[0])) return undefined;
    const schedule = this.options.schedule(handler);
    const carried = schedule.pendingRecords;
    const commit = this.committer.commit(keys).then(
      () => schedule.committed(Date.now(), carried),
      () => undefined,
    );
    return handler.commit.sync ? commit : undefined;
  }

  /** Auto-commit handlers whose interval passed. */
  commitDueAuto(now: number): void {
    for (const handler of this.options.handlers) {
      if (this.options.schedule(handler).due(now)) this.byPolicy(handler);
    }
  }

  /**
   * A pooled handler's partitions with a finished watermark not yet committed
   * (auto commits keep their interval); with finished-ahead metadata, also
   * those whose finished-ahead set grew, at most every FINISHED_AHEAD_COMMIT_MS.
   */
  commitFinishedWork(handler: CommitHandler, now = Date.now()): void {
    if (handler.commit.mode === 'auto') return;
    const aheadDue = this.finishedAhead !== undefined && now - this.lastAheadCommit >= FINISHED_AHEAD_COMMIT_MS;
    const keys = this.keysOf(handler).filter((key) => {
      const { tracker, finishedAhead } = this.options.owned.get(key)!;
      return tracker.pendingCommit() !== undefined || (aheadDue && finishedAhead === true && tracker.finishedAheadUncommitted);
    });
    if (keys.length === 0) return;
    if (aheadDue) this.lastAheadCommit = now;
    this.byPolicy(handler, keys);
  }

  /** Commits what finished on these partitions (or all); never rejects: failures are reported. */
  commit(keys?: string[]): Promise<void> {
    return this.committer.commit(keys).catch(() => undefined);
  }

  /** Before the first join: the broker's limit on commit metadata. */
  async prepare(): Promise<void> {
    await this.finishedAhead?.readBudget();
  }

  /** Newly assigned partitions: their trackers skip what the committed maps name. */
  async restoreFinishedAhead(keys: string[]): Promise<void> {
    await this.finishedAhead?.restore(keys);
  }

  private keysOf(handler: CommitHandler): string[] {
    const keys: string[] = [];
    for (const [key, state] of this.options.owned) if (state.handler === handler) keys.push(key);
    return keys;
  }

  private onFailure(error: unknown, offsets: OffsetToCommit[]): void {
    const { options } = this;
    if (options.delegateFailure?.(error, offsets)) return;
    const detail = offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(', ');
    const message = `group ${options.groupId}: commit of ${detail} failed: ${(error as Error)?.message ?? error}`;
    if (options.isGenerationError(error)) {
      options.generationEnded(error);
      options.logger.warn?.(`${message} (the group is rebalancing; finished records past the last commit may be delivered again)`);
    } else {
      options.logger.error(message);
    }
    void options.reportFailure({ kind: 'commit', error, groupId: options.groupId });
  }
}
