import type { LoggerService } from '@nestjs/common';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { ResolvedCommitPolicy } from '../options/resolved-options';
import type { CommitSchedule } from './commit-schedule';
import { CommittablePartition, OffsetCommitter, OffsetToCommit } from './offset-committer';

/** What commits need of a handler. */
export interface CommitHandler {
  name: string;
  commit: ResolvedCommitPolicy;
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
}

const NOTHING: ReadonlyMap<string, CommittablePartition> = new Map();

/**
 * Commit policy decisions (§4.6) turned into committer calls: which
 * partitions, when, synchronously or not, and what a failure means. Every
 * commit comes from the offset trackers, so no unfinished record is committed.
 */
export class CommitCoordinator {
  private readonly committer: OffsetCommitter;

  constructor(private readonly options: CommitCoordinatorOptions) {
    this.committer = new OffsetCommitter({
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

  /** A pooled handler's partitions with a finished watermark not yet committed (auto commits keep their interval). */
  commitFinishedWork(handler: CommitHandler): void {
    if (handler.commit.mode === 'auto') return;
    const keys = this.keysOf(handler).filter((key) => this.options.owned.get(key)!.tracker.pendingCommit() !== undefined);
    if (keys.length > 0) this.byPolicy(handler, keys);
  }

  /** Commits what finished on these partitions (or all); never rejects: failures are reported. */
  commit(keys?: string[]): Promise<void> {
    return this.committer.commit(keys).catch(() => undefined);
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
