import type { ResolvedCommitPolicy } from '../options/resolved-options';

/**
 * When a handler's commit policy asks for a commit (§4.6). Pure: the caller
 * reports events and the clock; this answers "commit now?".
 */
export class CommitSchedule {
  private finishedSinceCommit = 0;
  private lastCommitAt: number;

  constructor(
    private readonly policy: ResolvedCommitPolicy,
    now: number,
  ) {
    this.lastCommitAt = now;
  }

  /** A record finished. `acknowledged` is true when a manual handler called `commit()`. */
  recordFinished(acknowledged: boolean): boolean {
    this.finishedSinceCommit += 1;
    switch (this.policy.mode) {
      case 'record':
        return true;
      case 'manual':
        return acknowledged;
      case 'auto':
        return this.policy.everyRecords > 0 && this.finishedSinceCommit >= this.policy.everyRecords;
      default:
        return false;
    }
  }

  /** A fetched batch finished (every record of it). */
  batchFinished(acknowledged: boolean): boolean {
    if (this.policy.mode === 'batch') return true;
    if (this.policy.mode === 'manual') return acknowledged;
    return false;
  }

  /** `auto` with an interval: is a periodic commit due? */
  due(now: number): boolean {
    return (
      this.policy.mode === 'auto' &&
      this.policy.intervalMs > 0 &&
      this.finishedSinceCommit > 0 &&
      now - this.lastCommitAt >= this.policy.intervalMs
    );
  }

  /** Records finished so far that the commit starting now carries. */
  get pendingRecords(): number {
    return this.finishedSinceCommit;
  }

  /**
   * A commit that started when `carried` records were pending succeeded. Records
   * that finished while it was in flight (worker pool) stay pending, so the next
   * interval still commits them.
   */
  committed(now: number, carried = this.finishedSinceCommit): void {
    this.finishedSinceCommit = Math.max(0, this.finishedSinceCommit - carried);
    this.lastCommitAt = now;
  }
}
