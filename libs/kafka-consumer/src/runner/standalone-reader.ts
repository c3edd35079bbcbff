import type { LoggerService } from '@nestjs/common';
import type { ClientErrors, ClusterAdmin } from '../engine/kafka-client';
import type { ConsumerEngine, StandaloneSetup } from '../engine/consumer-engine';
import type { OffsetToCommit } from '../commit/offset-committer';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { TopicPartition } from '../interfaces/rebalance.interface';
import { topicPartitionKey } from '../offsets/topic-partition-key';
import type { ResolvedStandalone } from '../options/resolve-standalone';
import { partitionsToAdd, planStandalone, TopicMetadata } from './standalone-partitions';

export interface StandaloneReaderDeps {
  admin: ClusterAdmin;
  errors: Pick<ClientErrors, 'isGeneration'>;
  groupId: string;
  settings: ResolvedStandalone;
  logger: LoggerService;
  reportFailure: (failure: KafkaConsumerFailure) => Promise<void>;
  /** Where a partition without a committed offset starts: the handler's fromBeginning, else autoOffsetReset. */
  startsFromBeginning: (topic: string) => boolean;
  stopping: () => boolean;
}

/** What the reader does with the running engine. */
type StandaloneConsumer = Pick<ConsumerEngine, 'seek' | 'pause' | 'resume' | 'addPartitions'>;

/** The runner's side of taking partitions: track them and run @OnPartitionsAssigned. */
export type AdoptPartitions = (partitions: TopicPartition[]) => Promise<void>;

/**
 * The standalone side of a group's runner (§4.11): which partitions to read
 * at startup, partition discovery, and what a refused commit means. The
 * client set-up itself is the engine's.
 */
export class StandaloneReader {
  private timer: NodeJS.Timeout | undefined;
  /** Discovery runs one at a time, in call order. */
  private discovery: Promise<unknown> = Promise.resolve();
  private pending = false;
  private consumer: StandaloneConsumer | undefined;
  private adopt: AdoptPartitions | undefined;

  private constructor(
    private readonly deps: StandaloneReaderDeps,
    /** What the consumer reads, by topic; partitions are only ever added. */
    private readonly current: Map<string, number[]>,
    private readonly commitOffsets: boolean,
    /** Partitions the metadata listed at startup; the others were created later. */
    private readonly listedAtStartup: ReadonlySet<string>,
  ) {}

  /**
   * The partitions to read at startup, from the topic metadata. Given
   * partitions must exist; so must topics read in full, unless discovery will
   * wait for them.
   */
  static async plan(deps: StandaloneReaderDeps): Promise<StandaloneReader> {
    const { settings, groupId, logger } = deps;
    const discovery = settings.partitionDiscoveryIntervalMs > 0;
    const metadata = await topicMetadata(deps.admin, settings.assign.map((entry) => entry.topic));
    const plan = planStandalone(settings.assign, metadata, discovery);
    if (plan.missing.length > 0) {
      throw new Error(
        `group ${groupId}: the standalone consumer is to read ${plan.missing.join(', ')}, which ${plan.missing.length > 1 ? 'do' : 'does'} not exist` +
          (discovery ? '' : '; create them first, or set standalone.partitionDiscoveryIntervalMs to take a topic read in full once it exists'),
      );
    }
    if (plan.waiting.length > 0) {
      logger.warn?.(`group ${groupId}: ${plan.waiting.join(', ')} not there yet (missing or without a leader); the standalone consumer takes them once they are`);
    }
    const listed = new Set<string>();
    for (const [topic, partitions] of metadata) for (const { partition } of partitions) listed.add(topicPartitionKey(topic, partition));
    return new StandaloneReader(deps, new Map(Object.entries(plan.assignment)), settings.commitOffsets, listed);
  }

  /** What the engine reads from the start. */
  setup(): StandaloneSetup {
    return { partitions: this.partitions(), commitOffsets: this.commitOffsets };
  }

  /** The partitions read now, by topic. */
  partitions(): Record<string, number[]> {
    return Object.fromEntries([...this.current].map(([topic, partitions]) => [topic, [...partitions]]));
  }

