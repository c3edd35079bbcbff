import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import { parseTopicPartitionKey } from '../offsets/topic-partition-key';
import type { PartitionState } from '../offsets/partition-state';

/** The pool counts of one partition, when its handler has a pool. */
interface PoolCounts {
  partitionMetrics(key: string): { queued: number; running: number; completed: number } | undefined;
}

/** Counts, offsets and lag per owned partition: a pure view of the member's state. */
export function partitionMetrics(
  owned: ReadonlyMap<string, PartitionState>,
  poolOf: (state: PartitionState) => PoolCounts | undefined,
  pausedForBackpressure: (key: string) => boolean,
): PartitionMetrics[] {
  return [...owned].map(([key, state]) => {
    const { topic, partition } = parseTopicPartitionKey(key);
    const work = poolOf(state)?.partitionMetrics(key);
    const committed = state.tracker.committedOffset;
    const committable = state.tracker.committableOffset;
    const base = committed ?? committable;
    const lag = state.highWatermark !== undefined && base !== undefined ? Number(BigInt(state.highWatermark) - base) : undefined;
    return {
      topic,
      partition,
      handler: state.handler.name,
      queued: work?.queued ?? 0,
      running: work?.running ?? (state.tracker.inFlight > 0 ? 1 : 0),
      completed: work?.completed ?? 0,
      pausedForBackpressure: pausedForBackpressure(key),
      committedOffset: committed?.toString(),
      committableOffset: committable?.toString(),
      highWatermark: state.highWatermark,
      lag,
      finishedAhead: state.tracker.finishedAheadCount,
      skippedOnAssignment: state.tracker.skipped,
    };
  });
}
