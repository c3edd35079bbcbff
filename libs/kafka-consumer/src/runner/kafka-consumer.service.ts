import { Injectable } from '@nestjs/common';
import { KafkaConsumerOrchestrator } from './kafka-consumer.orchestrator';
import type { ConsumerGroupStatus, GroupMembership } from '../interfaces/rebalance.interface';
import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import type { SeekPosition } from '../interfaces/seek-position.interface';

/** Operations on running consumer groups, for application code (replay, recovery). */
@Injectable()
export class KafkaConsumerService {
  constructor(private readonly orchestrator: KafkaConsumerOrchestrator) {}

  /** The consumer groups of this application. */
  groupIds(): string[] {
    return this.orchestrator.groupIds();
  }

  /** Partitions each group owns on this instance, as `topic partition` keys. */
  assignments(): Record<string, string[]> {
    return this.orchestrator.assignments();
  }

  /** Worker-pool queue depth, records in flight and completed, committed offset and lag per owned partition. */
  metrics(groupId: string): PartitionMetrics[] {
    return this.orchestrator.runner(groupId).metrics();
  }

  /** Whether a group consumes: running, restarting after a crash, failed for good (with the error) or stopped. For health checks. */
  status(groupId: string): ConsumerGroupStatus {
    return this.orchestrator.runner(groupId).status();
  }

  /** Member id, generation and assignment of this instance in a running group. */
  membership(groupId: string): GroupMembership {
    return this.orchestrator.runner(groupId).membership();
  }

  /**
   * Standalone consumers (§4.11): looks for partitions added to the topics the
   * group reads in full and starts reading them, now rather than at the next
   * `partitionDiscoveryIntervalMs`. Resolves with the partitions taken.
   */
  discoverPartitions(groupId: string): Promise<string[]> {
    return this.orchestrator.runner(groupId).discoverPartitions();
  }

  /** Seeks an owned partition of a running group; returns the offset it will read next. */
  async seek(groupId: string, topic: string, partition: number, position: SeekPosition): Promise<string> {
    return this.orchestrator.runner(groupId).seek(topic, partition, position);
  }
}
