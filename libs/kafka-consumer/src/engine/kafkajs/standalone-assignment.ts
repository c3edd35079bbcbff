import type { TopicPartition } from '../../interfaces/rebalance.interface';
import type { JoinedGroup } from './consumer-group-extension';

type OffsetsByTopic = Record<string, Record<string, string>>;

/** The parts of kafkajs's OffsetManager a standalone consumer adjusts. */
interface KafkajsOffsetManager {
  coordinator: unknown;
  memberAssignment: Record<string, number[]>;
  topics: string[];
  resolvedOffsets: OffsetsByTopic;
  committedOffsets(): OffsetsByTopic;
  commitOffsets(offsets?: unknown): Promise<void>;
  setDefaultOffset(args: { topic: string; partition: number }): Promise<void>;
}

/** The parts of kafkajs's ConsumerGroup a standalone consumer sets up in place of join and sync. */
export interface StandaloneConsumerGroup {
  groupId: string;
  memberId: string | null;
  generationId: number | null;
  leaderId: string | null;
  topics: string[];
  topicConfigurations: Record<string, { fromBeginning?: boolean }>;
  instrumentationEmitter: unknown;
  autoCommitInterval: number | null;
  autoCommitThreshold: number | null;
  coordinator: unknown;
  offsetManager: unknown;
  subscriptionState: { assign(assignment: Array<{ topic: string; partitions: number[] }>): void };
  cluster: {
    findGroupCoordinator(args: { groupId: string }): Promise<unknown>;
    refreshMetadata(): Promise<void>;
    refreshMetadataIfNecessary(): Promise<void>;
    addMultipleTargetTopics(topics: string[]): Promise<void>;
    fetchTopicsOffset(
      topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning?: boolean }>,
    ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  };
}

/** The coordinator of the group moved or is not ready: look it up again before the next attempt. */
const COORDINATOR_ERRORS = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE']);

/**
 * The partitions a standalone consumer (§4.11) reads, and the kafkajs set-up
 * that replaces JoinGroup + SyncGroup: the partitions go straight into the
 * consumer group's subscription state, and an OffsetManager with generation -1
 * and an empty member id fetches committed offsets under the groupId and
 * commits there, as Kafka expects from a consumer outside group management.
 *
 * Partitions are only ever added. Adding happens in place on the running
 * consumer: partitions it already reads keep their fetch positions and
 * offsets, so nothing is fetched twice or skipped across the change.
 */
export class StandaloneAssignment {
  private readonly current = new Map<string, number[]>();
  private group: StandaloneConsumerGroup | undefined;

  constructor(
    initial: Record<string, number[]>,
    private readonly options: { commitOffsets: boolean },
  ) {
    for (const [topic, partitions] of Object.entries(initial)) this.current.set(topic, [...partitions].sort((a, b) => a - b));
  }

  /** The partitions read now, by topic. */
  partitions(): Record<string, number[]> {
    return Object.fromEntries([...this.current].map(([topic, partitions]) => [topic, [...partitions]]));
  }

  /**
   * In place of join and sync; kafkajs calls it when the consumer starts (and
   * again after some fetch errors). A new consumer group object (the consumer
   * was started or restarted) gets a fresh OffsetManager: reading starts at
   * the committed offsets. The same object keeps its OffsetManager, and with
   * it every fetch position.
   */
  async apply(group: StandaloneConsumerGroup): Promise<JoinedGroup> {
    const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId });
    group.coordinator = coordinator;
    await group.cluster.refreshMetadataIfNecessary();
    group.memberId = '';
    group.generationId = -1;
    group.leaderId = null;
    if (this.group !== group || !group.offsetManager) {
      group.offsetManager = this.createOffsetManager(group);
      this.group = group;
    }
    (group.offsetManager as KafkajsOffsetManager).coordinator = coordinator;
    this.install(group);
    return { memberId: '', generationId: -1, assignment: this.partitions() };
  }

  /**
   * Makes the running consumer's metadata cover `topics` with their current
   * partitions and leaders; call before `add`, which cannot wait.
   */
  async prepare(topics: string[]): Promise<void> {
    const group = this.group;
    if (!group) return;
    const unknown = topics.filter((topic) => !this.current.has(topic));
    if (unknown.length > 0) await group.cluster.addMultipleTargetTopics(unknown);
    // kafkajs fetches a partition from the leader its cached metadata names.
    await group.cluster.refreshMetadata();
  }

  /**
   * Adds partitions to the running consumer. Synchronous, so a fetch sees the
   * old set or the new one, never half of it. Where an added partition starts
   * is the caller's `consumer.seek` (applied by kafkajs at its first fetch of
   * it); without one, the committed offset or the topic's reset policy.
   */
  add(partitions: TopicPartition[], fromBeginning: (topic: string) => boolean): void {
    for (const { topic, partition } of partitions) {
      const list = this.current.get(topic) ?? [];
      if (!list.includes(partition)) list.push(partition);
      this.current.set(topic, list.sort((a, b) => a - b));
    }
    const group = this.group;
    if (!group) return; // not running: the next start reads the new set
    for (const { topic } of partitions) group.topicConfigurations[topic] ??= { fromBeginning: fromBeginning(topic) };
    this.install(group);
  }

  /** Puts the current partitions into the consumer group's subscription state and offset manager. */
  private install(group: StandaloneConsumerGroup): void {
    const list = [...this.current].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
    group.topics = list.map((entry) => entry.topic);
    group.subscriptionState.assign(list);
    const offsets = group.offsetManager as KafkajsOffsetManager;
    offsets.memberAssignment = this.partitions();
    offsets.topics = group.topics;
    const committed = offsets.committedOffsets();
    for (const topic of group.topics) {
      offsets.resolvedOffsets[topic] ??= {};
      committed[topic] ??= {};
    }
  }

  private createOffsetManager(group: StandaloneConsumerGroup): KafkajsOffsetManager {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const OffsetManager = require('kafkajs/src/consumer/offsetManager') as new (args: Record<string, unknown>) => KafkajsOffsetManager;
    const offsets = new OffsetManager({
      cluster: group.cluster,
      topicConfigurations: group.topicConfigurations,
      instrumentationEmitter: group.instrumentationEmitter,
      memberAssignment: this.partitions(),
      autoCommit: false,
      autoCommitInterval: group.autoCommitInterval,
      autoCommitThreshold: group.autoCommitThreshold,
      coordinator: group.coordinator,
      groupId: group.groupId,
      generationId: -1,
      memberId: '',
    });
    // No heartbeat or rejoin finds a moved coordinator for a standalone consumer: a commit does.
    const commitOffsets = offsets.commitOffsets.bind(offsets);
    offsets.commitOffsets = async (args) => {
      try {
        await commitOffsets(args);
      } catch (error) {
        if (COORDINATOR_ERRORS.has((error as { type?: string })?.type ?? '')) {
          const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId }).catch(() => undefined);
          if (coordinator) offsets.coordinator = group.coordinator = coordinator;
        }
        throw error;
      }
    };
    if (!this.options.commitOffsets) {
      // kafkajs commits the reset position after OFFSET_OUT_OF_RANGE; a consumer told never to commit only moves.
      offsets.setDefaultOffset = async ({ topic, partition }) => {
        const [entry] = await group.cluster.fetchTopicsOffset([{ topic, partitions: [{ partition }], ...group.topicConfigurations[topic] }]);
        const offset = entry.partitions.find((p) => p.partition === partition)!.offset;
        offsets.committedOffsets()[topic][partition] = offset;
        offsets.resolvedOffsets[topic][partition] = offset;
      };
    }
    return offsets;
  }
}
