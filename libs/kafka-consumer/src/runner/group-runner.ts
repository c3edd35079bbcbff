import type { LoggerService } from '@nestjs/common';
import type { Admin, Consumer, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { CommitSchedule } from '../commit/commit-schedule';
import { CommittablePartition, OffsetCommitter, OffsetToCommit } from '../commit/offset-committer';
import { StickyMemberState } from '../assignors/sticky-member-state';
import { revokedPartitions } from '../assignors/cooperative';
import type { BoundMethod, DiscoveredRebalanceHook } from '../discovery/kafka-handler.explorer';
import { DeadLetterPublisher } from '../dispatch/dead-letter-publisher';
import { DeadLetterOutages } from '../dispatch/dead-letter-outages';
import { createThreadPool, ThreadPool } from '../dispatch/thread-pool';
import { laneFor, WorkItem, WorkScheduler } from '../dispatch/work-scheduler';
import { contextFields, ProcessOutcome, RecordProcessor } from '../dispatch/record-processor';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { KafkaMessageContext } from '../interfaces/message-context.interface';
import type { ConsumerGroupStatus, GroupMembership, RebalanceContext, RebalanceHookKind, TopicPartition } from '../interfaces/rebalance.interface';
import { ConsumerGroupExtension, installConsumerGroupExtension, JoinedGroup } from '../kafkajs/consumer-group-extension';
import { PartitionOffsetTracker } from '../offsets/partition-offset-tracker';
import { parseTopicPartitionKey, topicPartitionKey } from '../offsets/topic-partition-key';
import { ResolvedGroup, ResolvedHandler, ResolvedModuleOptions, matches, routeTopic } from '../options/resolve-options';
import type { ResolvedStandalone } from '../options/resolve-standalone';
import { toConsumerConfig } from '../options/to-kafkajs-config';
import { sleep } from '../utils/backoff';
import { isFencedError, isGenerationError, isRetriableCommitError } from './kafka-errors';
import { SeekPosition, resolveSeekPosition } from './seek-position';
import { StandaloneReader } from './standalone-reader';

type Handler = ResolvedHandler<BoundMethod>;
type CommitSender = EachBatchPayload['commitOffsetsIfNecessary'];

interface PartitionState extends CommittablePartition {
  handler: Handler;
  /** Log end offset seen in the last fetch, for lag. */
  highWatermark?: string;
}

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

export interface GroupRunnerDeps {
  kafka: Kafka;
  admin: Admin;
  group: ResolvedGroup<BoundMethod>;
  options: ResolvedModuleOptions;
  reportFailure: (failure: KafkaConsumerFailure) => Promise<void>;
  deadLetters: DeadLetterPublisher;
  /** This group's @OnPartitionsAssigned/Revoked/Lost methods. */
  rebalanceHooks: DiscoveredRebalanceHook[];
  logger: LoggerService;
}

/**
 * One kafkajs consumer for one consumer group: subscribes the group's handlers,
 * follows pattern subscriptions, tracks offsets per partition, commits by each
 * handler's policy, and shuts down cleanly. kafkajs auto-commit is off: every
 * commit comes from the offset trackers, so no unfinished record is committed.
 */
export class GroupRunner {
  private consumer: Consumer | undefined;
  private readonly owned = new Map<string, PartitionState>();
  private readonly subscribed = new Set<string>();
  private readonly processors = new Map<string, RecordProcessor>();
  private readonly schedules = new Map<string, CommitSchedule>();
  /** Worker pools of handlers with concurrency > 1, by handler name. */
  private readonly pools = new Map<string, WorkScheduler>();
  /** Partitions paused because their records fill a pool; resumed as it drains. */
  private readonly pausedForBackpressure = new Set<string>();
  /** Pooled records running now, with their start times (keepAlive looks for the oldest). */
  private readonly runningPooled = new Set<PooledRecord>();
  /** Pool commits and resumes, and heartbeats while user code runs. */
  private tickTimer: NodeJS.Timeout | undefined;
  private lastPayload: EachBatchPayload | undefined;
  private lastKeepAliveHeartbeat = 0;
  /** When the record (or batch) each partition's loop is running started, by partition key. */
  private readonly runningSince = new Map<string, number>();
  /** A record has run longer than maxPollIntervalMs: no heartbeats, no commits, no new records. */
  private stalled = false;
  /**
   * Set when a stall begins; the member's partitions are no longer its own to commit. A static
   * member takes them back when the stall ends (its session may still hold); a dynamic member
   * left the group, so only its next join ends this.
   */
  private suspended = false;
  private stallWaiters: Array<() => void> = [];
  /** The sequential loop asks kafkajs for a heartbeat (and hears of rebalances) at most this often. */
  private readonly loopHeartbeatEveryMs: number;
  private nextLoopHeartbeatAt = 0;
  private readonly handlersByName = new Map<string, Handler>();
  private readonly threadPools: ThreadPool[] = [];
  private readonly env: ConstructorParameters<typeof RecordProcessor>[1];
  private readonly committer: OffsetCommitter;
  private readonly abort = new AbortController();
  private readonly stickyState = new StickyMemberState();
  private readonly deadLetterOutages = new DeadLetterOutages();
  private sendCommit: CommitSender | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  /** New topics for the running consumer (topic → fromBeginning); its next heartbeat rejoins with them. */
  private readonly pendingTopics = new Map<string, boolean>();
  /** The last crash, until kafkajs has joined again after it (or for good, when it does not restart). */
  private crash: { message: string; restart: boolean } | undefined;
  private stopped: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private autoCommitTimer: NodeJS.Timeout | undefined;
  private joined: JoinedGroup = { memberId: '', generationId: -1, assignment: {} };
  /** A commit learned that this generation is over; the batch loop hands it to kafkajs to rejoin. */
  private generationEnded: unknown;
  /** Standalone consumer (§4.11): reads given partitions without group membership; undefined for a group member. */
  private standalone: StandaloneReader | undefined;

  constructor(private readonly deps: GroupRunnerDeps) {
    const { group, reportFailure, deadLetters } = deps;
    const signal = this.abort.signal;
    const env = {
      groupId: group.groupId,
      signal,
      reportFailure,
      publishDeadLetter: (topic: string, failure: KafkaConsumerFailure) => this.publishDeadLetter(deadLetters, topic, failure, signal),
      seek: (topic: string, partition: number, position: SeekPosition) => this.seek(topic, partition, position),
    };
    this.env = env;
    this.loopHeartbeatEveryMs = Math.max(10, Math.floor(group.settings.heartbeatIntervalMs / 4));
    for (const handler of group.handlers) {
      this.handlersByName.set(handler.name, handler);
      this.processors.set(handler.name, new RecordProcessor(handler, env));
      this.schedules.set(handler.name, new CommitSchedule(handler.commit, Date.now()));
      if (handler.concurrency > 1) {
        this.pools.set(
          handler.name,
          new WorkScheduler({
            concurrency: handler.concurrency,
            capacity: handler.maxQueuedRecords,
            onError: (error) => deps.logger.error(`group ${group.groupId}: worker of ${handler.name} failed: ${(error as Error)?.message ?? error}`),
          }),
        );
      }
    }
    const commits = group.settings.standalone?.commitOffsets ?? true;
    this.committer = new OffsetCommitter({
      partitions: () => (commits && !this.suspended ? this.owned : NOTHING_TO_COMMIT),
      send: (offsets) => this.send(offsets),
      retry: { attempts: 5, initialDelayMs: 200, maxDelayMs: 5_000 },
      isRetriable: isRetriableCommitError,
      onFailure: (error, offsets) => this.onCommitFailure(error, offsets),
    });
  }

  get groupId(): string {
    return this.deps.group.groupId;
  }

  /** Topic-partitions this member owns now. */
  assignment(): string[] {
    return [...this.owned.keys()];
  }

  /** Whether this group consumes (see ConsumerGroupStatus). */
  status(): ConsumerGroupStatus {
    const { groupId, crash } = this;
    const deadLetters = this.deadLetterOutages.stats();
    const counts = deadLetters ? { deadLetters } : {};
    if (this.stopped) return { groupId, state: 'stopped', ...counts };
    if (crash) return { groupId, state: crash.restart ? 'restarting' : 'failed', error: crash.message, ...counts };
    const outage = this.deadLetterOutages.current();
    if (outage) {
      const error = `dead-letter topic ${outage.topic} cannot be written since ${new Date(outage.since).toISOString()} (${outage.error}); ${deadLetters!.waiting} record(s) and their partitions wait for it`;
      return { groupId, state: 'degraded', error, ...counts };
    }
    return { groupId, state: 'running', ...counts };
  }

  /**
   * A record's dead-letter write, retried until it lands (nothing is lost). An
   * outage is logged and reported once, when it begins, and logged again when
   * the topic takes writes again; status() says degraded meanwhile.
   */
  private async publishDeadLetter(publisher: DeadLetterPublisher, topic: string, failure: KafkaConsumerFailure, signal: AbortSignal): Promise<boolean> {
    const outages = this.deadLetterOutages;
    outages.waiting();
    try {
      return await publisher.publish(topic, failure, signal, {
        attemptFailed: (error) => {
          const outage = outages.attemptFailed(topic, error, Date.now());
          if (!outage) return;
          this.deps.logger.error(
            `group ${this.groupId}: cannot write to dead-letter topic ${topic} (${outage.error}); ${failure.topic}[${failure.partition}]@${failure.offset} and its partition wait, retrying`,
          );
          void this.deps.reportFailure({ ...failure, kind: 'dead-letter', error, deadLetterTopic: topic });
        },
        published: () => {
          const ended = outages.published(topic);
          if (ended) this.deps.logger.log?.(`group ${this.groupId}: dead-letter topic ${topic} takes writes again after ${Date.now() - ended.since} ms`);
        },
      });
    } finally {
      outages.settled();
    }
  }

  /** This member's place in its group, as of the last join. */
  membership(): GroupMembership {
    const { memberId, generationId } = this.joined;
    return { groupId: this.groupId, memberId, generationId, groupInstanceId: this.deps.group.settings.groupInstanceId, assignment: this.assignment() };
  }

  /**
   * Moves the fetch position of an owned partition (§4.8). Records already
   * fetched past it are dropped; progress tracking restarts there, so the
   * replayed records are processed and committed again.
   */
  async seek(topic: string, partition: number, position: SeekPosition): Promise<string> {
    const key = topicPartitionKey(topic, partition);
    const state = this.owned.get(key);
    if (!state || !this.consumer) {
      throw new Error(`group ${this.groupId}: ${topic}[${partition}] is not assigned to this member; it owns ${this.assignment().join(', ') || 'nothing'}`);
    }
    const offset = await resolveSeekPosition(this.deps.admin, topic, partition, position);
    this.consumer.seek({ topic, partition, offset });
    for (const pool of this.pools.values()) pool.dropQueued(key); // fetched before the seek: stale
    this.owned.set(key, freshPartitionState(state.handler));
    return offset;
  }

  /** Connects, subscribes and resolves once the consumer has joined its group. */
  async start(): Promise<void> {
    const { kafka, group, options } = this.deps;
    const { topics, missing } = await this.resolveTopics();
    this.standalone = group.settings.standalone ? await this.planStandalone(group.settings.standalone) : undefined;
    if (missing.length > 0 && !this.standalone) {
      this.deps.logger.warn?.(`group ${group.groupId}: topics ${missing.join(', ')} do not exist yet; they are subscribed when they appear`);
    }
    await this.startThreadPools();
    installConsumerGroupExtension();
    const extension: ConsumerGroupExtension = {
      groupInstanceId: group.settings.groupInstanceId,
      heartbeatIntervalMs: group.settings.heartbeatIntervalMs,
      beforeJoin: (memberLost) => this.beforeJoin(memberLost),
      afterJoin: (joined) => this.afterJoin(joined),
      standalone: this.standalone?.assignment,
      fetchBudget: group.settings,
      pendingTopics: this.pendingTopics,
      pollIntervalExceeded: () => this.stalled,
      stopping: () => this.stopping,
    };
    const consumer = kafka.consumer({
      ...toConsumerConfig(group.groupId, group.settings, options, this.stickyState, extension),
      // A fenced static member must stop: restarting would fence the other one in turn.
      // Nor does a consumer that is being stopped: nobody would stop the restarted one.
      retry: { restartOnFailure: async (error) => !this.stopping && !isFencedError(error) },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => this.onCrash(payload.error, payload.restart));
    await consumer.connect();
    if (this.stopping) return; // stop() came during the start: it disconnects what was connected
    await this.subscribe(topics);
    await consumer.run(this.runConfig());
    if (this.stopping) return;

    const needsRefresh = !this.standalone && (missing.length > 0 || group.handlers.some((h) => h.patterns.length > 0));
    if (needsRefresh) {
      this.refreshTimer = setInterval(() => void this.refreshTopics(), options.topicRefreshIntervalMs);
    }
    const autoIntervals = group.handlers.filter((h) => h.commit.mode === 'auto' && h.commit.intervalMs > 0).map((h) => h.commit.intervalMs);
    const tickMs = this.pools.size > 0 ? POOL_TICK_MS : Math.max(POOL_TICK_MS, Math.floor(group.settings.heartbeatIntervalMs / 4));
    this.tickTimer = setInterval(() => this.onTimer('tick', () => this.tick()), tickMs);
    if (autoIntervals.length > 0) {
      this.autoCommitTimer = setInterval(() => this.onTimer('auto commit', () => this.commitDueAuto()), Math.max(50, Math.min(...autoIntervals) / 4));
    }
    this.standalone?.start(consumer, (partitions) => this.adoptPartitions(partitions));
  }

  /**
   * Graceful stop (§4.9): stop fetching, let running handlers finish (bounded),
   * commit synchronously, leave the group, disconnect. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    const { logger, options, group } = this.deps;
    this.stopping = true;
    clearInterval(this.refreshTimer);
    clearInterval(this.autoCommitTimer);
    this.standalone?.stop();
    const consumer = this.consumer;
    if (!consumer) {
      clearInterval(this.tickTimer);
      return;
    }
    this.pauseAll(consumer);
    this.wakeStalled();
    // Queued records never started: they stay uncommitted and are delivered again later.
    for (const pool of this.pools.values()) pool.dropQueued();
    const drained = (await this.drain(options.shutdownTimeoutMs)) && (await withTimeout(this.poolsIdle(), options.shutdownTimeoutMs));
    clearInterval(this.tickTimer);
    // A record still running past the timeout stays uncommitted; it is redelivered later.
    this.abort.abort();
    await Promise.all(this.threadPools.map((pool) => pool.destroy().catch(() => undefined)));
    if (!drained) {
      logger.error(`group ${group.groupId}: handlers still running after ${options.shutdownTimeoutMs} ms; committing only finished records`);
    }
    await this.commitFinal();
    // As Java's close(): every owned partition is given up, after its final commit.
    await this.runHooks('revoked', [...this.owned.keys()]);
    const left = await withTimeout(consumer.disconnect(), Math.max(options.shutdownTimeoutMs, 5_000));
    if (!left) logger.error(`group ${group.groupId}: the consumer did not disconnect in time`);
    this.owned.clear();
  }

  /**
   * Handlers with `threads`: the exported function runs on a worker thread and
   * the method gets its result, so the processor (retries, dead letters) and
   * the dispatch path stay the same. Bad files or exports fail at startup.
   */
  private async startThreadPools(): Promise<void> {
    for (const handler of this.deps.group.handlers) {
      if (!handler.threads) continue;
      const pool = await createThreadPool({ ...handler.threads, optionPath: `handler ${handler.name}: threads` });
      this.threadPools.push(pool);
      const method = handler.source;
      // The attempt's signal reaches the thread: a timeout or shutdown ends the task there too.
      const source: BoundMethod = async (value: unknown, ctx: unknown) =>
        method(await pool.run(value, contextFields(ctx as KafkaMessageContext), { signal: (ctx as KafkaMessageContext).signal }), ctx);
      this.processors.set(handler.name, new RecordProcessor({ ...handler, source }, this.env));
    }
  }

  private runConfig(): ConsumerRunConfig {
    return {
      autoCommit: false,
      // Offsets are resolved record by record, so an interrupted batch is fetched again.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.deps.group.settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.onBatch(payload),
    };
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    this.sendCommit = payload.commitOffsetsIfNecessary;
    this.lastPayload = payload;
    if (this.stopping) return;
    if (this.suspended) {
      // As a Java poll loop stuck in one record: nothing else is fetched or handled until it ends.
      // Then kafkajs's heartbeat after this batch joins again (see consumer-group-extension).
      await this.untilStallEnds();
      return;
    }
    const { batch } = payload;
    const key = topicPartitionKey(batch.topic, batch.partition);
    const state = this.owned.get(key);
    if (!state) return;
    state.highWatermark = batch.highWatermark;
    this.inFlight += 1;
    try {
      if (state.handler.batch) await this.processAsBatches(payload, key, state);
      else await this.processRecords(payload, key, state);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * The sequential path. Hot: no promise, closure or timer per record unless
   * the handler returns a promise; the fetch position is resolved once, for
   * the last finished record, when the loop ends for any reason.
   */
  private async processRecords(payload: EachBatchPayload, key: string, state: PartitionState): Promise<void> {
    const pool = this.pools.get(state.handler.name);
    if (pool) return this.dispatchRecords(payload, key, state, pool);
    const { batch } = payload;
    const { topic, partition, messages } = batch;
    const processor = this.processors.get(state.handler.name)!;
    const schedule = this.schedules.get(state.handler.name)!;
    let resolved: string | undefined;
    let skipped = false;
    try {
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (this.batchInterrupted(payload, key, state)) return;
        const offset = message.offset;
        if (!state.tracker.begin(offset)) {
          // Already begun before a rebalance re-fetch: not run twice.
          resolved = message.offset;
          skipped = true;
          continue;
        }
        let outcome = processor.processRecord(topic, partition, message);
        let waited = false;
        if (typeof outcome !== 'string') {
          // The handler runs synchronously up to its first await: the clock starts here.
          this.runningSince.set(key, Date.now());
          outcome = await outcome;
          this.runningSince.delete(key);
          waited = true;
        }
        if (outcome === 'aborted') return;
        const acknowledged = outcome === 'acknowledged';
        this.finish(state, offset, acknowledged);
        resolved = message.offset;
        if (schedule.recordFinished(acknowledged)) {
          const commit = this.commitByPolicy(state.handler, [key]);
          if (commit) await commit;
        }
        // Synchronous handlers look at the clock every 64 records, not per record.
        if ((waited || (i & 63) === 63 || this.generationEnded !== undefined) && this.heartbeatDue()) {
          await this.heartbeat(payload);
        }
      }
    } finally {
      this.runningSince.delete(key);
      if (resolved !== undefined) payload.resolveOffset(resolved);
    }
    if (schedule.batchFinished(false) || skipped) await this.commitByPolicy(state.handler, [key]);
  }

  /**
   * Worker-pool path (§4.4.1 option 2): the fetch loop only queues records and
   * moves the fetch position on; workers run them in their lanes; commits come
   * from the tracker's contiguous watermark, sent by this loop and the tick,
   * never by a worker.
   */
  private async dispatchRecords(payload: EachBatchPayload, key: string, state: PartitionState, pool: WorkScheduler): Promise<void> {
    const { batch } = payload;
    const { topic, partition, messages } = batch;
    const processor = this.processors.get(state.handler.name)!;
    const ordering = state.handler.ordering;
    let resolved: string | undefined;
    try {
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (this.batchInterrupted(payload, key, state)) return;
        if (!pool.admits(key) && !(await this.waitForRoom(payload, key, state, pool))) return;
        resolved = message.offset;
        if (!state.tracker.begin(message.offset)) continue; // begun before a re-fetch: not run twice
        pool.submit(new PooledRecord(this, key, laneFor(ordering, key, message.key, message.offset), processor, state, topic, partition, message));
      }
    } finally {
      if (resolved !== undefined) payload.resolveOffset(resolved);
    }
    // Auto commits come from their interval (commitDueAuto), not from each dispatched batch.
    if (state.handler.commit.mode !== 'auto') await this.commitByPolicy(state.handler, [key]);
    if (this.heartbeatDue()) await this.heartbeat(payload);
  }

  /**
   * The pool does not admit this partition's next record. While every worker
   * is busy, waiting is best: ending the batch would only fetch the same
   * records again. When workers sit idle, what is queued waits behind its own
   * lanes (ordering, or a record that does not finish): this partition is the
   * cause, so it alone is paused and the batch ends; the rest is fetched again
   * once its backlog drains, and other partitions keep their room meanwhile.
   * Resolves false when the batch must end.
   */
  private async waitForRoom(payload: EachBatchPayload, key: string, state: PartitionState, pool: WorkScheduler): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let wake: Promise<void> | undefined;
    try {
      while (!pool.admits(key)) {
        if (pool.idleWorkers > 0) {
          // Items finish on a later microtask even when their handler is synchronous: let the
          // ones submitted in this loop settle before judging their lanes blocked.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (pool.admits(key)) break;
        }
        if (pool.idleWorkers > 0) {
          this.pauseForBackpressure([key]);
          return false;
        }
        // One timer per wait, not per freed slot: the loop wakes now and then to hear of rebalances.
        wake ??= new Promise<void>((resolve) => (timer = setTimeout(resolve, this.loopHeartbeatEveryMs)));
        // Refill in bursts of up to `concurrency` records rather than one wake per finished record.
        const room = Math.min(state.handler.concurrency, Math.floor(state.handler.maxQueuedRecords / 4));
        const woken = await Promise.race([pool.waitForCapacity(room).then(() => false), wake.then(() => true)]);
        if (woken) wake = undefined;
        if (this.heartbeatDue()) await this.heartbeat(payload);
        if (this.batchInterrupted(payload, key, state)) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a record on its pool's worker (PooledRecord.run); only the tracker hears of the outcome. */
  runPooled(record: PooledRecord): Promise<void> | undefined {
    record.startedAt = Date.now();
    this.runningPooled.add(record);
    let outcome: ProcessOutcome | Promise<ProcessOutcome>;
    try {
      outcome = record.processor.processRecord(record.topic, record.partitionNumber, record.message);
    } catch (error) {
      this.runningPooled.delete(record);
      throw error;
    }
    if (typeof outcome === 'string') {
      this.pooledRecordDone(record, outcome);
      return undefined;
    }
    return outcome.then(
      (result) => this.pooledRecordDone(record, result),
      (error: unknown) => {
        this.runningPooled.delete(record);
        throw error;
      },
    );
  }

  private pooledRecordDone(record: PooledRecord, outcome: ProcessOutcome): void {
    this.runningPooled.delete(record);
    if (outcome === 'aborted') return;
    const acknowledged = outcome === 'acknowledged';
    this.finish(record.state, record.message.offset, acknowledged);
    this.schedules.get(record.state.handler.name)!.recordFinished(acknowledged);
  }

  /**
   * Runs on a timer: for pools, commits finished watermarks by policy and
   * resumes partitions whose backlog drained; for all, keeps heartbeats
   * flowing while user code runs (§4.5.6), until one record exceeds
   * maxPollIntervalMs: then they stop and the group reassigns its partitions,
   * as Kafka does for a stuck poll loop (§4.5.7).
   */
  private tick(): void {
    // Heartbeats go on while shutdown waits for running records.
    this.keepAlive();
    if (this.stopping) return;
    for (const [name, pool] of this.pools) {
      const handler = this.handlersByName.get(name)!;
      if (handler.commit.mode !== 'auto') {
        const keys = this.keysOf(handler).filter((key) => this.owned.get(key)!.tracker.pendingCommit() !== undefined);
        if (keys.length > 0) this.commitByPolicy(handler, keys);
      }
      this.resumeDrained(handler, pool);
    }
  }

  /**
   * Heartbeats while records run, each partition's clock on its own. Past
   * maxPollIntervalMs the member stalls as a stuck Java poll loop would: it
   * stops heartbeating and committing, a dynamic member leaves the group (its
   * partitions move now, not at the session's end), and it joins again once
   * the record ends.
   */
  private keepAlive(): void {
    let oldest = Infinity;
    for (const since of this.runningSince.values()) if (since < oldest) oldest = since;
    for (const record of this.runningPooled) if (record.startedAt < oldest) oldest = record.startedAt;
    const now = Date.now();
    const { heartbeatIntervalMs, maxPollIntervalMs, groupInstanceId } = this.deps.group.settings;
    const stalled = now - oldest > maxPollIntervalMs;
    if (stalled && !this.stalled) {
      this.stalled = this.suspended = true;
      this.deps.logger.error(
        `group ${this.groupId}: a record has run longer than maxPollIntervalMs (${maxPollIntervalMs} ms); ` +
          (groupInstanceId ? 'heartbeats and commits stop until it ends' : 'this member leaves the group and joins again when it ends'),
      );
      this.lastPayload?.heartbeat().catch(() => undefined); // the extension sends the LeaveGroup
      return;
    }
    if (!stalled && this.stalled) {
      this.stalled = false;
      if (groupInstanceId) this.suspended = false;
      this.wakeStalled();
    }
    if (oldest === Infinity || stalled) return;
    if (now - this.lastKeepAliveHeartbeat < heartbeatIntervalMs) return;
    this.lastKeepAliveHeartbeat = now;
    this.lastPayload?.heartbeat().catch(() => undefined); // a rebalance shows at the fetch loop's next heartbeat
  }

  private untilStallEnds(): Promise<void> {
    if (!this.stalled || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.stallWaiters.push(resolve));
  }

  private wakeStalled(): void {
    for (const wake of this.stallWaiters.splice(0)) wake();
  }

  /** Records of one partition the pool holds at most: an equal part of its bound per owned partition. */
  private partitionShare(handler: Handler, pool: WorkScheduler): number {
    let partitions = 0;
    for (const state of this.owned.values()) if (state.handler === handler) partitions++;
    return Math.max(1, Math.floor(pool.metrics().capacity / Math.max(1, partitions)));
  }

  private pauseForBackpressure(candidates: string[]): void {
    const keys = candidates.filter((key) => this.owned.has(key) && !this.pausedForBackpressure.has(key));
    if (keys.length === 0 || !this.consumer) return;
    for (const key of keys) this.pausedForBackpressure.add(key);
    this.consumer.pause(toTopicPartitions(keys));
  }

  /** Forgets backpressure pauses of partitions this member gives up, resuming them in kafkajs. */
  private releaseBackpressure(keys: string[]): void {
    const paused = keys.filter((key) => this.pausedForBackpressure.delete(key));
    if (paused.length === 0 || !this.consumer) return;
    try {
      this.consumer.resume(toTopicPartitions(paused));
    } catch {
      // Not running: nothing is paused.
    }
  }

  private resumeDrained(handler: Handler, pool: WorkScheduler): void {
    if (!this.consumer || this.pausedForBackpressure.size === 0) return;
    const share = this.partitionShare(handler, pool);
    const ready = [...this.pausedForBackpressure].filter(
      (key) => !this.owned.has(key) || (this.owned.get(key)!.handler === handler && pool.pending(key) <= Math.floor(share / 2)),
    );
    if (ready.length === 0) return;
    for (const key of ready) this.pausedForBackpressure.delete(key);
    const owned = ready.filter((key) => this.owned.has(key));
    if (owned.length === 0 || this.stopping) return;
    try {
      this.consumer.resume(toTopicPartitions(owned));
    } catch {
      // kafkajs is tearing down or restarting its consumer (a crash): the pauses go with it.
    }
  }

  private async poolsIdle(keys?: string[]): Promise<void> {
    for (const pool of this.pools.values()) {
      if (keys) await Promise.all(keys.map((key) => pool.whenPartitionIdle(key)));
      else await pool.whenIdle();
    }
  }

  /** Counts, offsets and lag per owned partition. */
  metrics(): PartitionMetrics[] {
    return [...this.owned].map(([key, state]) => {
      const { topic, partition } = parseTopicPartitionKey(key);
      const work = this.pools.get(state.handler.name)?.partitionMetrics(key);
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
        pausedForBackpressure: this.pausedForBackpressure.has(key),
        committedOffset: committed?.toString(),
        committableOffset: committable?.toString(),
        highWatermark: state.highWatermark,
        lag,
      };
    });
  }

  private async processAsBatches(payload: EachBatchPayload, key: string, state: PartitionState): Promise<void> {
    const { batch, resolveOffset } = payload;
    const processor = this.processors.get(state.handler.name)!;
    const schedule = this.schedules.get(state.handler.name)!;
    const { messages } = batch;
    const chunkSize = this.deps.group.settings.maxPollRecords;
    let skipped = false;
    for (let next = 0; next < messages.length; ) {
      if (this.batchInterrupted(payload, key, state)) return;
      // Records are begun only as they are handed to the handler: what an interruption (a
      // rebalance that keeps this partition) leaves unhanded runs when kafkajs fetches it again.
      const chunk: typeof messages = [];
      for (; next < messages.length && chunk.length < chunkSize; next++) {
        if (state.tracker.begin(messages[next].offset)) chunk.push(messages[next]);
        else skipped = true; // finished before a re-fetch: not run twice
      }
      if (chunk.length === 0) break;
      this.runningSince.set(key, Date.now());
      const outcome = await processor.processBatch(batch.topic, batch.partition, chunk).finally(() => this.runningSince.delete(key));
      if (outcome === 'aborted') return;
      const acknowledged = outcome === 'acknowledged';
      let commitNow = false;
      for (const message of chunk) {
        this.finish(state, message.offset, acknowledged);
        commitNow = schedule.recordFinished(acknowledged) || commitNow;
      }
      resolveOffset(chunk[chunk.length - 1].offset);
      if (schedule.batchFinished(acknowledged) || commitNow || state.handler.commit.mode === 'record') {
        await this.commitByPolicy(state.handler, [key]);
      }
      await this.heartbeat(payload);
    }
    if (skipped) {
      resolveOffset(batch.lastOffset());
      await this.commitByPolicy(state.handler, [key]);
    }
  }

  private finish(state: PartitionState, offset: string, acknowledged: boolean): void {
    state.tracker.finish(offset);
    if (state.handler.commit.mode === 'manual' && acknowledged) {
      const next = BigInt(offset) + 1n;
      if (state.limit === undefined || next > state.limit) state.limit = next;
    }
  }

  /** Stop the batch: shutdown, revocation, a seek (a new state), or kafkajs stopped. */
  private batchInterrupted(payload: EachBatchPayload, key: string, state: PartitionState): boolean {
    return this.stopping || this.suspended || this.owned.get(key) !== state || !payload.isRunning();
  }

  /** The fetch loop should heartbeat now: its interval passed, or a commit learned the generation ended. */
  private heartbeatDue(): boolean {
    return this.generationEnded !== undefined || Date.now() >= this.nextLoopHeartbeatAt;
  }

  /** A heartbeat that reports a rebalance first commits what finished, then lets kafkajs rejoin. */
  private async heartbeat(payload: EachBatchPayload): Promise<void> {
    if (this.generationEnded !== undefined) {
      // Rejoin now rather than at the next heartbeat: work done meanwhile could not be committed.
      const error = this.generationEnded;
      this.generationEnded = undefined;
      throw error;
    }
    this.nextLoopHeartbeatAt = Date.now() + this.loopHeartbeatEveryMs;
    try {
      await payload.heartbeat();
    } catch (error) {
      await this.committer.commit().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Commits by the handler's policy. A synchronous policy returns the promise to
   * wait for; an asynchronous one returns nothing (no promise per record on
   * the hot path). Failures are reported by onCommitFailure; the offsets stay pending.
   * `requested` partitions are committed, or all of the handler's when left out.
   */
  private commitByPolicy(handler: Handler, requested?: string[]): Promise<void> | undefined {
    // An auto commit covers every partition of the handler, as the schedule counts finished
    // records across them: a commit of one partition would clear the count of the others and
    // leave their finished records uncommitted until more records finish.
    const keys = handler.commit.mode === 'auto' || requested === undefined ? this.keysOf(handler) : requested;
    // Asynchronous commits asked for faster than the broker answers (record mode) join the queued one.
    if (!handler.commit.sync && keys.length === 1 && this.committer.joinQueued(keys[0])) return undefined;
    const schedule = this.schedules.get(handler.name)!;
    const carried = schedule.pendingRecords;
    const commit = this.committer.commit(keys).then(
      () => schedule.committed(Date.now(), carried),
      () => undefined,
    );
    return handler.commit.sync ? commit : undefined;
  }

  /** A timer's work: an error is logged, never thrown (thrown from a timer, it would end the process). */
  private onTimer(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.logger.error(`group ${this.groupId}: ${what} failed: ${(error as Error)?.message ?? error}`);
    }
  }

  private commitDueAuto(): void {
    const now = Date.now();
    for (const handler of this.deps.group.handlers) {
      if (this.schedules.get(handler.name)!.due(now)) this.commitByPolicy(handler);
    }
  }

  /** The partitions this member owns that a handler consumes. */
  private keysOf(handler: Handler): string[] {
    const keys: string[] = [];
    for (const [key, state] of this.owned) if (state.handler === handler) keys.push(key);
    return keys;
  }

  /** The last commit before partitions are given up is synchronous (§4.6.4). */
  private async commitFinal(): Promise<void> {
    try {
      await this.committer.commit();
    } catch {
      // Reported by onCommitFailure; those records will be delivered again.
    }
  }

  private async send(offsets: OffsetToCommit[]): Promise<void> {
    // kafkajs's consumer.commitOffsets silently does nothing once its runner has
    // stopped and retries generation errors itself; the batch payload's commit
    // goes straight to the coordinator with the current generation.
    if (!this.sendCommit) throw new Error('no batch fetched yet; nothing can be committed');
    const topics = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { topic, partition, offset } of offsets) {
      const list = topics.get(topic) ?? [];
      list.push({ partition, offset });
      topics.set(topic, list);
    }
    await this.sendCommit({ topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
  }

  private onCommitFailure(error: unknown, offsets: OffsetToCommit[]): void {
    if (this.standalone) return this.standalone.onCommitFailure(error, offsets);
    const detail = offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(', ');
    const level = isGenerationError(error) ? 'warn' : 'error';
    if (level === 'warn' && !this.stopping) this.generationEnded = error;
    const message = `group ${this.groupId}: commit of ${detail} failed: ${(error as Error)?.message ?? error}`;
    if (level === 'warn') this.deps.logger.warn?.(`${message} (the group is rebalancing; finished records past the last commit may be delivered again)`);
    else this.deps.logger.error(message);
    void this.deps.reportFailure({ kind: 'commit', error, groupId: this.groupId });
  }

  /**
   * Before kafkajs (re)joins. Its runner has already stopped every batch, so no
   * record is in flight. A member the coordinator forgot has lost its
   * partitions: another member may own them, so nothing is committed for them.
   * Otherwise the finished offsets are committed while this generation is still
   * valid (real Kafka accepts this; the mock refuses commits during a join).
   */
  private async beforeJoin(memberLost: boolean): Promise<void> {
    this.suspended = this.stalled; // joining again: what it owns from now on is its own
    if (this.stopping || this.owned.size === 0) return;
    if (memberLost) {
      await this.losePartitions('the coordinator no longer knows this member (session expired or fenced)');
      return;
    }
    if (this.deps.group.settings.assignmentStrategy !== 'cooperative-sticky') {
      // Eager: any partition may move, so let running workers finish first (bounded).
      await withTimeout(this.poolsIdle(), this.deps.options.shutdownTimeoutMs);
    }
    await this.committer.commit().catch(() => undefined); // reported by onCommitFailure
  }

  /**
   * After each join: hand out the change. Only partitions that moved reach the
   * hooks; retained partitions keep their trackers, so records already begun
   * are not run again when kafkajs re-fetches them from the committed offset.
   * With cooperative-sticky, a revoked partition was withheld from its new
   * owner: commit it now (the group is stable), run the hook, and join again so
   * the next round hands it over (§4.1.2).
   */
  private async afterJoin(joined: JoinedGroup): Promise<boolean> {
    this.generationEnded = undefined;
    if (this.crash?.restart) this.crash = undefined; // joined again: recovered
    const claimedBefore = this.stickyState.current;
    this.joined = joined;
    const next = new Map<string, Handler>();
    for (const [topic, partitions] of Object.entries(joined.assignment)) {
      const handler = this.route(topic);
      if (handler) for (const partition of partitions) next.set(topicPartitionKey(topic, partition), handler);
    }
    const revoked = [...this.owned.keys()].filter((key) => !next.has(key));
    const assigned = [...next.keys()].filter((key) => !this.owned.has(key));
    const cooperative = this.deps.group.settings.assignmentStrategy === 'cooperative-sticky';
    // kafkajs keeps pauses across joins: a retained partition stays paused until its backlog
    // drains; a revoked one is resumed, so it is not found paused if it comes back.
    this.releaseBackpressure(revoked);
    if (revoked.length > 0) {
      // Stop dispatching the revoked partitions and let their running records finish (bounded).
      for (const pool of this.pools.values()) for (const key of revoked) pool.dropQueued(key);
      await withTimeout(this.poolsIdle(revoked), this.deps.options.shutdownTimeoutMs);
      // Eager strategies: the new owner may be reading already, and a late commit could move its
      // offset back, so only the commit made before the join counts.
      if (cooperative) await this.committer.commit(revoked).catch(() => undefined);
      for (const key of revoked) this.owned.delete(key);
      await this.runHooks('revoked', revoked);
    }
    for (const key of assigned) this.owned.set(key, freshPartitionState(next.get(key)!));
    this.stickyState.update(joined.assignment, joined.generationId);
    if (assigned.length > 0) await this.runHooks('assigned', assigned);
    const handOver = Object.keys(revokedPartitions(claimedBefore, joined.assignment)).length > 0;
    return cooperative && handOver && !this.stopping;
  }

  private async losePartitions(reason: string): Promise<void> {
    const lost = [...this.owned.keys()];
    this.releaseBackpressure(lost);
    this.owned.clear();
    for (const pool of this.pools.values()) pool.dropQueued();
    this.stickyState.update({}, this.joined.generationId);
    if (lost.length === 0) return;
    this.deps.logger.warn?.(`group ${this.groupId}: lost ${lost.join(', ')}: ${reason}; their records past the last commit will be delivered again`);
    await this.runHooks('lost', lost);
  }

  private async runHooks(kind: RebalanceHookKind, keys: string[]): Promise<void> {
    const hooks = this.deps.rebalanceHooks.filter((hook) => hook.options.kind === kind);
    if (hooks.length === 0 || keys.length === 0) return;
    const partitions: TopicPartition[] = keys.map(parseTopicPartitionKey).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const context: RebalanceContext = {
      groupId: this.groupId,
      memberId: this.joined.memberId,
      generationId: this.joined.generationId,
      seek: (topic, partition, position) => this.seek(topic, partition, position),
    };
    for (const hook of hooks) {
      try {
        await hook.invoke(partitions, context);
      } catch (error) {
        this.deps.logger.error(`group ${this.groupId}: rebalance hook ${hook.name} (${kind}) threw: ${(error as Error)?.message ?? error}`);
        await this.deps.reportFailure({ kind: 'rebalance-hook', error, groupId: this.groupId });
      }
    }
  }

  private onCrash(error: Error, restart: boolean): void {
    if (this.stopping) {
      // kafkajs decided to restart before the stop began; its timer is set right after this
      // event, so disconnect once it is: that clears the timer before the restart runs.
      if (restart) setImmediate(() => void this.consumer?.disconnect().catch(() => undefined));
      return;
    }
    // A restarted consumer rejoins and refetches from the committed offsets.
    void this.losePartitions(`the consumer crashed (${error?.message})`);
    const message = isFencedError(error)
      ? `group ${this.groupId}: another live member uses groupInstanceId "${this.deps.group.settings.groupInstanceId}"; this member was fenced and has stopped consuming. Give every member its own groupInstanceId.`
      : `group ${this.groupId}: consumer crashed (${error?.message})${restart ? '; kafkajs restarts it' : '; it will not restart'}`;
    this.deps.logger.error(message);
    // A health check shows the fix for a fencing, not kafkajs's wording of it.
    this.crash = { message: isFencedError(error) ? message : (error?.message ?? String(error)), restart };
    void this.deps.reportFailure({ kind: 'consumer', error, groupId: this.groupId });
  }

  private route(topic: string): Handler | undefined {
    try {
      return routeTopic(this.deps.group.handlers, topic);
    } catch (error) {
      this.deps.logger.error(`group ${this.groupId}: ${(error as Error).message}; topic ${topic} is not consumed`);
      return undefined;
    }
  }

  /** Topics to subscribe now: explicit ones that exist, and existing matches of patterns. */
  private async resolveTopics(): Promise<{ topics: string[]; missing: string[] }> {
    const existing = new Set(await this.deps.admin.listTopics());
    const topics: string[] = [];
    const missing: string[] = [];
    for (const handler of this.deps.group.handlers) {
      for (const topic of handler.topics) (existing.has(topic) ? topics : missing).push(topic);
    }
    const patterned = this.deps.group.handlers.filter((h) => h.patterns.length > 0);
    for (const topic of [...existing].sort()) {
      if (topic.startsWith('__') || topics.includes(topic)) continue;
      if (!patterned.some((h) => h.patterns.some((p) => matches(p, topic)))) continue;
      routeTopic(this.deps.group.handlers, topic); // throws when two patterns claim it
      topics.push(topic);
    }
    return { topics, missing };
  }

  /**
   * Follows new topics as the Java consumer does on a metadata change: the
   * running consumer joins again with the wider subscription (one JoinGroup of
   * this member; no LeaveGroup, no restart). Retained partitions keep their
   * trackers, pauses and positions; only the new partitions are assigned.
   */
  private async refreshTopics(): Promise<void> {
    if (this.stopping || !this.consumer) return;
    let added: string[];
    try {
      const { topics } = await this.resolveTopics();
      added = topics.filter((t) => !this.subscribed.has(t) && this.route(t));
    } catch (error) {
      this.deps.logger.error(`group ${this.groupId}: topic refresh failed: ${(error as Error).message}`);
      return;
    }
    if (added.length === 0 || this.stopping) return;
    this.deps.logger.log?.(`group ${this.groupId}: subscribing to new topics ${added.join(', ')}`);
    for (const topic of added) {
      this.subscribed.add(topic);
      // Created after this group subscribed: every record in them is new to it.
      this.pendingTopics.set(topic, true);
    }
  }

  private async subscribe(topics: string[]): Promise<void> {
    const consumer = this.consumer!;
    const byStart = new Map<boolean, string[]>();
    for (const topic of topics) {
      const fromBeginning = this.startsFromBeginning(topic);
      byStart.set(fromBeginning, [...(byStart.get(fromBeginning) ?? []), topic]);
    }
    for (const [fromBeginning, list] of byStart) {
      await consumer.subscribe({ topics: list, fromBeginning });
      for (const topic of list) this.subscribed.add(topic);
    }
  }

  private planStandalone(settings: ResolvedStandalone): Promise<StandaloneReader> {
    return StandaloneReader.plan({
      admin: this.deps.admin,
      groupId: this.groupId,
      settings,
      logger: this.deps.logger,
      reportFailure: this.deps.reportFailure,
      startsFromBeginning: (topic) => this.startsFromBeginning(topic),
      stopping: () => this.stopping,
    });
  }

  /**
   * Standalone partition discovery (§4.11), now rather than at the next
   * interval. Resolves with the partitions taken, as `topic partition` keys.
   */
  discoverPartitions(): Promise<string[]> {
    if (!this.standalone) {
      return Promise.reject(new Error(`group ${this.groupId} is not a standalone consumer; its partitions come from the group`));
    }
    return this.standalone.discover();
  }

  /** Partitions a standalone consumer found: tracked from now on, announced before they are fetched. */
  private async adoptPartitions(partitions: TopicPartition[]): Promise<void> {
    const keys = partitions.map(({ topic, partition }) => topicPartitionKey(topic, partition));
    for (const [i, { topic }] of partitions.entries()) {
      this.owned.set(keys[i], freshPartitionState(this.route(topic)!));
      this.subscribed.add(topic);
    }
    await this.runHooks('assigned', keys);
  }

  /** Where a partition without a committed offset starts: the handler's fromBeginning, else autoOffsetReset. */
  private startsFromBeginning(topic: string): boolean {
    const handler = routeTopic(this.deps.group.handlers, topic)!;
    return handler.fromBeginning ?? this.deps.group.settings.autoOffsetReset === 'earliest';
  }

  private pauseAll(consumer: Consumer): void {
    const topics = [...this.subscribed].map((topic) => ({ topic }));
    if (topics.length === 0) return;
    try {
      consumer.pause(topics);
    } catch {
      // Not running yet: nothing is being fetched.
    }
  }

  private drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return withTimeout(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs);
  }
}

/** Pool commits and resumes run this often; keep-alive checks at least this often. */
const POOL_TICK_MS = 20;
/** What a standalone consumer with commitOffsets: false offers its committer. */
const NOTHING_TO_COMMIT: ReadonlyMap<string, CommittablePartition> = new Map();

function toTopicPartitions(keys: string[]): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = parseTopicPartitionKey(key);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

/** No progress yet; a manual handler commits nothing until it acknowledges. */
function freshPartitionState(handler: Handler): PartitionState {
  return { handler, tracker: new PartitionOffsetTracker(), limit: handler.commit.mode === 'manual' ? 0n : undefined };
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A record queued on a handler's worker pool. A class rather than an object
 * with a closure: one allocation per record on the pooled hot path.
 */
class PooledRecord implements WorkItem {
  /** Date.now() when a worker started it. */
  startedAt = 0;

  constructor(
    private readonly runner: GroupRunner,
    readonly partition: string,
    readonly lane: string,
    readonly processor: RecordProcessor,
    readonly state: PartitionState,
    readonly topic: string,
    readonly partitionNumber: number,
    readonly message: KafkaMessage,
  ) {}

  run(): Promise<void> | undefined {
    return this.runner.runPooled(this);
  }
}
