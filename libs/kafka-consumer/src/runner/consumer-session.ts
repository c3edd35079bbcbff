import type { LoggerService } from '@nestjs/common';
import type { JoinResult } from '../engine/consumer-engine';
import type { ClientErrors } from '../engine/kafka-client';
import type { DeadLetterOutage } from '../dispatch/dead-letter-outages';
import type { ConsumerGroupStatus, DeadLetterStats, GroupMembership } from '../interfaces/rebalance.interface';
import { withTimeout } from '../utils/with-timeout';

export interface ConsumerSessionOptions {
  groupId: string;
  groupInstanceId?: string;
  /** The client's name, for messages (`kafkajs restarts it`). */
  engineName: () => string;
  errors: Pick<ClientErrors, 'isFenced'>;
  logger: LoggerService;
}

/**
 * The life of one group's consumer as the outside sees it: joined (member id,
 * generation), stopping, stopped, crashed and whether the client restarts,
 * and the batches running now (a stop waits for them). Status and membership
 * are read from here.
 */
export class ConsumerSession {
  /** Set once stop() begins: no restart, no join, no new batch; the status says stopped. */
  stopping = false;
  /** The last join of this member. */
  joined: JoinResult = { memberId: '', generationId: -1, assignment: {} };
  /** The last crash, until the client has joined again after it (or for good, when it does not restart). */
  private crash: { message: string; restart: boolean } | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: ConsumerSessionOptions) {}

  /** After each join: a crash the client restarted from is over. */
  rejoined(joined: JoinResult): void {
    if (this.crash?.restart) this.crash = undefined;
    this.joined = joined;
  }

  /** The client failed; logged with what it means for the user (a fenced static member needs a fix). */
  crashed(error: Error, restart: boolean): void {
    const { groupId, groupInstanceId, errors, logger } = this.options;
    const fenced = errors.isFenced(error);
    const message = fenced
      ? `group ${groupId}: another live member uses groupInstanceId "${groupInstanceId}"; this member was fenced and has stopped consuming. Give every member its own groupInstanceId.`
      : `group ${groupId}: consumer crashed (${error?.message})${restart ? `; ${this.options.engineName()} restarts it` : '; it will not restart'}`;
    logger.error(message);
    // A health check shows the fix for a fencing, not the client's wording of it.
    this.crash = { message: fenced ? message : (error?.message ?? String(error)), restart };
  }

  batchStarted(): void {
    this.inFlight += 1;
  }

  batchEnded(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves true once no batch runs, false if one still does after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return withTimeout(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs);
  }

  status(deadLetters: { stats(): DeadLetterStats | undefined; outage(): DeadLetterOutage | undefined }): ConsumerGroupStatus {
    const { groupId } = this.options;
    const stats = deadLetters.stats();
    const counts = stats ? { deadLetters: stats } : {};
    if (this.stopping) return { groupId, state: 'stopped', ...counts };
    if (this.crash) return { groupId, state: this.crash.restart ? 'restarting' : 'failed', error: this.crash.message, ...counts };
    const outage = deadLetters.outage();
    if (outage) {
      const error = `dead-letter topic ${outage.topic} cannot be written since ${new Date(outage.since).toISOString()} (${outage.error}); ${stats!.waiting} record(s) and their partitions wait for it`;
      return { groupId, state: 'degraded', error, ...counts };
    }
    return { groupId, state: 'running', ...counts };
  }

  membership(assignment: string[]): GroupMembership {
    const { memberId, generationId } = this.joined;
    return { groupId: this.options.groupId, memberId, generationId, groupInstanceId: this.options.groupInstanceId, assignment };
  }
}
