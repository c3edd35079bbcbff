import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { ConsumerEngine, EngineCapabilities, EngineOffset, EngineSetup } from '../consumer-engine';
import { parseTopicPartitionKey } from '../../offsets/topic-partition-key';
import { toConsumerConfig } from './kafkajs-config';
import { isFencedError } from './kafkajs-errors';
import { ConsumerGroupExtension, installConsumerGroupExtension } from './consumer-group-extension';
import type { TopicPartition } from '../../interfaces/rebalance.interface';
import { StandaloneAssignment } from './standalone-assignment';

/** kafkajs 2.2 with the module's runtime extension (consumer-group-extension.ts). */
export const KAFKAJS_CAPABILITIES: EngineCapabilities = {
  customAssignors: true,
  staticMembership: true,
  nativeCooperative: false,
  commitMetadata: false,
  standaloneAssignment: true,
  kip848: false,
  enforcesPollInterval: false,
  assignmentStrategies: ['range', 'roundrobin', 'sticky', 'cooperative-sticky'],
};

type CommitSender = EachBatchPayload['commitOffsetsIfNecessary'];

/**
 * The kafkajs consumer of one group behind the engine interface: the only
 * place that runs a kafkajs consumer. Auto-commit is off and offsets are
 * resolved record by record, so an interrupted batch is fetched again.
 */
export class KafkajsConsumerEngine implements ConsumerEngine {
  readonly name = 'kafkajs';
  readonly capabilities = KAFKAJS_CAPABILITIES;
  private readonly consumer: Consumer;
  /** The live run's commit call and last batch: bound to the current run, replaced by every batch. */
  private sendCommit: CommitSender | undefined;
  private lastPayload: EachBatchPayload | undefined;
  /** A standalone consumer's partitions, set up in place of join and sync. */
  private readonly standalone: StandaloneAssignment | undefined;

  constructor(
    kafka: Kafka,
    private readonly setup: EngineSetup,
  ) {
    installConsumerGroupExtension();
    const { listener, settings } = setup;
    if (setup.standalone) this.standalone = new StandaloneAssignment(setup.standalone.partitions, { commitOffsets: setup.standalone.commitOffsets });
    const extension: ConsumerGroupExtension = {
      groupInstanceId: settings.groupInstanceId,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      beforeJoin: (memberLost) => listener.beforeJoin(memberLost),
      afterJoin: (joined) => listener.afterJoin(joined),
      standalone: this.standalone,
      fetchBudget: settings,
      pendingTopics: setup.pendingTopics,
      pollIntervalExceeded: () => listener.pollIntervalExceeded(),
      stopping: () => listener.stopping(),
    };
    this.consumer = kafka.consumer({
      ...toConsumerConfig(setup.groupId, settings, { clientRack: setup.clientRack }, setup.sticky, extension),
      // A fenced static member must stop: restarting would fence the other one in turn.
      // Nor does a consumer that is being stopped: nobody would stop the restarted one.
      retry: { restartOnFailure: async (error) => !listener.stopping() && !isFencedError(error) },
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (listener.stopping()) {
        // kafkajs decided to restart before the stop began; its timer is set right after this
        // event, so disconnect once it is: that clears the timer before the restart runs.
        if (payload.restart) setImmediate(() => void this.consumer.disconnect().catch(() => undefined));
        return;
      }
      listener.onCrash(payload.error, payload.restart);
    });
  }

  connect(): Promise<void> {
    return this.consumer.connect();
  }

  subscribe(topics: string[], fromBeginning: boolean): Promise<void> {
    return this.consumer.subscribe({ topics, fromBeginning });
  }

  run(partitionsConsumedConcurrently: number): Promise<void> {
    const { listener } = this.setup;
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: (payload) => {
        this.sendCommit = payload.commitOffsetsIfNecessary;
        this.lastPayload = payload;
        return listener.onBatch(payload.batch, payload);
      },
    });
  }

  pause(keys: string[]): void {
    this.consumer.pause(byTopic(keys));
  }

  resume(keys: string[]): void {
    this.consumer.resume(byTopic(keys));
  }

  pauseTopics(topics: string[]): void {
    if (topics.length === 0) return;
    try {
      this.consumer.pause(topics.map((topic) => ({ topic })));
    } catch {
      // Not running yet: nothing is being fetched.
    }
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  async commit(offsets: EngineOffset[]): Promise<void> {
    // kafkajs's consumer.commitOffsets silently does nothing once its runner has
    // stopped and retries generation errors itself; the batch payload's commit
    // goes straight to the coordinator with the current generation.
    if (!this.sendCommit) throw new Error('no batch fetched yet; nothing can be committed');
    const topics = new Map<string, Array<{ partition: number; offset: string; metadata?: string }>>();
    for (const { topic, partition, offset, metadata } of offsets) {
      const list = topics.get(topic) ?? [];
      // kafkajs hands each partition's fields to the OffsetCommit request as they are.
      list.push(metadata === undefined ? { partition, offset } : { partition, offset, metadata });
      topics.set(topic, list);
    }
    await this.sendCommit({ topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
  }

  async addPartitions(partitions: TopicPartition[], fromBeginning: (topic: string) => boolean): Promise<void> {
    if (!this.standalone) throw new Error('only a standalone consumer takes partitions; a group member gets them from the group');
    await this.standalone.prepare([...new Set(partitions.map((p) => p.topic))]);
    this.standalone.add(partitions, fromBeginning);
  }

  keepAlive(): void {
    this.lastPayload?.heartbeat().catch(() => undefined);
  }

  disconnect(): Promise<void> {
    return this.consumer.disconnect();
  }
}

function byTopic(keys: string[]): Array<{ topic: string; partitions: number[] }> {
  const topics = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = parseTopicPartitionKey(key);
    topics.set(topic, [...(topics.get(topic) ?? []), partition]);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
