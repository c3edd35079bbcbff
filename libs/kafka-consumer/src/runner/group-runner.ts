import type { LoggerService } from '@nestjs/common';
import type { ClientErrors, ClusterAdmin } from '../engine/kafka-client';
import type { ConsumerEngine, EngineBatch, EngineCapabilities, EngineSetup, FetchLoopControl, JoinResult } from '../engine/consumer-engine';
import { CommitCoordinator } from '../commit/commit-coordinator';
import { StickyMemberState } from '../assignors/sticky-member-state';
import type { DiscoveredRebalanceHook } from '../discovery/kafka-handler.explorer';
import type { DeadLetterPublisher } from '../dispatch/dead-letter-publisher';
import { Backpressure, resumeDrained } from '../dispatch/backpressure';
import { DeadLetterPath } from '../dispatch/dead-letter-path';
import { HandlerRuntimes } from '../dispatch/handler-runtimes';
import type { BatchLoop } from '../dispatch/batch-loop';
import type { PooledServices } from '../dispatch/pooled-dispatcher';
import type { ProcessingEnvironment } from '../dispatch/record-processor';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import type { ConsumerGroupStatus, GroupMembership, RebalanceHookKind, TopicPartition } from '../interfaces/rebalance.interface';
import type { SeekPosition } from '../interfaces/seek-position.interface';
import { finishRecord, PartitionState } from '../offsets/partition-state';
import { PartitionRegistry } from '../offsets/partition-registry';
import { topicPartitionKey } from '../offsets/topic-partition-key';
import type { ResolvedGroup, ResolvedModuleOptions } from '../options/resolved-options';
import { HookInvoker } from '../rebalance/hook-invoker';
import { RebalanceCoordinator } from '../rebalance/rebalance-coordinator';
import { withTimeout } from '../utils/with-timeout';
import { ConsumerSession } from './consumer-session';
import { FetchLoopHeartbeat } from './fetch-loop-heartbeat';
import { GroupTimers, POOL_TICK_MS } from './group-timers';
import { LivenessMonitor } from './liveness-monitor';
import { partitionMetrics } from './partition-metrics';
import { seekOwnedPartition } from './seek-position';
import { StandaloneReader } from './standalone-reader';
import { commitThrough, GroupTelemetry } from '../telemetry/group-telemetry';
import type { PrometheusExposition } from '../telemetry/prometheus-metrics';
import { TopicSubscriptions } from './topic-subscriptions';

export interface GroupRunnerDeps {
  /** Builds this group's client consumer (the only part that knows the Kafka client). */
  createEngine(setup: EngineSetup): ConsumerEngine;
  admin: ClusterAdmin;
  errors: ClientErrors;
  /** What this group's engine does itself. */
  capabilities: EngineCapabilities;
  group: ResolvedGroup<BoundMethod>;
  options: ResolvedModuleOptions;
  reportFailure: (failure: KafkaConsumerFailure) => Promise<void>;
  deadLetters: DeadLetterPublisher;
  /** This group's @OnPartitionsAssigned/Revoked/Lost methods. */
  rebalanceHooks: DiscoveredRebalanceHook[];
  logger: LoggerService;
  /** Where Prometheus counters go, when `prometheus` is on. */
  prometheus?: PrometheusExposition;
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
  private readonly owned = new PartitionRegistry();
  private readonly session: ConsumerSession;
  private readonly topics: TopicSubscriptions<BoundMethod>;
  private readonly handlers: HandlerRuntimes;
  /** Partitions paused because their records fill a pool; resumed as it drains. */
  private readonly backpressure: Backpressure;
  /** Heartbeats while user code runs; the max.poll.interval.ms stall. */
  private readonly liveness: LivenessMonitor;
  private readonly loopHeartbeat: FetchLoopHeartbeat;
  private readonly commits: CommitCoordinator;
  private readonly abort = new AbortController();
  private readonly stickyState = new StickyMemberState();
  private readonly rebalance: RebalanceCoordinator;
  private readonly hooks: HookInvoker;
  private readonly deadLetters: DeadLetterPath;
  private stopped: Promise<void> | undefined;
  /** Pool commits and resumes, and heartbeats while user code runs: until the drain at shutdown ends. */
  private readonly ticks: GroupTimers;
  /** Auto commits and the topic refresh: until shutdown begins. */
  private readonly periodic: GroupTimers;
  /** Standalone consumer (§4.11): reads given partitions without group membership; undefined for a group member. */
  private standalone: StandaloneReader | undefined;
  private readonly telemetry: GroupTelemetry | undefined;

