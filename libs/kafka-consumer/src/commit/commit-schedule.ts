import type { ResolvedCommitPolicy } from '../options/resolve-options';

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

  committed(now: number): void {
    this.finishedSinceCommit = 0;
    this.lastCommitAt = now;
  }
}