  /** Once the consumer runs: periodic discovery, if configured. */
  start(consumer: StandaloneConsumer, adopt: AdoptPartitions): void {
    this.consumer = consumer;
    this.adopt = adopt;
    const interval = this.deps.settings.partitionDiscoveryIntervalMs;
    if (interval > 0) this.timer = setInterval(() => this.discoverOnTimer(), interval);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Partition discovery (§4.11: Java's assign() does not notice partitions
   * added later), now. Resolves with the partitions taken, as `topic partition`.
   */
  discover(): Promise<string[]> {
    const run = this.discovery.then(() => this.takeAddedPartitions());
    this.discovery = run.catch(() => undefined);
    return run;
  }

  /**
   * Kafka accepts commits from a consumer outside group management only while
   * the group has no members: a refusal means group-managed consumers use this
   * groupId. Not a rebalance: nothing to rejoin; the offsets stay pending.
   */
  onCommitFailure(error: unknown, offsets: OffsetToCommit[]): void {
    const { groupId, logger } = this.deps;
    const detail = offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(', ');
    const hint = this.deps.errors.isGeneration(error)
      ? `; Kafka takes commits from a standalone consumer (generation -1) only while group "${groupId}" has no members: give it a groupId no group-managed consumer uses (the librdkafka mock also refuses once the group has ever had members)`
      : '';
    logger.error(`group ${groupId}: standalone commit of ${detail} failed: ${(error as Error)?.message ?? error}${hint}`);
    void this.deps.reportFailure({ kind: 'commit', error, groupId });
  }

  private discoverOnTimer(): void {
    if (this.pending) return;
    this.pending = true;
    this.discover()
      .catch((error) => this.deps.logger.error(`group ${this.deps.groupId}: partition discovery failed: ${(error as Error)?.message ?? error}; retrying at the next interval`))
      .finally(() => (this.pending = false));
  }

  /**
   * Adds the partitions found to the running consumer in place, so the
   * partitions it reads keep their positions and in-flight work: nothing is
   * fetched twice or skipped. A partition created after startup starts at its
   * committed offset if the group has one, else at its beginning (every record
   * in it is new to this consumer); one listed at startup without a leader
   * starts as the initial ones do. @OnPartitionsAssigned runs before the first
   * fetch, and its ctx.seek wins over these start positions.
   */
  private async takeAddedPartitions(): Promise<string[]> {
    const { consumer, adopt, deps } = this;
    if (!consumer || !adopt || deps.stopping()) return [];
    const { assign } = deps.settings;
    const metadata = await topicMetadata(deps.admin, assign.filter((entry) => !entry.partitions).map((entry) => entry.topic));
    const added = partitionsToAdd(assign, metadata, this.partitions());
    if (added.length === 0 || deps.stopping()) return [];
    const starts = await this.beginningOfCreated(added.filter((p) => !this.listedAtStartup.has(topicPartitionKey(p.topic, p.partition))));
    if (deps.stopping()) return [];
    const keys = added.map((p) => topicPartitionKey(p.topic, p.partition));
    deps.logger.log?.(`group ${deps.groupId}: the standalone consumer takes added partitions ${keys.join(', ')}`);
    for (const { topic, partition, offset } of starts) consumer.seek(topic, partition, offset);
    // Held until the hooks have run: nothing of them is fetched before @OnPartitionsAssigned returns.
    consumer.pause(keys);
    for (const { topic, partition } of added) this.current.set(topic, [...(this.current.get(topic) ?? []), partition].sort((a, b) => a - b));
    await consumer.addPartitions(added, deps.startsFromBeginning);
    await adopt(added);
    if (!deps.stopping()) consumer.resume(keys);
    return keys;
  }

  /** Beginning offsets of the partitions that have no committed offset in this group. */
  private async beginningOfCreated(partitions: TopicPartition[]): Promise<Array<TopicPartition & { offset: string }>> {
    const { admin, groupId } = this.deps;
    const topics = [...new Set(partitions.map((p) => p.topic))];
    if (topics.length === 0) return [];
    const committed = await admin.committed(groupId, topics);
    const starts: Array<TopicPartition & { offset: string }> = [];
    for (const topic of topics) {
      const low = new Map((await admin.watermarks(topic)).map((o) => [o.partition, o.low]));
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const { partition } of partitions.filter((p) => p.topic === topic)) {
        const offset = done.find((c) => c.partition === partition)?.offset;
        if (offset !== undefined && BigInt(offset) >= 0n) continue; // kafkajs starts at the committed offset
        starts.push({ topic, partition, offset: low.get(partition) ?? '0' });
      }
    }
    return starts;
  }
}

/** Partitions (with their leaders) of those of `topics` that exist. */
async function topicMetadata(admin: ClusterAdmin, topics: string[]): Promise<TopicMetadata> {
  if (topics.length === 0) return new Map();
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length === 0) return new Map();
  const listed = await admin.partitions(present);
  return new Map(listed.map((t) => [t.topic, t.partitions]));
}
