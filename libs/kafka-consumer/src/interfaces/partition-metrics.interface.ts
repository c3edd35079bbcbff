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
}
