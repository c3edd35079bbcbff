import type { LoggerService } from '@nestjs/common';
import type { ResolvedConsumerSettings } from '../options/resolved-options';

/** Something running that the poll-interval bound applies to (a pooled record). */
export interface Timed {
  /** Date.now() when it started. */
  startedAt: number;
}

export interface LivenessOptions {
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  /**
   * Suspension ends with the stall, not at the next join: a static member
   * (group.instance.id) sends no LeaveGroup, its session decides; a client that
   * enforces max.poll.interval.ms itself (librdkafka) rejoins as soon as the stall ends.
   */
  staticMember: boolean;
  /** Sends a heartbeat (and, once stalled, lets the client leave the group); never throws. */
  heartbeat(): void;
  /** A stall began: say so (once per stall). */
  onStall(): void;
  now?: () => number;
}

/**
 * Heartbeats while user code runs, and the max.poll.interval.ms bound (§4.5.6,
 * §4.5.7). Each partition's loop and each pooled record has its own clock, so
 * one finishing never hides another still running. Past the bound the member
 * stalls as a stuck Java poll loop would: no heartbeats, no commits, no new
 * records; a dynamic member stays suspended until its next join (it left the
 * group), a static one until the stall ends.
 */
export class LivenessMonitor {
  private readonly loops = new Map<string, number>();
  private readonly records = new Set<Timed>();
  private lastHeartbeat = 0;
  private isStalled = false;
  private isSuspended = false;
  private waiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly options: LivenessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A group's monitor: its settings, its client's keep-alive, and the stall logged once per stall. */
  static forGroup(groupId: string, settings: ResolvedConsumerSettings, heartbeat: () => void, logger: LoggerService, clientEnforcesPollInterval: boolean): LivenessMonitor {
    const { heartbeatIntervalMs, maxPollIntervalMs, groupInstanceId } = settings;
    const staticMember = groupInstanceId !== undefined;
    return new LivenessMonitor({
      heartbeatIntervalMs,
      maxPollIntervalMs,
      staticMember: staticMember || clientEnforcesPollInterval,
      heartbeat,
      onStall: () =>
        logger.error(
          `group ${groupId}: a record has run longer than maxPollIntervalMs (${maxPollIntervalMs} ms); ` +
            (staticMember ? 'heartbeats and commits stop until it ends' : 'this member leaves the group and joins again when it ends'),
        ),
    });
  }

  /** A record has run longer than maxPollIntervalMs, and still runs. */
  get stalled(): boolean {
    return this.isStalled;
  }

  /** The member's partitions are not its own to commit or start records on. */
  get suspended(): boolean {
    return this.isSuspended;
  }

  /** A partition's loop awaits user code from now (sequential record or batch chunk). */
  loopStarted(key: string): void {
    this.loops.set(key, this.now());
  }

  loopEnded(key: string): void {
    this.loops.delete(key);
  }

  recordStarted(record: Timed): void {
    record.startedAt = this.now();
    this.records.add(record);
  }

  recordEnded(record: Timed): void {
    this.records.delete(record);
  }

  /** The periodic check: starts or ends a stall, else keeps heartbeats flowing while anything runs. */
  check(): void {
    let oldest = Infinity;
    for (const since of this.loops.values()) if (since < oldest) oldest = since;
    for (const record of this.records) if (record.startedAt < oldest) oldest = record.startedAt;
    const now = this.now();
    const stalled = now - oldest > this.options.maxPollIntervalMs;
    if (stalled && !this.isStalled) {
      this.isStalled = this.isSuspended = true;
      this.options.onStall();
      this.options.heartbeat(); // the client sends the LeaveGroup now, not at the next interval
      return;
    }
    if (!stalled && this.isStalled) {
      this.isStalled = false;
      if (this.options.staticMember) this.isSuspended = false;
      this.wake();
    }
    if (oldest === Infinity || stalled) return;
    if (now - this.lastHeartbeat < this.options.heartbeatIntervalMs) return;
    this.lastHeartbeat = now;
    this.options.heartbeat();
  }

  /** The member joins again: what it owns from then on is its own (unless it is still stalled). */
  rejoining(): void {
    this.isSuspended = this.isStalled;
  }

  /** Resolves once no stall holds the fetch loop, or at release(). */
  untilStallEnds(): Promise<void> {
    if (!this.isStalled) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Shutdown: nothing waits for a stall any more. */
  release(): void {
    this.isStalled = false;
    this.wake();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
