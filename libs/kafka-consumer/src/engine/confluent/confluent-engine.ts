import type { LoggerService } from '@nestjs/common';
import type { KafkaConsumer, LibrdKafkaError, Message, TopicPartition, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { ConsumerEngine, EngineCapabilities, EngineOffset, EngineSetup } from '../consumer-engine';
import type { ResolvedModuleOptions } from '../../options/resolved-options';
import { parseTopicPartitionKey, partitionsByTopic, topicPartitionKey } from '../../offsets/topic-partition-key';
import { consumerConfig, logRdkafka } from './confluent-config';
import { CONFLUENT_ERRORS, RD } from './confluent-errors';
import type { ConfluentLibrary } from './confluent-library';
import { CommitResult, CommittingConsumer, ConfluentCommits } from './confluent-commits';
import { batchesOf, PartitionBatch, runLimited } from './confluent-records';
import { FatalError } from './confluent-fatal-error';

type TopicPartitionRef = { topic: string; partition: number };

/** The lower-level consumer with the calls its typings leave out (all in its lib/kafka-consumer.js). */
type RdConsumer = KafkaConsumer &
  CommittingConsumer & {
  rebalanceProtocol(): 'NONE' | 'EAGER' | 'COOPERATIVE';
  assignmentLost(): boolean;
  incrementalAssign(partitions: TopicPartitionOffset[]): void;
  incrementalUnassign(partitions: TopicPartition[]): void;
  setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void;
};

/** What librdkafka does itself, and what the module cannot add on top of it. */
export const CONFLUENT_CAPABILITIES: EngineCapabilities = {
  customAssignors: false,
  staticMembership: true,
  nativeCooperative: true,
  commitMetadata: false,
  standaloneAssignment: true,
  kip848: true,
  enforcesPollInterval: true,
  assignmentStrategies: ['range', 'roundrobin', 'cooperative-sticky'],
};

/** Records asked of librdkafka per consume call; it returns earlier when fewer are there. */
const CONSUME_BATCH = 1000;
/** How long one consume call waits for a first record. */
const CONSUME_WAIT_MS = 100;
/** librdkafka: start at the committed offset, else auto.offset.reset. */
const OFFSET_STORED = -1000;
const OFFSET_BEGINNING = -2;
const OFFSET_END = -1;

/**
 * The Confluent client (librdkafka) behind the engine interface, on its
 * lower-level KafkaConsumer: batched consume() in one fetch loop, records
 * handed to the core per partition. librdkafka heartbeats on its own thread
 * and runs the group protocol natively (range, roundrobin, cooperative-sticky,
 * static membership); its rebalance callback is awaited: the core's hooks run
 * before librdkafka changes the assignment. A batch the core leaves
 * unresolved is rewound (a seek to the first unresolved record), so it is
 * fetched again, as with kafkajs.
 */
export class ConfluentConsumerEngine implements ConsumerEngine {
  readonly name = 'confluent';
  readonly capabilities = CONFLUENT_CAPABILITIES;
  private readonly consumer: RdConsumer;
  private readonly topics = new Map<string, boolean>();
  /** The current assignment, by `topic partition` key. */
  private readonly assigned = new Set<string>();
  /** Seeks of partitions not assigned yet: applied when they are. */
  private readonly pendingSeeks = new Map<string, number>();
  /** Pauses of partitions not assigned yet: applied when they are. */
  private readonly pendingPauses = new Set<string>();
  /** Partitions sought while their batch ran: the batch must not rewind them. */
  private readonly soughtInBatch = new Set<string>();
  private running = false;
  private readonly fatal = new FatalError();
  /** Unsubscribed because a record ran past maxPollIntervalMs; subscribed again once it ends. */
  private leftForPollInterval = false;
  private loop: Promise<void> | undefined;
  private rebalance: Promise<void> = Promise.resolve();
  /** The batches of the last consume call being handed out; a rebalance waits for them. */
  private dispatching: Promise<void> = Promise.resolve();
  /** Inside a consume call: offset_commit_cb results are being served (not while a batch or a rebalance holds the loop). */
  private polling = false;
  /** A local count of assignments: librdkafka does not expose the group's generation. */
  private generation = 0;
  private joined: { promise: Promise<void>; resolve: () => void };
  private readonly commits = new ConfluentCommits(() => this.consumer, () => this.running && this.polling);

  constructor(
    library: ConfluentLibrary,
    options: ResolvedModuleOptions,
    private readonly setup: EngineSetup,
    private readonly logger: LoggerService,
  ) {
    let resolve!: () => void;
    this.joined = { promise: new Promise<void>((r) => (resolve = r)), resolve };
    const config = {
      ...consumerConfig(options, setup.groupId, setup.settings),
      event_cb: true,
      rebalance_cb: (error: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(error, assignment),
      offset_commit_cb: (error: LibrdKafkaError | null, partitions: CommitResult['partitions']) => this.commits.onResult(error, partitions),
    };
    // auto.offset.reset is a topic setting: the binding's topic configuration replaces librdkafka's default one.
    this.consumer = new library.KafkaConsumer(config as never, { 'auto.offset.reset': setup.settings.autoOffsetReset }) as RdConsumer;
    this.consumer.on('event.log', (event: { severity: number; fac: string; message: string }) => {
      this.fatal.noteLog(event);
      logRdkafka(logger, setup.groupId, event);
    });
    this.consumer.on('event.error', (error: LibrdKafkaError) => this.onError(error));
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => this.consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  }

  async subscribe(topics: string[], fromBeginning: boolean): Promise<void> {
    for (const topic of topics) this.topics.set(topic, fromBeginning);
  }

  async run(partitionsConsumedConcurrently: number): Promise<void> {
    this.consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
    // Return as soon as records are there rather than after the whole wait.
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
    const { standalone } = this.setup;
    if (standalone) await this.assignStandalone(standalone.partitions);
    else if (this.topics.size > 0) this.consumer.subscribe([...this.topics.keys()]);
    // No topic exists yet: nothing to join until one appears (subscribeAll subscribes then).
    else this.joined.resolve();
    this.running = true;
    this.loop = this.fetchLoop(Math.max(1, partitionsConsumedConcurrently));
    await this.joined.promise;
  }

  pause(keys: string[]): void {
    const now = keys.filter((key) => this.assigned.has(key));
    for (const key of keys) if (!this.assigned.has(key)) this.pendingPauses.add(key);
    if (now.length > 0) this.consumer.pause(now.map((key) => parseTopicPartitionKey(key)));
  }

  resume(keys: string[]): void {
    for (const key of keys) this.pendingPauses.delete(key);
    const now = keys.filter((key) => this.assigned.has(key));
    if (now.length > 0) this.consumer.resume(now.map((key) => parseTopicPartitionKey(key)));
  }

  pauseTopics(topics: string[]): void {
    const keys = [...this.assigned].filter((key) => topics.includes(parseTopicPartitionKey(key).topic));
    try {
      if (keys.length > 0) this.pause(keys);
    } catch {
      // Not consuming (closing): nothing is fetched.
    }
  }

  seek(topic: string, partition: number, offset: string): void {
    const key = topicPartitionKey(topic, partition);
    if (!this.assigned.has(key)) {
      this.pendingSeeks.set(key, Number(offset));
      return;
    }
    // A seek during the partition's batch: dispatch must not rewind it afterwards.
    this.soughtInBatch.add(key);
    this.moveTo(topic, partition, offset);
  }

  private moveTo(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset: Number(offset) }, 0, (error) => {
      if (error) this.logger.error(`group ${this.setup.groupId}: seek of ${topic}[${partition}] to ${offset} failed: ${error.message}`);
    });
  }

  commit(offsets: EngineOffset[]): Promise<void> {
    return this.commits.commit(offsets);
  }

  /**
   * Standalone (§4.11): partitions join the running assignment incrementally;
   * the others keep their positions. Seeks and pauses asked for before apply.
   */
  async addPartitions(partitions: TopicPartitionRef[], fromBeginning: (topic: string) => boolean): Promise<void> {
    if (!this.setup.standalone) throw new Error('only a standalone consumer takes partitions; a group member gets them from the group');
    const added = partitions.filter(({ topic, partition }) => !this.assigned.has(topicPartitionKey(topic, partition)));
    for (const { topic } of added) if (!this.topics.has(topic)) this.topics.set(topic, fromBeginning(topic));
    await this.rebalance;
    const starts = await this.startOffsets(added);
    for (const { topic, partition } of added) this.assigned.add(topicPartitionKey(topic, partition));
    this.consumer.incrementalAssign(starts);
    this.applyPendingPauses(added);
  }

  /**
   * librdkafka heartbeats on its own thread, and its max.poll.interval.ms
   * only sees the fetch loop, which polls on while a pooled record runs. A
   * dynamic member whose record is past maxPollIntervalMs leaves here, as a
   * stuck Java poll loop's would; a static one keeps its place (its session decides).
   */
  keepAlive(): void {
    const { listener, settings, standalone } = this.setup;
    if (this.leftForPollInterval || !this.running || standalone || settings.groupInstanceId !== undefined || !listener.pollIntervalExceeded()) return;
    this.leftForPollInterval = true;
    this.consumer.unsubscribe(); // the revoke is served by the next consume, then librdkafka sends LeaveGroup
  }

  async disconnect(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.rebalance;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  private async fetchLoop(concurrency: number): Promise<void> {
    const { listener, pendingTopics } = this.setup;
    while (this.running && !listener.stopping()) {
      if (this.leftForPollInterval) this.rejoinAfterStall();
      if (pendingTopics.size > 0 && !this.leftForPollInterval) this.subscribeAll();
      const messages = await this.consume();
      // A rebalance callback runs inside consume: let it finish before handing anything out.
      await this.rebalance;
      // Left for a stall: what comes before the revoke is no longer this member's (its committed offset stands).
      if (messages.length === 0 || !this.running || listener.stopping() || this.leftForPollInterval) continue;
      const batches = batchesOf(messages, (key) => this.assigned.has(key), (topic, partition) => this.highWatermark(topic, partition));
      this.dispatching = runLimited(batches, concurrency, (batch) => this.dispatch(batch));
      await this.dispatching;
    }
  }

  private consume(): Promise<Message[]> {
    this.polling = true;
    return new Promise((resolve) =>
      this.consumer.consume(CONSUME_BATCH, (error, messages) => {
        this.polling = false;
        if (error && error.code !== RD.TIMED_OUT) this.onError(error, 'consume');
        resolve(error ? [] : messages);
      }),
    );
  }

  /** One partition's records to the core; what it leaves unresolved is fetched again. */
  private async dispatch(batch: PartitionBatch): Promise<void> {
    const key = topicPartitionKey(batch.topic, batch.partition);
    this.soughtInBatch.delete(key);
    let resolved: string | undefined;
    let stopped = false;
    const control = {
      resolveOffset: (offset: string) => void (resolved = offset),
      heartbeat: async () => undefined,
      isRunning: () => this.running && !stopped && this.assigned.has(key),
    };
    try {
      await this.setup.listener.onBatch(batch, control);
    } catch (error) {
      stopped = true;
      // A generation the commit learned was over: librdkafka rejoins by itself.
      if (!CONFLUENT_ERRORS.isGeneration(error)) {
        this.logger.error(`group ${this.setup.groupId}: batch of ${batch.topic}[${batch.partition}] failed: ${(error as Error)?.message ?? error}`);
      }
    }
    const next = resolved === undefined ? batch.messages[0].offset : String(BigInt(resolved) + 1n);
    const complete = resolved !== undefined && resolved === batch.lastOffset();
    if (!complete && this.assigned.has(key) && !this.soughtInBatch.has(key) && this.running) {
      this.moveTo(batch.topic, batch.partition, next);
    }
  }

  /** A standalone consumer's partitions: assigned directly, no group membership (generation -1 commits). */
  private async assignStandalone(partitions: Record<string, number[]>): Promise<void> {
    const list = Object.entries(partitions).flatMap(([topic, numbers]) => numbers.map((partition) => ({ topic, partition })));
    const keys = list.map(({ topic, partition }) => topicPartitionKey(topic, partition));
    await this.setup.listener.afterJoin({ memberId: '', generationId: -1, assignment: this.assignmentByTopic(keys) });
    this.consumer.assign(await this.startOffsets(list));
    for (const key of keys) this.assigned.add(key);
    this.applyPendingPauses(list);
    this.joined.resolve();
  }

  private applyPendingPauses(partitions: TopicPartitionRef[]): void {
    const keys = partitions.map(({ topic, partition }) => topicPartitionKey(topic, partition)).filter((key) => this.pendingPauses.delete(key));
    if (keys.length > 0) this.consumer.pause(keys.map((key) => parseTopicPartitionKey(key)));
  }

  /** The log end offset librdkafka saw in its last fetch of the partition, for lag. */
  private highWatermark(topic: string, partition: number): string | undefined {
    try {
      const { highOffset } = this.consumer.getWatermarkOffsets(topic, partition);
      return highOffset >= 0 ? String(highOffset) : undefined;
    } catch {
      return undefined; // none cached yet
    }
  }

  /** The stall ended and the lost partitions are given up: join again with the whole subscription. */
  private rejoinAfterStall(): void {
    if (this.setup.listener.pollIntervalExceeded() || this.assigned.size > 0) return;
    this.leftForPollInterval = false;
    this.subscribeAll();
  }

  /** With new topics of a pattern, the subscription grows (librdkafka rejoins; cooperative keeps the rest fetching). */
  private subscribeAll(): void {
    const { pendingTopics } = this.setup;
    for (const [topic, fromBeginning] of pendingTopics) this.topics.set(topic, fromBeginning);
    pendingTopics.clear();
    if (this.topics.size > 0) this.consumer.subscribe([...this.topics.keys()]);
  }

  private onRebalance(error: LibrdKafkaError, assignment: TopicPartition[]): void {
    const step = this.rebalance.then(() => this.handleRebalance(error.code, assignment));
    this.rebalance = step.catch((failure) => this.logger.error(`group ${this.setup.groupId}: rebalance failed: ${(failure as Error)?.stack ?? failure}`));
  }

  /**
   * Eager: revoke-all → the core drains and commits (beforeJoin), then
   * unassign; assign-all → afterJoin (revoked and assigned hooks), then assign.
   * Cooperative: each callback carries only the partitions that move;
   * afterJoin gets the whole assignment after the change. A lost assignment
   * (session expired, fenced) commits nothing.
   */
  private async handleRebalance(code: number, partitions: TopicPartition[]): Promise<void> {
    const { listener } = this.setup;
    // As in a Java poll loop: no batch is being handled while the assignment changes.
    await this.dispatching;
    const cooperative = this.consumer.rebalanceProtocol() === 'COOPERATIVE';
    const keys = partitions.map(({ topic, partition }) => topicPartitionKey(topic, partition));
    if (code === RD.ASSIGN_PARTITIONS) {
      // Hooks run first; their seeks and pauses wait in pendingSeeks/pendingPauses until librdkafka has the partitions.
      if (!listener.stopping()) await listener.afterJoin({ memberId: '', generationId: ++this.generation, assignment: this.assignmentByTopic(keys) });
      const starts = await this.startOffsets(partitions);
      if (cooperative) this.consumer.incrementalAssign(starts);
      else this.consumer.assign(starts);
      for (const key of keys) this.assigned.add(key);
      this.applyPendingPauses(partitions);
      this.joined.resolve();
      return;
    }
    if (code !== RD.REVOKE_PARTITIONS) {
      this.logger.error(`group ${this.setup.groupId}: rebalance error: ${code}`);
      return;
    }
    if (!listener.stopping()) {
      // Given up for a stall, as Java's: lost, not revoked (nothing is committed for them).
      if (this.consumer.assignmentLost() || this.leftForPollInterval) await listener.beforeJoin(true);
      else if (!cooperative) await listener.beforeJoin(false);
      else {
        for (const key of keys) this.assigned.delete(key);
        await listener.afterJoin({ memberId: '', generationId: this.generation, assignment: this.assignmentByTopic() });
      }
    }
    for (const key of keys) this.assigned.delete(key);
    if (cooperative) this.consumer.incrementalUnassign(partitions);
    else this.consumer.unassign();
  }

  /**
   * Where each assigned partition starts: a seek made before (by an
   * @OnPartitionsAssigned hook), else its committed offset; without one, the
   * topic's own start when it differs from the group's auto.offset.reset.
   */
  private async startOffsets(partitions: TopicPartitionRef[]): Promise<TopicPartitionOffset[]> {
    const reset = this.setup.settings.autoOffsetReset === 'earliest';
    const own = partitions.filter(({ topic }) => (this.topics.get(topic) ?? reset) !== reset);
    const committed = own.length > 0 ? await this.committed(own) : new Map<string, number>();
    return partitions.map(({ topic, partition }) => {
      const key = topicPartitionKey(topic, partition);
      const sought = this.pendingSeeks.get(key);
      this.pendingSeeks.delete(key);
      if (sought !== undefined) return { topic, partition, offset: sought };
      const done = committed.get(key);
      if (done === undefined || done >= 0) return { topic, partition, offset: OFFSET_STORED };
      return { topic, partition, offset: this.topics.get(topic) ? OFFSET_BEGINNING : OFFSET_END };
    });
  }

  private committed(partitions: TopicPartitionRef[]): Promise<Map<string, number>> {
    return new Promise((resolve) =>
      this.consumer.committed(partitions, 10_000, (error, list) => {
        if (error) {
          this.logger.warn?.(`group ${this.setup.groupId}: committed offsets unknown (${error.message}); partitions start by autoOffsetReset`);
          return resolve(new Map());
        }
        resolve(new Map(list.map(({ topic, partition, offset }) => [topicPartitionKey(topic, partition), offset])));
      }),
    );
  }

  /** The assignment by topic, with `adding` (about to be assigned) counted in. */
  private assignmentByTopic(adding: string[] = []): Record<string, number[]> {
    return partitionsByTopic([...this.assigned, ...adding]);
  }

  /** librdkafka's errors (its error events, consume()): logged, unless they end the consumer. */
  private onError(error: LibrdKafkaError, source = 'librdkafka'): void {
    if (FatalError.is(error)) void this.onFatal(error);
    else this.logger.warn?.(`group ${this.setup.groupId}: ${source}: ${error.message}`);
  }

  /** A fatal error (a fenced static member) ends the consumer for good. */
  private async onFatal(error: LibrdKafkaError): Promise<void> {
    this.running = false;
    this.joined.resolve();
    const failure = await this.fatal.describe(error);
    if (failure) this.setup.listener.onCrash(failure, false);
  }
}
