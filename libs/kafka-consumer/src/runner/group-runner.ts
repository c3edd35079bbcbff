import type { LoggerService } from '@nestjs/common';
import type { ClientErrors, ClusterAdmin } from '../engine/kafka-client';
import { checkEngineSupports, ConsumerEngine, JoinResult, EngineBatch, EngineSetup, FetchLoopControl } from '../engine/consumer-engine';
import { CommitSchedule } from '../commit/commit-schedule';
import { CommitCoordinator } from '../commit/commit-coordinator';
import { StickyMemberState } from '../assignors/sticky-member-state';
import type { DiscoveredRebalanceHook } from '../discovery/kafka-handler.explorer';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { DeadLetterPublisher } from '../dispatch/dead-letter-publisher';
import { Backpressure } from '../dispatch/backpressure';
import { DeadLetterPath } from '../dispatch/dead-letter-path';
import { createThreadPool, ThreadPool } from '../dispatch/thread-pool';
import { WorkScheduler } from '../dispatch/work-scheduler';
import { contextFields, RecordProcessor } from '../dispatch/record-processor';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { KafkaMessageContext } from '../interfaces/message-context.interface';
import type { ConsumerGroupStatus, GroupMembership, RebalanceHookKind, TopicPartition } from '../interfaces/rebalance.interface';
import { topicPartitionKey } from '../offsets/topic-partition-key';
import type { ResolvedGroup, ResolvedHandler, ResolvedModuleOptions } from '../options/resolved-options';
import type { ResolvedStandalone } from '../options/resolve-standalone';
import type { SeekPosition } from '../interfaces/seek-position.interface';
import { resolveSeekPosition } from './seek-position';
import { LivenessMonitor } from './liveness-monitor';
import { HookInvoker } from '../rebalance/hook-invoker';
import { RebalanceCoordinator } from '../rebalance/rebalance-coordinator';
import { withTimeout } from '../utils/with-timeout';
import type { BatchLoop, HandlerRuntime } from '../dispatch/batch-loop';
import { dispatchInChunks } from '../dispatch/batch-dispatcher';
import { PooledDispatcher, PooledServices } from '../dispatch/pooled-dispatcher';
import { dispatchSequentially } from '../dispatch/sequential-dispatcher';
import { finishRecord, freshPartitionState, PartitionState } from '../offsets/partition-state';
import { partitionMetrics } from './partition-metrics';
import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import { StandaloneReader } from './standalone-reader';
import { TopicSubscriptions } from './topic-subscriptions';

type Handler = ResolvedHandler<BoundMethod>;

export interface GroupRunnerDeps {
  /** Builds this group's client consumer (the only part that knows the Kafka client). */
  createEngine(setup: EngineSetup): ConsumerEngine;
  admin: ClusterAdmin;
  errors: ClientErrors;
  group: ResolvedGroup<BoundMethod>;
  options: ResolvedModuleOptions;
  reportFailure: (failure: KafkaConsumerFailure) => Promise<void>;
  deadLetters: DeadLetterPublisher;
  /** This group's @OnPartitionsAssigned/Revoked/Lost methods. */
  rebalanceHooks: DiscoveredRebalanceHook[];
  logger: LoggerService;
}

/**
 * One consumer group of this process: composes its pieces and orders their
 * lifecycle. The engine fetches; dispatchers run records; the registry of
 * owned partitions feeds the commit coordinator; the rebalance coordinator
 * moves partitions; the liveness monitor keeps heartbeats honest. Every commit
 * comes from the offset trackers, so no unfinished record is committed.
 */
