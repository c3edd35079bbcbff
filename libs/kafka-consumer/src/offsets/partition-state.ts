import type { CommittablePartition } from '../commit/offset-committer';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { PartitionOffsetTracker } from './partition-offset-tracker';
import type { ResolvedHandler } from '../options/resolved-options';

/** What a member keeps per owned partition: its handler, offset tracker, manual-commit limit. */
export interface PartitionState extends CommittablePartition {
  handler: ResolvedHandler<BoundMethod>;
  /** Log end offset seen in the last fetch, for lag. */
  highWatermark?: string;
}

/** No progress yet; a manual handler commits nothing until it acknowledges. */
export function freshPartitionState(handler: ResolvedHandler<BoundMethod>): PartitionState {
  return {
    handler,
    tracker: new PartitionOffsetTracker(),
    limit: handler.commit.mode === 'manual' ? 0n : undefined,
    finishedAhead: handler.commitMetadata === 'finished-ahead',
  };
}

/** A record finished: its tracker hears it, and an acknowledging manual handler moves its commit limit. */
export function finishRecord(state: PartitionState, offset: string, acknowledged: boolean): void {
  state.tracker.finish(offset);
  if (state.handler.commit.mode === 'manual' && acknowledged) {
    const next = BigInt(offset) + 1n;
    if (state.limit === undefined || next > state.limit) state.limit = next;
  }
}
