import type { FetchLoopControl } from '../engine/consumer-engine';

/**
 * The fetch loop's heartbeat while it dispatches a batch: at most every
 * `everyMs`, and at the next record once a commit learned that the
 * generation ended (work done meanwhile could not be committed). A heartbeat
 * that reports a rebalance first commits what finished, then lets the engine
 * rejoin.
 */
export class FetchLoopHeartbeat {
  private nextAt = 0;
  private ended: unknown;

  constructor(
    private readonly everyMs: number,
    private readonly commitFinished: () => Promise<void>,
  ) {}

  /** A commit was refused because this generation is over. */
  generationEnded(error: unknown): void {
    this.ended = error;
  }

  /** Joined again: the ended generation is behind us. */
  joined(): void {
    this.ended = undefined;
  }

  get mustRejoin(): boolean {
    return this.ended !== undefined;
  }

  due(): boolean {
    return this.ended !== undefined || Date.now() >= this.nextAt;
  }

  async beat(fetchLoop: FetchLoopControl): Promise<void> {
    if (this.ended !== undefined) {
      // Rejoin now rather than at the next heartbeat.
      const error = this.ended;
      this.ended = undefined;
      throw error;
    }
    this.nextAt = Date.now() + this.everyMs;
    try {
      await fetchLoop.heartbeat();
    } catch (error) {
      await this.commitFinished();
      throw error;
    }
  }
}