export class GroupRunner {
  private engine: ConsumerEngine | undefined;
  private readonly owned = new Map<string, PartitionState>();
  private readonly topics: TopicSubscriptions<BoundMethod>;
  /** Each handler's processor, commit schedule and pool, by handler name. */
  private readonly runtimes = new Map<string, HandlerRuntime>();
  /** Dispatchers of handlers with concurrency > 1, by handler name. */
  private readonly pooled = new Map<string, PooledDispatcher>();
  private readonly services: PooledServices;
  /** Worker pools of handlers with concurrency > 1, by handler name. */
  private readonly pools = new Map<string, WorkScheduler>();
  /** Partitions paused because their records fill a pool; resumed as it drains. */
  private readonly backpressure: Backpressure;
  /** Pool commits and resumes, and heartbeats while user code runs. */
  private tickTimer: NodeJS.Timeout | undefined;
  /** Heartbeats while user code runs; the max.poll.interval.ms stall. */
  private readonly liveness: LivenessMonitor;
  /** The sequential loop asks kafkajs for a heartbeat (and hears of rebalances) at most this often. */
  private readonly loopHeartbeatEveryMs: number;
  private nextLoopHeartbeatAt = 0;
  private readonly threadPools: ThreadPool[] = [];
  private readonly env: ConstructorParameters<typeof RecordProcessor>[1];
  private readonly commits: CommitCoordinator;
  private readonly abort = new AbortController();
  private readonly stickyState = new StickyMemberState();
  private readonly rebalance: RebalanceCoordinator;
  private readonly hooks: HookInvoker;
  private readonly deadLetters: DeadLetterPath;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  /** The last crash, until kafkajs has joined again after it (or for good, when it does not restart). */
  private crash: { message: string; restart: boolean } | undefined;
  private stopped: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private autoCommitTimer: NodeJS.Timeout | undefined;
  private joined: JoinResult = { memberId: '', generationId: -1, assignment: {} };
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
      publishDeadLetter: (topic: string, failure: KafkaConsumerFailure) => this.deadLetters.publish(topic, failure, signal),
      seek: (topic: string, partition: number, position: SeekPosition) => this.seek(topic, partition, position),
    };
    this.env = env;
    this.backpressure = new Backpressure({
      pause: (keys) => this.engine?.pause(keys),
      resume: (keys) => this.engine?.resume(keys),
    });
    this.deadLetters = new DeadLetterPath(deadLetters, group.groupId, deps.logger, reportFailure);
    this.topics = new TopicSubscriptions(group, deps.admin, deps.logger);
    this.loopHeartbeatEveryMs = Math.max(10, Math.floor(group.settings.heartbeatIntervalMs / 4));
    const { heartbeatIntervalMs, maxPollIntervalMs, groupInstanceId } = group.settings;
    this.liveness = new LivenessMonitor({
      heartbeatIntervalMs,
      maxPollIntervalMs,
      staticMember: groupInstanceId !== undefined,
      // A rebalance shows at the fetch loop's next heartbeat; once stalled, this one leaves the group.
      heartbeat: () => this.engine?.keepAlive(),
      onStall: () =>
        deps.logger.error(
          `group ${group.groupId}: a record has run longer than maxPollIntervalMs (${maxPollIntervalMs} ms); ` +
            (groupInstanceId ? 'heartbeats and commits stop until it ends' : 'this member leaves the group and joins again when it ends'),
        ),
    });
    this.services = {
      loopStarted: (key) => this.liveness.loopStarted(key),
      loopEnded: (key) => this.liveness.loopEnded(key),
      recordStarted: (record) => this.liveness.recordStarted(record),
      recordEnded: (record) => this.liveness.recordEnded(record),
      finish: finishRecord,
      commit: (handler, keys) => this.commits.byPolicy(handler, keys),
      pause: (key) => {
        if (this.owned.has(key)) this.backpressure.pause([key]);
      },
    };
    for (const handler of group.handlers) {
      const runtime: HandlerRuntime = { handler, processor: new RecordProcessor(handler, env), schedule: new CommitSchedule(handler.commit, Date.now()) };
      this.runtimes.set(handler.name, runtime);
      if (handler.concurrency > 1) {
        const pool = new WorkScheduler({
          concurrency: handler.concurrency,
          capacity: handler.maxQueuedRecords,
          onError: (error) => deps.logger.error(`group ${group.groupId}: worker of ${handler.name} failed: ${(error as Error)?.message ?? error}`),
        });
        this.pools.set(handler.name, pool);
        // The same runtime object: a processor replaced later (threads) reaches the dispatcher too.
        this.pooled.set(handler.name, new PooledDispatcher(Object.assign(runtime, { pool }), this.services, this.loopHeartbeatEveryMs));
      }
    }
    this.hooks = new HookInvoker(deps.rebalanceHooks, group.groupId, deps.logger, reportFailure);
    this.rebalance = new RebalanceCoordinator(
      {
        groupId: group.groupId,
        cooperative: group.settings.assignmentStrategy === 'cooperative-sticky',
        drainTimeoutMs: deps.options.shutdownTimeoutMs,
        logger: deps.logger,
        sticky: this.stickyState,
      },
      {
        owned: this.owned,
        route: (topic) => this.topics.route(topic),
        stopping: () => this.stopping,
        dropQueued: (keys) => {
          for (const pool of this.pools.values()) {
            if (keys) for (const key of keys) pool.dropQueued(key);
            else pool.dropQueued();
          }
        },
        whenIdle: (keys) => this.poolsIdle(keys),
        commit: (keys) => this.commits.commit(keys),
        releasePauses: (keys) => this.backpressure.release(keys),
        runHooks: (kind, keys) => this.runHooks(kind, keys),
      },
    );
    const commitsOffsets = group.settings.standalone?.commitOffsets ?? true;
    this.commits = new CommitCoordinator({
      groupId: group.groupId,
      logger: deps.logger,
      reportFailure,
      handlers: group.handlers,
      owned: this.owned,
      schedule: (handler) => this.runtimes.get(handler.name)!.schedule,
      committing: () => commitsOffsets && !this.liveness.suspended,
      send: (offsets) => (this.engine ? this.engine.commit(offsets) : Promise.reject(new Error('not started; nothing can be committed'))),
      isRetriable: (error) => deps.errors.isRetriableCommit(error),
      isGenerationError: (error) => deps.errors.isGeneration(error),
      generationEnded: (error) => {
        if (!this.stopping) this.generationEnded = error;
      },
      delegateFailure: (error, offsets) => (this.standalone ? (this.standalone.onCommitFailure(error, offsets), true) : false),
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
    const deadLetters = this.deadLetters.stats();
    const counts = deadLetters ? { deadLetters } : {};
    if (this.stopped) return { groupId, state: 'stopped', ...counts };
    if (crash) return { groupId, state: crash.restart ? 'restarting' : 'failed', error: crash.message, ...counts };
    const outage = this.deadLetters.outage();
    if (outage) {
      const error = `dead-letter topic ${outage.topic} cannot be written since ${new Date(outage.since).toISOString()} (${outage.error}); ${deadLetters!.waiting} record(s) and their partitions wait for it`;
      return { groupId, state: 'degraded', error, ...counts };
    }
    return { groupId, state: 'running', ...counts };
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
    if (!state || !this.engine) {
      throw new Error(`group ${this.groupId}: ${topic}[${partition}] is not assigned to this member; it owns ${this.assignment().join(', ') || 'nothing'}`);
    }
    const offset = await resolveSeekPosition(this.deps.admin, topic, partition, position);
    this.engine.seek(topic, partition, offset);
    for (const pool of this.pools.values()) pool.dropQueued(key); // fetched before the seek: stale
    this.owned.set(key, freshPartitionState(state.handler));
    return offset;
  }

  /** Connects, subscribes and resolves once the consumer has joined its group. */
  async start(): Promise<void> {
    const { group, options } = this.deps;
    const { topics, missing } = await this.topics.resolve();
    this.standalone = group.settings.standalone ? await this.planStandalone(group.settings.standalone) : undefined;
    if (missing.length > 0 && !this.standalone) {
      this.deps.logger.warn?.(`group ${group.groupId}: topics ${missing.join(', ')} do not exist yet; they are subscribed when they appear`);
    }
    await this.startThreadPools();
    const engine = this.deps.createEngine({
      groupId: group.groupId,
      settings: group.settings,
      clientRack: options.clientRack,
      sticky: this.stickyState,
      // New topics join the running consumer's subscription at its next heartbeat (a rejoin).
      pendingTopics: this.topics.pending,
      standalone: this.standalone?.setup(),
      listener: {
        onBatch: (batch, loop) => this.onBatch(batch, loop),
        beforeJoin: (memberLost) => this.beforeJoin(memberLost),
        afterJoin: (joined) => this.afterJoin(joined),
        onCrash: (error, restart) => this.onCrash(error, restart),
        pollIntervalExceeded: () => this.liveness.stalled,
        stopping: () => this.stopping,
      },
    });
    checkEngineSupports(engine, {
      groupId: group.groupId,
      groupInstanceId: group.settings.groupInstanceId,
      standalone: this.standalone !== undefined,
      assignmentStrategy: group.settings.assignmentStrategy,
    });
    this.engine = engine;
    await engine.connect();
    if (this.stopping) return; // stop() came during the start: it disconnects what was connected
    for (const [fromBeginning, list] of this.topics.byStart(topics)) await engine.subscribe(list, fromBeginning);
    await engine.run(group.settings.partitionsConsumedConcurrently);
    if (this.stopping) return;

    if (!this.standalone && this.topics.needsRefresh(missing)) {
      this.refreshTimer = setInterval(() => void (this.stopping ? undefined : this.topics.refresh()), options.topicRefreshIntervalMs);
    }
    const autoIntervals = group.handlers.filter((h) => h.commit.mode === 'auto' && h.commit.intervalMs > 0).map((h) => h.commit.intervalMs);
    const tickMs = this.pools.size > 0 ? POOL_TICK_MS : Math.max(POOL_TICK_MS, Math.floor(group.settings.heartbeatIntervalMs / 4));
    this.tickTimer = setInterval(() => this.onTimer('tick', () => this.tick()), tickMs);
    if (autoIntervals.length > 0) {
      this.autoCommitTimer = setInterval(() => this.onTimer('auto commit', () => this.commits.commitDueAuto(Date.now())), Math.max(50, Math.min(...autoIntervals) / 4));
    }
    this.standalone?.start(engine, (partitions) => this.adoptPartitions(partitions));
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
    const engine = this.engine;
    if (!engine) {
      clearInterval(this.tickTimer);
      return;
    }
    engine.pauseTopics(this.topics.all());
    this.liveness.release();
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
    await this.commits.commit(); // synchronous before the partitions are given up (§4.6.4)
    // As Java's close(): every owned partition is given up, after its final commit.
    await this.runHooks('revoked', [...this.owned.keys()]);
    const left = await withTimeout(engine.disconnect(), Math.max(options.shutdownTimeoutMs, 5_000));
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
      this.runtimes.get(handler.name)!.processor = new RecordProcessor({ ...handler, source }, this.env);
    }
  }

  private async onBatch(batch: EngineBatch, fetchLoop: FetchLoopControl): Promise<void> {
    if (this.stopping) return;
    if (this.liveness.suspended) {
      // As a Java poll loop stuck in one record: nothing else is fetched or handled until it ends.
      // Then kafkajs's heartbeat after this batch joins again (see consumer-group-extension).
      await this.liveness.untilStallEnds();
      return;
    }
    const key = topicPartitionKey(batch.topic, batch.partition);
    const state = this.owned.get(key);
    if (!state) return;
    state.highWatermark = batch.highWatermark;
    const loop: BatchLoop = {
      interrupted: () => this.batchInterrupted(fetchLoop, key, state),
      mustRejoin: () => this.generationEnded !== undefined,
      heartbeatDue: () => this.heartbeatDue(),
      heartbeat: () => this.heartbeat(fetchLoop),
      resolveOffset: (offset) => fetchLoop.resolveOffset(offset),
    };
    const name = state.handler.name;
    this.inFlight += 1;
    try {
      const pooled = this.pooled.get(name);
      const job = { batch, loop, key, state };
      if (pooled) await pooled.dispatch(job);
      else if (state.handler.batch) await dispatchInChunks(job, this.runtimes.get(name)!, this.services, this.deps.group.settings.maxPollRecords);
      else await dispatchSequentially(job, this.runtimes.get(name)!, this.services);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
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
    this.liveness.check();
    if (this.stopping) return;
    for (const [name, pool] of this.pools) {
      const { handler } = this.runtimes.get(name)!;
      this.commits.commitFinishedWork(handler);
      this.resumeDrained(handler, pool);
    }
  }

  /** Records of one partition the pool holds at most: an equal part of its bound per owned partition. */
  private partitionShare(handler: Handler, pool: WorkScheduler): number {
    let partitions = 0;
    for (const state of this.owned.values()) if (state.handler === handler) partitions++;
    return Math.max(1, Math.floor(pool.metrics().capacity / Math.max(1, partitions)));
  }

  /** Resumes this handler's partitions whose pooled backlog drained to half their share. */
  private resumeDrained(handler: Handler, pool: WorkScheduler): void {
    if (this.backpressure.size === 0) return;
    const share = this.partitionShare(handler, pool);
    this.backpressure.resumeWhere(
      (key) => !this.owned.has(key) || (this.owned.get(key)!.handler === handler && pool.pending(key) <= Math.floor(share / 2)),
      (key) => this.owned.has(key),
      !this.stopping,
    );
  }

  private async poolsIdle(keys?: string[]): Promise<void> {
    for (const pool of this.pools.values()) {
      if (keys) await Promise.all(keys.map((key) => pool.whenPartitionIdle(key)));
      else await pool.whenIdle();
    }
  }

  /** Counts, offsets and lag per owned partition. */
  metrics(): PartitionMetrics[] {
    return partitionMetrics(this.owned, (state) => this.pools.get(state.handler.name), (key) => this.backpressure.isPaused(key));
  }

  /** Stop the batch: shutdown, revocation, a seek (a new state), a stall, or the engine stopped the loop. */
  private batchInterrupted(fetchLoop: FetchLoopControl, key: string, state: PartitionState): boolean {
    return this.stopping || this.liveness.suspended || this.owned.get(key) !== state || !fetchLoop.isRunning();
  }

  /** The fetch loop should heartbeat now: its interval passed, or a commit learned the generation ended. */
  private heartbeatDue(): boolean {
    return this.generationEnded !== undefined || Date.now() >= this.nextLoopHeartbeatAt;
  }

  /** A heartbeat that reports a rebalance first commits what finished, then lets the engine rejoin. */
  private async heartbeat(fetchLoop: FetchLoopControl): Promise<void> {
    if (this.generationEnded !== undefined) {
      // Rejoin now rather than at the next heartbeat: work done meanwhile could not be committed.
      const error = this.generationEnded;
      this.generationEnded = undefined;
      throw error;
    }
    this.nextLoopHeartbeatAt = Date.now() + this.loopHeartbeatEveryMs;
    try {
      await fetchLoop.heartbeat();
    } catch (error) {
      await this.commits.commit();
      throw error;
    }
  }

  /** A timer's work: an error is logged, never thrown (thrown from a timer, it would end the process). */
  private onTimer(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.logger.error(`group ${this.groupId}: ${what} failed: ${(error as Error)?.message ?? error}`);
    }
  }

  /** Before the client (re)joins (see RebalanceCoordinator.beforeJoin). */
  private async beforeJoin(memberLost: boolean): Promise<void> {
    this.liveness.rejoining();
    await this.rebalance.beforeJoin(memberLost, this.joined.generationId);
  }

  /** After each join and sync; true: join again at once (cooperative hand-over). */
  private async afterJoin(joined: JoinResult): Promise<boolean> {
    this.generationEnded = undefined;
    if (this.crash?.restart) this.crash = undefined; // joined again: recovered
    this.joined = joined;
    return this.rebalance.afterJoin(joined);
  }

  private losePartitions(reason: string): Promise<void> {
    return this.rebalance.lose(reason, this.joined.generationId);
  }

  private runHooks(kind: RebalanceHookKind, keys: string[]): Promise<void> {
    const { memberId, generationId } = this.joined;
    return this.hooks.run(kind, keys, {
      groupId: this.groupId,
      memberId,
      generationId,
      seek: (topic, partition, position) => this.seek(topic, partition, position),
    });
  }

  private onCrash(error: Error, restart: boolean): void {
    if (this.stopping) return;
    // A restarted consumer rejoins and refetches from the committed offsets.
    void this.losePartitions(`the consumer crashed (${error?.message})`);
    const message = this.deps.errors.isFenced(error)
      ? `group ${this.groupId}: another live member uses groupInstanceId "${this.deps.group.settings.groupInstanceId}"; this member was fenced and has stopped consuming. Give every member its own groupInstanceId.`
      : `group ${this.groupId}: consumer crashed (${error?.message})${restart ? '; kafkajs restarts it' : '; it will not restart'}`;
    this.deps.logger.error(message);
    // A health check shows the fix for a fencing, not kafkajs's wording of it.
    this.crash = { message: this.deps.errors.isFenced(error) ? message : (error?.message ?? String(error)), restart };
    void this.deps.reportFailure({ kind: 'consumer', error, groupId: this.groupId });
  }

  private planStandalone(settings: ResolvedStandalone): Promise<StandaloneReader> {
    return StandaloneReader.plan({
      admin: this.deps.admin,
      errors: this.deps.errors,
      groupId: this.groupId,
      settings,
      logger: this.deps.logger,
      reportFailure: this.deps.reportFailure,
      startsFromBeginning: (topic) => this.topics.startsFromBeginning(topic),
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
      this.owned.set(keys[i], freshPartitionState(this.topics.route(topic)!));
      this.topics.add(topic);
    }
    await this.runHooks('assigned', keys);
  }

  private drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return withTimeout(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs);
  }
}

/** Pool commits and resumes run this often; keep-alive checks at least this often. */
const POOL_TICK_MS = 20;


