import type { LoggerService } from '@nestjs/common';
import type { DiscoveredRebalanceHook } from '../discovery/kafka-handler.explorer';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { RebalanceContext, RebalanceHookKind, TopicPartition } from '../interfaces/rebalance.interface';
import { parseTopicPartitionKey } from '../offsets/topic-partition-key';

/** Calls a group's @OnPartitionsAssigned/Revoked/Lost methods; a hook that throws is logged and reported, never fatal. */
export class HookInvoker {
  constructor(
    private readonly hooks: DiscoveredRebalanceHook[],
    private readonly groupId: string,
    private readonly logger: LoggerService,
    private readonly reportFailure: (failure: KafkaConsumerFailure) => Promise<void>,
  ) {}

  /** Runs every hook of `kind` with the partitions (`topic partition` keys), sorted, one after another. */
  async run(kind: RebalanceHookKind, keys: string[], context: RebalanceContext): Promise<void> {
    const hooks = this.hooks.filter((hook) => hook.options.kind === kind);
    if (hooks.length === 0 || keys.length === 0) return;
    const partitions: TopicPartition[] = keys.map(parseTopicPartitionKey).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    for (const hook of hooks) {
      try {
        await hook.invoke(partitions, context);
      } catch (error) {
        this.logger.error(`group ${this.groupId}: rebalance hook ${hook.name} (${kind}) threw: ${(error as Error)?.message ?? error}`);
        await this.reportFailure({ kind: 'rebalance-hook', error, groupId: this.groupId });
      }
    }
  }
}
