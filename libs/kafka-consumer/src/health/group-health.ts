import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import type { ConsumerGroupStatus } from '../interfaces/rebalance.interface';

/** What a health check asks of the consumer groups. */
export interface KafkaHealthOptions {
  /** The groups to check (default: every group of this application). */
  groups?: string[];
  /** A group whose summed lag over the partitions it owns here exceeds this is down (default: lag is reported, never judged). */
  maxLag?: number;
}

/** One group as the health check sees it. */
export interface GroupHealth {
  status: 'up' | 'down';
  state: ConsumerGroupStatus['state'];
  /** Records behind on the partitions this instance owns (high watermark − committed). */
  lag: number;
  partitions: number;
  /** Why it is down, or what a degraded group waits on. */
  reason?: string;
}

/**
 * Judges one group: down when its consumer failed or stopped, or when its lag
 * is over `maxLag`; `running`, `restarting` (the client rejoins by itself) and
 * `degraded` (it consumes; a dead-letter topic waits) are up. Pure.
 */
export function groupHealth(status: ConsumerGroupStatus, metrics: PartitionMetrics[], maxLag: number | undefined): GroupHealth {
  const lag = metrics.reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
  const base = { state: status.state, lag, partitions: metrics.length };
  if (status.state === 'failed' || status.state === 'stopped') {
    return { status: 'down', ...base, reason: `consumer ${status.state}${status.error ? `: ${status.error}` : ''}` };
  }
  if (maxLag !== undefined && lag > maxLag) return { status: 'down', ...base, reason: `lag ${lag} is over maxLag ${maxLag}` };
  return status.state === 'degraded' && status.error ? { status: 'up', ...base, reason: status.error } : { status: 'up', ...base };
}
