import type { FetchedRecord } from '../engine/consumer-engine';
import type { CommitSchedule } from '../commit/commit-schedule';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { ResolvedHandler } from '../options/resolved-options';
import type { PartitionState } from '../offsets/partition-state';
import type { RecordProcessing } from './record-processor';
import type { WorkScheduler } from './work-scheduler';

/** The records of one partition from one fetch. */
export interface FetchedBatch {
  topic: string;
  partition: number;
  messages: FetchedRecord[];
  lastOffset(): string;
}

/** What a dispatcher may do with the fetch loop that handed it a batch. */
export interface BatchLoop {
  /** Stop now: shutdown, revocation, a seek (a new partition state), a stall, or the client stopped. */
  interrupted(): boolean;
  /** A commit learned that the generation ended: heartbeat (and so rejoin) at the next record. */
  mustRejoin(): boolean;
  /** The loop's heartbeat interval passed, or it must rejoin. */
  heartbeatDue(): boolean;
  /** Heartbeats; throws the rebalance the client must answer by rejoining (after committing). */
  heartbeat(): Promise<void>;
  /** Moves the fetch position past this record. */
  resolveOffset(offset: string): void;
}

/** A fetched batch to dispatch: where it came from, the loop that fetched it, the partition's state. */
export interface BatchJob {
  batch: FetchedBatch;
  loop: BatchLoop;
  /** The partition, as a `topic partition` key. */
  key: string;
  state: PartitionState;
}

/** One handler's parts at run time. */
export interface HandlerRuntime {
  handler: ResolvedHandler<BoundMethod>;
  processor: RecordProcessing;
  schedule: CommitSchedule;
  /** Its worker pool, when concurrency > 1. */
  pool?: WorkScheduler;
}

/** What dispatchers share from the member: clocks, record completion and commits. */
export interface DispatchServices {
  /** The per-partition clocks of the liveness monitor. */
  loopStarted(key: string): void;
  loopEnded(key: string): void;
  /** A record finished: its tracker, and a manual handler's commit limit. */
  finish(state: PartitionState, offset: string, acknowledged: boolean): void;
  /** Commits by the handler's policy; a promise only when the policy is synchronous. */
  commit(handler: ResolvedHandler<BoundMethod>, keys: string[]): Promise<void> | undefined;
}
