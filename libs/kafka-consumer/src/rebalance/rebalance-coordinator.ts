import type { JoinResult } from '../engine/consumer-engine';
import type { LoggerService } from '@nestjs/common';
import { revokedPartitions } from '../assignors/cooperative';
import type { StickyMemberState } from '../assignors/sticky-member-state';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { PartitionRegistry } from '../offsets/partition-registry';
import type { RebalanceHookKind } from '../interfaces/rebalance.interface';
import { topicPartitionKey } from '../offsets/topic-partition-key';
import { withTimeout } from '../utils/with-timeout';
import type { ResolvedHandler } from '../options/resolved-options';

/** What the coordinator does through the rest of the member. */
export interface RebalanceMember {
  /** The owned partitions and their state; the coordinator adds and removes entries. */
  readonly owned: PartitionRegistry;
  route(topic: string): ResolvedHandler<BoundMethod> | undefined;
  stopping(): boolean;
  /** Queued (never started) records of these partitions, or all, are dropped. */
  dropQueued(keys?: string[]): void;
  /** Resolves once the running records of these partitions, or all, finished. */
  whenIdle(keys?: string[]): Promise<void>;
  /** Commits the finished offsets of these partitions, or all; never rejects (failures are reported). */
  commit(keys?: string[]): Promise<void>;
  /** Forgets backpressure pauses of partitions given up (and resumes them in the client). */
  releasePauses(keys: string[]): void;
  runHooks(kind: RebalanceHookKind, keys: string[]): Promise<void>;
  /** Newly assigned partitions: skip what their last owner finished above its commit (commit metadata). */
  restoreFinished?(keys: string[]): Promise<void>;
}

export interface RebalanceSettings {
  groupId: string;
  cooperative: boolean;
  /** Bound of each drain (shutdownTimeoutMs). */
  drainTimeoutMs: number;
  logger: LoggerService;
  /** This member's last assignment, sent to the leader on each join (sticky assignors). */
  sticky: StickyMemberState;
}

/**
 * The rebalance protocol of one member (§4.7): before a join, commit (or,
 * when the member was forgotten, lose); after it, drain → commit → drop state
 * → hooks for exactly the partitions that moved, and say whether to join again
 * at once to hand withheld partitions over (cooperative, §4.1.2).
 */
export class RebalanceCoordinator {
  constructor(
    private readonly settings: RebalanceSettings,
    private readonly member: RebalanceMember,
  ) {}

  /**
   * Before the client (re)joins; its fetch loop has stopped every batch. A
   * member the coordinator forgot has lost its partitions: another member may
   * own them, so nothing is committed for them. Otherwise the finished offsets
   * are committed while this generation is still valid (real Kafka accepts
   * this; the mock refuses commits during a join).
   */
  async beforeJoin(memberLost: boolean, generationId: number): Promise<void> {
    const { member } = this;
    if (member.stopping() || member.owned.size === 0) return;
    if (memberLost) {
      await this.lose('the coordinator no longer knows this member (session expired or fenced)', generationId);
      return;
    }
    // Eager: any partition may move, so let running workers finish first (bounded).
    if (!this.settings.cooperative) await withTimeout(member.whenIdle(), this.settings.drainTimeoutMs);
    await member.commit();
  }

  /**
   * After each join: hand out the change. Retained partitions keep their
   * state, so records already begun are not run again when the client
   * re-fetches them from the committed offset. With cooperative hand-over, a
   * revoked partition was withheld from its new owner: commit it now (the
   * group is stable), run the hook, and return true to join again so the next
   * round hands it over. Eager strategies commit nothing after the join: the
   * new owner may be reading already, and a late commit could move its offset back.
   */
  async afterJoin(joined: JoinResult): Promise<boolean> {
    const { member, settings } = this;
    const claimedBefore = settings.sticky.current;
    const next = new Map<string, ResolvedHandler<BoundMethod>>();
    for (const [topic, partitions] of Object.entries(joined.assignment)) {
      const handler = member.route(topic);
      if (handler) for (const partition of partitions) next.set(topicPartitionKey(topic, partition), handler);
    }
    const revoked = [...member.owned.keys()].filter((key) => !next.has(key));
    const assigned = [...next.keys()].filter((key) => !member.owned.has(key));
    // The client keeps pauses across joins: a retained partition stays paused until its backlog
    // drains; a revoked one is resumed, so it is not found paused if it comes back.
    member.releasePauses(revoked);
    if (revoked.length > 0) {
      member.dropQueued(revoked);
      await withTimeout(member.whenIdle(revoked), settings.drainTimeoutMs);
      if (settings.cooperative) await member.commit(revoked);
      for (const key of revoked) member.owned.delete(key);
      await member.runHooks('revoked', revoked);
    }
    for (const key of assigned) member.owned.track(key, next.get(key)!);
    settings.sticky.update(joined.assignment, joined.generationId);
    if (assigned.length > 0) await member.restoreFinished?.(assigned);
    if (assigned.length > 0) await member.runHooks('assigned', assigned);
    const handOver = Object.keys(revokedPartitions(claimedBefore, joined.assignment)).length > 0;
    return settings.cooperative && handOver && !member.stopping();
  }

  /** Every owned partition is gone (forgotten by the coordinator, or the client crashed). */
  async lose(reason: string, generationId: number): Promise<void> {
    const { member } = this;
    const lost = [...member.owned.keys()];
    member.releasePauses(lost);
    member.owned.clear();
    member.dropQueued();
    this.settings.sticky.update({}, generationId);
    if (lost.length === 0) return;
    this.settings.logger.warn?.(`group ${this.settings.groupId}: lost ${lost.join(', ')}: ${reason}; their records past the last commit will be delivered again`);
    await member.runHooks('lost', lost);
  }
}
