import type { DeadLetterStats } from '../interfaces/rebalance.interface';

/** A dead-letter topic that cannot be written now. */
export interface DeadLetterOutage {
  topic: string;
  /** Date.now() of the first failed attempt of this outage. */
  since: number;
  /** The last attempt's error message. */
  error: string;
}

/**
 * Follows the dead-letter writes of one group: an outage per dead-letter topic
 * begins with the first failed attempt and ends with the next write that
 * succeeds. Pure bookkeeping: the caller reports, logs and retries.
 */
export class DeadLetterOutages {
  private readonly open = new Map<string, DeadLetterOutage>();
  private readonly counts: DeadLetterStats = { published: 0, failedAttempts: 0, outages: 0, waiting: 0 };
  private used = false;

  /** A record starts waiting for its dead-letter write. */
  waiting(): void {
    this.used = true;
    this.counts.waiting += 1;
  }

  /** Its write succeeded or was given up (shutdown). */
  settled(): void {
    this.counts.waiting -= 1;
  }

  /** Returns the outage when this failure begins one (report it then, once), else undefined. */
  attemptFailed(topic: string, error: unknown, now: number): DeadLetterOutage | undefined {
    this.counts.failedAttempts += 1;
    const message = (error as Error)?.message ?? String(error);
    const current = this.open.get(topic);
    if (current) {
      current.error = message;
      return undefined;
    }
    const outage = { topic, since: now, error: message };
    this.open.set(topic, outage);
    this.counts.outages += 1;
    return outage;
  }

  /** Returns the outage this write ended, if the topic was out. */
  published(topic: string): DeadLetterOutage | undefined {
    this.counts.published += 1;
    const ended = this.open.get(topic);
    this.open.delete(topic);
    return ended;
  }

  /** The oldest outage still open. */
  current(): DeadLetterOutage | undefined {
    let oldest: DeadLetterOutage | undefined;
    for (const outage of this.open.values()) if (!oldest || outage.since < oldest.since) oldest = outage;
    return oldest;
  }

  /** Counts, once any record went to the dead-letter path; undefined before. */
  stats(): DeadLetterStats | undefined {
    return this.used ? { ...this.counts } : undefined;
  }
}
