import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { PartitionRegistry } from '../offsets/partition-registry';
import type { ResolvedHandler } from '../options/resolved-options';
import type { WorkScheduler } from './work-scheduler';

/** Pausing and resuming fetches of partitions (`topic partition` keys); either may throw while the client is not running. */
export interface PauseControl {
  pause(keys: string[]): void;
  resume(keys: string[]): void;
}

/**
 * The partitions paused because the worker pool holds their share of records,
 * kept in step with the client: a pause is recorded only once sent, and a
 * partition given up or drained is resumed and forgotten. A resume the client
 * refuses (it is tearing down after a crash) drops nothing but the pause, which
 * goes with the client.
 */
export class Backpressure {
  private readonly paused = new Set<string>();
  /** Paused for another reason than the pool (a finished-ahead map near its size limit): the pool's drain does not resume them. */
  private readonly held = new Set<string>();

  constructor(private readonly control: PauseControl) {}

  isPaused(key: string): boolean {
    return this.paused.has(key);
  }

  get size(): number {
    return this.paused.size;
  }

  /** Pauses those not paused yet. */
  pause(keys: string[]): void {
    const fresh = keys.filter((key) => !this.paused.has(key));
    if (fresh.length === 0) return;
    this.control.pause(fresh);
    for (const key of fresh) this.paused.add(key);
  }

  /** Partitions this member gives up: forgotten, and resumed so they are not found paused if they come back. */
  release(keys: string[]): void {
    for (const key of keys) this.held.delete(key);
    this.resumeSafely(keys.filter((key) => this.paused.delete(key)));
  }

  /** Pauses these partitions until `unhold`, whatever their pool backlog. */
  hold(keys: string[]): void {
    for (const key of keys) this.held.add(key);
    this.pause(keys);
  }

  /** Ends a hold: resumed now (a pool that is still full pauses the partition again at its next record). */
  unhold(keys: string[]): void {
    const ended = keys.filter((key) => this.held.delete(key));
    this.resumeWhere((key) => ended.includes(key), () => true);
  }

  /** Holds `key` when `full`; returns `full`. */
  holdIf(key: string, full: boolean): boolean {
    if (full) this.hold([key]);
    return full;
  }

  /** Holds and releases what a size check decided (finished-ahead maps). */
  applyHolds(limits: { hold: string[]; unhold: string[] } | undefined): void {
    if (!limits) return;
    this.hold(limits.hold);
    this.unhold(limits.unhold);
  }

  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  /**
   * Forgets the paused partitions `ready` accepts and resumes those `stillOwned`
   * accepts (unless `resume` is false: shutting down). Returns the resumed ones.
   */
  resumeWhere(ready: (key: string) => boolean, stillOwned: (key: string) => boolean, resume = true): string[] {
    if (this.paused.size === 0) return [];
    const drained = [...this.paused].filter((key) => !this.held.has(key) && ready(key));
    for (const key of drained) this.paused.delete(key);
    const owned = resume ? drained.filter(stillOwned) : [];
    this.resumeSafely(owned);
    return owned;
  }

  private resumeSafely(keys: string[]): void {
    if (keys.length === 0) return;
    try {
      this.control.resume(keys);
    } catch {
      // Not running (or restarting after a crash): nothing is paused any more.
    }
  }
}

/**
 * Resumes a pooled handler's paused partitions whose backlog in its pool
 * drained to half their share (the pool's bound split evenly over the
 * handler's owned partitions); forgets paused partitions no longer owned.
 */
export function resumeDrained(
  backpressure: Backpressure,
  pool: Pick<WorkScheduler, 'pending' | 'metrics'>,
  owned: PartitionRegistry,
  handler: ResolvedHandler<BoundMethod>,
  resume: boolean,
): void {
  if (backpressure.size === 0) return;
  const share = Math.max(1, Math.floor(pool.metrics().capacity / Math.max(1, owned.keysOf(handler).length)));
  backpressure.resumeWhere(
    (key) => !owned.has(key) || (owned.get(key)!.handler === handler && pool.pending(key) <= Math.floor(share / 2)),
    (key) => owned.has(key),
    resume,
  );
}
