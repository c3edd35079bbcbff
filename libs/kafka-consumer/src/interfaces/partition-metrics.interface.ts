/** What a member knows of one owned partition: worker-pool counts, offsets and lag. */
export interface PartitionMetrics {
  topic: string;
  partition: number;
  handler: string;
  queued: number;
  running: number;
  completed: number;
  /** Fetching of this partition is paused because the worker pool holds its share of records. */
  pausedForBackpressure: boolean;
  /** Last committed offset (next to read), if any commit happened in this assignment. */
  committedOffset?: string;
  /** Offset after the contiguous finished records: what the next commit will carry. */
  committableOffset?: string;
  highWatermark?: string;
  /** highWatermark − committed offset (or − committable when nothing was committed yet). */
  lag?: number;
  /** Records finished above the first unfinished one (waiting for it; with commitMetadata 'finished-ahead', the map a commit carries). */
  finishedAhead: number;
  /** Records skipped since this member took the partition: finished by the previous owner (commit metadata). */
  skippedOnAssignment: number;
}
