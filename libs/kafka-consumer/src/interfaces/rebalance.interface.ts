import type { SeekPosition } from '../interfaces/seek-position.interface';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Second argument of the rebalance hooks. */
export interface RebalanceContext {
  groupId: string;
  /** This member's id in the group ('' for a standalone consumer). */
  memberId: string;
  /** The group generation the change belongs to (-1 when unknown). */
  generationId: number;
  /**
   * Sets where an owned partition starts reading (§4.8), e.g. from an offset
   * kept in the application's own database. Usable from onPartitionsAssigned:
   * the position applies before the first fetch.
   */
  seek(topic: string, partition: number, position: SeekPosition): Promise<string>;
}

export type RebalanceHookKind = 'assigned' | 'revoked' | 'lost';

export interface RebalanceHookOptions {
  /** Only this consumer group (default: every group). */
  groupId?: string;
}

/** A member's place in its group, as of its last join. */
export interface GroupMembership {
  groupId: string;
  memberId: string;
  generationId: number;
  groupInstanceId?: string;
  /** Owned partitions as `topic partition` keys. */
  assignment: string[];
}

/** What a group's dead-letter writes amount to so far (see ConsumerGroupStatus.deadLetters). */
export interface DeadLetterStats {
  /** Records written to a dead-letter topic. */
  published: number;
  /** Write attempts that failed (each retry counts). */
  failedAttempts: number;
  /** Times a dead-letter topic went from writable to not writable. */
  outages: number;
  /** Records waiting now for their dead-letter write; their partitions' commits wait with them. */
  waiting: number;
}

/**
 * Whether a group's consumer is consuming: `running`; `restarting` after a
 * crash kafkajs recovers from (it rejoins and refetches from the committed
 * offsets); `failed` after a crash it does not restart from (e.g. a fenced
 * static member), with the error; `degraded` while it consumes but a partition
 * waits on something outside it (a dead-letter topic that cannot be written);
 * `stopped` once the application shut it down.
 */
export interface ConsumerGroupStatus {
  groupId: string;
  state: 'running' | 'degraded' | 'restarting' | 'failed' | 'stopped';
  /** The crash, for `restarting` and `failed`; for `degraded`, what cannot be done and since when. */
  error?: string;
  /** Dead-letter writes of this group, once any record took that path. */
  deadLetters?: DeadLetterStats;
}