  constructor(private readonly deps: GroupRunnerDeps) {
    const { group, reportFailure, logger } = deps;
    const signal = this.abort.signal;
    this.session = new ConsumerSession({
      groupId: group.groupId,
      groupInstanceId: group.settings.groupInstanceId,
      engineName: () => this.engine?.name ?? 'the client',
      errors: deps.errors,
      logger,
    });
    const telemetry = (this.telemetry = GroupTelemetry.forGroup(group.groupId, deps.prometheus));
    const env: ProcessingEnvironment = {
      groupId: group.groupId,
      signal,
      reportFailure,
      publishDeadLetter: (topic, failure) => this.deadLetters.publish(topic, failure, signal),
      seek: (topic, partition, position) => this.seek(topic, partition, position),
    };
    this.backpressure = new Backpressure({ pause: (keys) => this.engine?.pause(keys), resume: (keys) => this.engine?.resume(keys) });
    this.ticks = new GroupTimers(group.groupId, logger);
    this.periodic = new GroupTimers(group.groupId, logger);
    this.deadLetters = new DeadLetterPath(deps.deadLetters, group.groupId, logger, reportFailure);
    this.topics = new TopicSubscriptions(group, deps.admin, logger);
    // The fetch loop asks the engine for a heartbeat (and hears of rebalances) at most this often.
    const loopHeartbeatEveryMs = Math.max(10, Math.floor(group.settings.heartbeatIntervalMs / 4));
    this.loopHeartbeat = new FetchLoopHeartbeat(loopHeartbeatEveryMs, () => this.commits.commit());
    // A rebalance shows at the fetch loop's next heartbeat; once stalled, this member leaves the group.
    this.liveness = LivenessMonitor.forGroup(group.groupId, group.settings, () => this.engine?.keepAlive(), logger, deps.capabilities.enforcesPollInterval);
    const services: PooledServices = {
      loopStarted: (key) => this.liveness.loopStarted(key),
      loopEnded: (key) => this.liveness.loopEnded(key),
      recordStarted: (record) => this.liveness.recordStarted(record),
      recordEnded: (record) => this.liveness.recordEnded(record),
      finish: finishRecord,
      commit: (handler, keys) => this.commits.byPolicy(handler, keys),
      pause: (key) => this.owned.has(key) && this.backpressure.pause([key]),
      holdsBefore: (key, state, offset) => this.backpressure.holdIf(key, this.commits.finishedAhead?.holdsBefore(key, state.tracker, offset) === true),
    };
    this.handlers = new HandlerRuntimes({ group, env, services, wakeEveryMs: loopHeartbeatEveryMs, logger, telemetry });
    this.hooks = new HookInvoker(deps.rebalanceHooks, group.groupId, logger, reportFailure);
    this.rebalance = new RebalanceCoordinator(
      {
        groupId: group.groupId,
        // KIP-848 rebalances are always incremental.
        cooperative: group.settings.assignmentStrategy === 'cooperative-sticky' || group.settings.groupProtocol === 'consumer',
        drainTimeoutMs: deps.options.shutdownTimeoutMs,
        logger,
        sticky: this.stickyState,
      },
      {
        owned: this.owned,
        route: (topic) => this.topics.route(topic),
        stopping: () => this.session.stopping,
        dropQueued: (keys) => this.handlers.dropQueued(keys),
        whenIdle: (keys) => this.handlers.whenIdle(keys),
        commit: (keys) => this.commits.commit(keys),
        releasePauses: (keys) => this.backpressure.release(keys),
        runHooks: (kind, keys) => this.runHooks(kind, keys),
        restoreFinished: (keys) => this.commits.restoreFinishedAhead(keys),
      },
    );
    const commitsOffsets = group.settings.standalone?.commitOffsets ?? true;
    this.commits = new CommitCoordinator({
      groupId: group.groupId,
      logger,
      reportFailure,
      handlers: group.handlers,
      owned: this.owned,
      schedule: (handler) => this.handlers.schedule(handler),
      committing: () => commitsOffsets && !this.liveness.suspended,
      send: (offsets) => (this.engine ? commitThrough(this.telemetry, this.engine, offsets) : Promise.reject(new Error('not started; nothing can be committed'))),
      isRetriable: (error) => deps.errors.isRetriableCommit(error),
      isGenerationError: (error) => deps.errors.isGeneration(error),
      generationEnded: (error) => {
        if (!this.session.stopping) this.loopHeartbeat.generationEnded(error);
      },
      delegateFailure: (error, offsets) => (this.standalone ? (this.standalone.onCommitFailure(error, offsets), true) : false),
      admin: deps.admin,
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
    return this.session.status(this.deadLetters);
  }

  /** This member's place in its group, as of the last join. */
  membership(): GroupMembership {
    return this.session.membership(this.assignment());
  }

  /** Finished-ahead maps left out of commits and unreadable ones ignored; undefined without commitMetadata. */
  commitMetadataCounts(): { dropped: number; unreadable: number } | undefined {
    return this.commits.finishedAhead?.counts;
  }

  /** Counts, offsets and lag per owned partition. */
  metrics(): PartitionMetrics[] {
    return partitionMetrics(this.owned, (state) => this.handlers.pool(state.handler), (key) => this.backpressure.isPaused(key));
  }

  /** Moves the fetch position of an owned partition (§4.8); see seekOwnedPartition. */
  seek(topic: string, partition: number, position: SeekPosition): Promise<string> {
    const { groupId, owned, engine, deps } = this;
    return seekOwnedPartition({ groupId, owned, engine, admin: deps.admin, dropQueued: (keys) => this.handlers.dropQueued(keys) }, topic, partition, position);
  }

  /** Connects, subscribes and resolves once the consumer has joined its group. */
  async start(): Promise<void> {
    const { group, options } = this.deps;
    const { topics, missing } = await this.topics.resolve();
    const { standalone } = group.settings;
    const startsFromBeginning = (topic: string) => this.topics.startsFromBeginning(topic);
    const stopping = () => this.session.stopping;
    this.standalone = standalone ? await StandaloneReader.plan({ ...this.deps, groupId: this.groupId, settings: standalone, startsFromBeginning, stopping }) : undefined;
    if (missing.length > 0 && !this.standalone) {
      this.deps.logger.warn?.(`group ${group.groupId}: topics ${missing.join(', ')} do not exist yet; they are subscribed when they appear`);
    }
    await this.handlers.startThreads();
    await this.commits.prepare();
    // What the engine cannot honour was refused at module init (checkGroupEngine).
    const engine = this.deps.createEngine(this.engineSetup());
    this.engine = engine;
    await engine.connect();
    if (this.session.stopping) return; // stop() came during the start: it disconnects what was connected
    for (const [fromBeginning, list] of this.topics.byStart(topics)) await engine.subscribe(list, fromBeginning);
    await engine.run(group.settings.partitionsConsumedConcurrently);
    if (this.session.stopping) return;

    if (!this.standalone && this.topics.needsRefresh(missing)) {
      this.periodic.every('topic refresh', options.topicRefreshIntervalMs, () => this.topics.refresh());
    }
    const autoIntervals = group.handlers.filter((h) => h.commit.mode === 'auto' && h.commit.intervalMs > 0).map((h) => h.commit.intervalMs);
    if (autoIntervals.length > 0) {
      this.periodic.every('auto commit', Math.max(50, Math.min(...autoIntervals) / 4), () => this.commits.commitDueAuto(Date.now()));
    }
    const tickMs = this.handlers.pooling ? POOL_TICK_MS : Math.max(POOL_TICK_MS, Math.floor(group.settings.heartbeatIntervalMs / 4));
    this.ticks.every('tick', tickMs, () => this.tick());
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
    this.session.stopping = true;
    this.periodic.clear();
    this.standalone?.stop();
    const engine = this.engine;
    if (!engine) {
      this.ticks.clear();
      return;
    }
    engine.pauseTopics(this.topics.all());
    this.liveness.release();
    // Queued records never started: they stay uncommitted and are delivered again later.
    this.handlers.dropQueued();
    const drained = (await this.session.drained(options.shutdownTimeoutMs)) && (await withTimeout(this.handlers.whenIdle(), options.shutdownTimeoutMs));
    this.ticks.clear();
    // A record still running past the timeout stays uncommitted; it is redelivered later.
    this.abort.abort();
    await this.handlers.stopThreads();
    if (!drained) {
      logger.error(`group ${group.groupId}: handlers still running after ${options.shutdownTimeoutMs} ms; committing only finished records`);
    }
    await this.commits.commit(); // synchronous before the partitions are given up (§4.6.4)
    // As Java's close(): every owned partition is given up, after its final commit.
    await this.runHooks('revoked', [...this.owned.keys()]);
    const left = await withTimeout(engine.disconnect(), Math.max(options.shutdownTimeoutMs, 5_000));
    if (!left) logger.error(`group ${group.groupId}: the consumer did not disconnect in time`);
    this.owned.clear();
    this.telemetry?.close();
  }

  private engineSetup(): EngineSetup {
    const { group, options } = this.deps;
    return {
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
        stopping: () => this.session.stopping,
      },
    };
  }

  private async onBatch(batch: EngineBatch, fetchLoop: FetchLoopControl): Promise<void> {
    if (this.session.stopping) return;
    if (this.liveness.suspended) {
      // As a Java poll loop stuck in one record: nothing else is fetched or handled until it ends.
      // Then the engine's heartbeat after this batch joins again.
      await this.liveness.untilStallEnds();
      return;
    }
    const key = topicPartitionKey(batch.topic, batch.partition);
    const state = this.owned.get(key);
    if (!state) return;
    state.highWatermark = batch.highWatermark;
    const loop: BatchLoop = {
      interrupted: () => this.batchInterrupted(fetchLoop, key, state),
      mustRejoin: () => this.loopHeartbeat.mustRejoin,
      heartbeatDue: () => this.loopHeartbeat.due(),
      heartbeat: () => this.loopHeartbeat.beat(fetchLoop),
      resolveOffset: (offset) => fetchLoop.resolveOffset(offset),
    };
    this.session.batchStarted();
    try {
      await this.handlers.dispatch({ batch, loop, key, state }, this.deps.group.settings.maxPollRecords);
    } finally {
      this.session.batchEnded();
    }
  }

  /** Stop the batch: shutdown, revocation, a seek (a new state), a stall, or the engine stopped the loop. */
  private batchInterrupted(fetchLoop: FetchLoopControl, key: string, state: PartitionState): boolean {
    return this.session.stopping || this.liveness.suspended || this.owned.get(key) !== state || !fetchLoop.isRunning();
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
    if (this.session.stopping) return;
    this.backpressure.applyHolds(this.commits.finishedAhead?.sizeLimits());
    for (const [handler, pool] of this.handlers.pools()) {
      this.commits.commitFinishedWork(handler);
      resumeDrained(this.backpressure, pool, this.owned, handler, true);
    }
  }

  /** Before the client (re)joins (see RebalanceCoordinator.beforeJoin). */
  private async beforeJoin(memberLost: boolean): Promise<void> {
    this.liveness.rejoining();
    await this.rebalance.beforeJoin(memberLost, this.session.joined.generationId);
  }

  /** After each join and sync; true: join again at once (cooperative hand-over). */
  private async afterJoin(joined: JoinResult): Promise<boolean> {
    this.loopHeartbeat.joined();
    this.session.rejoined(joined);
    this.telemetry?.rebalanced();
    return this.rebalance.afterJoin(joined);
  }

  private runHooks(kind: RebalanceHookKind, keys: string[]): Promise<void> {
    if (kind === 'lost') this.telemetry?.partitionsLost(keys.length);
    const { memberId, generationId } = this.session.joined;
    return this.hooks.run(kind, keys, {
      groupId: this.groupId,
      memberId,
      generationId,
      seek: (topic, partition, position) => this.seek(topic, partition, position),
    });
  }

  private onCrash(error: Error, restart: boolean): void {
    if (this.session.stopping) return;
    // A restarted consumer rejoins and refetches from the committed offsets.
    void this.rebalance.lose(`the consumer crashed (${error?.message})`, this.session.joined.generationId);
    this.session.crashed(error, restart);
    void this.deps.reportFailure({ kind: 'consumer', error, groupId: this.groupId });
  }

  /** Standalone partition discovery (§4.11) now rather than at the next interval; resolves with the partitions taken. */
  discoverPartitions(): Promise<string[]> {
    return this.standalone?.discover() ?? Promise.reject(new Error(`group ${this.groupId} is not a standalone consumer; its partitions come from the group`));
  }


  /** Partitions a standalone consumer found: tracked from now on, announced before they are fetched. */
  private async adoptPartitions(partitions: TopicPartition[]): Promise<void> {
    const keys = partitions.map(({ topic, partition }) => topicPartitionKey(topic, partition));
    for (const [i, { topic }] of partitions.entries()) {
      this.owned.track(keys[i], this.topics.route(topic)!);
      this.topics.add(topic);
    }
    await this.runHooks('assigned', keys);
  }
}
