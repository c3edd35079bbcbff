import type { LoggerService } from '@nestjs/common';

/**
 * A group's periodic work (pool commits and keep-alives, auto commits, topic
 * refresh), all cleared together. An error in one run is logged, never
 * thrown: thrown from a timer, it would end the process.
 */
export class GroupTimers {
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly groupId: string,
    private readonly logger: LoggerService,
  ) {}

  every(what: string, intervalMs: number, work: () => unknown): void {
    this.timers.push(setInterval(() => this.run(what, work), intervalMs));
  }

  clear(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private run(what: string, work: () => unknown): void {
    try {
      const result = work();
      if (result instanceof Promise) result.catch((error) => this.failed(what, error));
    } catch (error) {
      this.failed(what, error);
    }
  }

  private failed(what: string, error: unknown): void {
    this.logger.error(`group ${this.groupId}: ${what} failed: ${(error as Error)?.message ?? error}`);
  }
}

/** Pool commits and resumes run this often; keep-alive checks at least this often. */
export const POOL_TICK_MS = 20;
