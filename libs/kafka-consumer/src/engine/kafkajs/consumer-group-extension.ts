import type { Assigner } from 'kafkajs';
import { FetchSizes, fetchRequestBytes, leadersOf } from './fetch-budget';
import type { StandaloneAssignment, StandaloneConsumerGroup } from './standalone-assignment';

/**
 * kafkajs 2.x exposes no rebalance callbacks, never sends group.instance.id and
 * cannot consume assigned partitions without a group. Its protocol layer can do
 * all of it; only the ConsumerGroup class (and the Broker methods it calls) drop
 * the pieces. This module wraps those few methods once, at load time, and leaves
 * every consumer without an extension exactly as kafkajs made it.
 *
 * A consumer opts in through its partition assigner: the assigner object the
 * module builds carries its extension under EXTENSION, and kafkajs keeps the
 * assigners on the ConsumerGroup, so each group finds its own extension.
 */
export const EXTENSION = Symbol('nestjs-kafka-consumer:consumer-group-extension');

export interface JoinedGroup {
  memberId: string;
  generationId: number;
  /** The partitions this member got, by topic. */
  assignment: Record<string, number[]>;
}

/** What a ConsumerGroup needs from the module, per consumer. */
export interface ConsumerGroupExtension {
  /** Static membership (§4.5.15): sent on JoinGroup, SyncGroup and Heartbeat; no LeaveGroup on close. */
  groupInstanceId?: string;
  /**
   * Standalone consumer (§4.11): no JoinGroup, SyncGroup, Heartbeat or LeaveGroup;
   * the consumer reads exactly these partitions. Commits go out with generation -1,
   * as Kafka expects from a consumer outside group management.
   */
  standalone?: StandaloneAssignment;
  /**
   * Before each (re)join. `memberLost` is true when the coordinator no longer
   * knows this member (session expired, fenced): its partitions are already gone.
   */
  beforeJoin?(memberLost: boolean): Promise<void>;
  /** After each join and sync, before fetching resumes. Returns true to join again at once. */
  afterJoin?(joined: JoinedGroup): Promise<boolean>;
  /** Heartbeats while afterJoin hooks run, so a slow hook does not cost the membership. */
  heartbeatIntervalMs?: number;
  /**
   * Bounds the fetched, not yet handled bytes: each Fetch request asks for
   * this budget split over the brokers fetched from, at most `fetchMaxBytes`
   * (see fetch-budget.ts).
   */
  fetchBudget?: FetchSizes;
  /**
   * Topics to add to the subscription (topic → fromBeginning), filled by the module as they
   * appear. While it holds any, the next heartbeat asks for a rejoin; the join takes them all,
   * so the subscription grows with one JoinGroup of this member, no LeaveGroup and no restart.
   */
  pendingTopics?: Map<string, boolean>;
  /**
   * True while a record has run longer than max.poll.interval.ms. Like Java's
   * consumer, a dynamic member then leaves the group (its partitions move at
   * once) and joins again once the record ends; a static member sends no
   * heartbeats meanwhile, so its session decides.
   */
  pollIntervalExceeded?(): boolean;
  /** True once the module stops this consumer: a join then (kafkajs restarting after a crash) is refused. */
  stopping?(): boolean;
}

/** Internals of kafkajs's ConsumerGroup this module relies on. */
interface KafkajsConsumerGroup {
  assigners: Array<Assigner & { [EXTENSION]?: ConsumerGroupExtension }>;
  memberId: string | null;
  generationId: number | null;
  leaderId: string | null;
  groupId: string;
  topics: string[];
  topicsSubscribed: string[];
  topicConfigurations: Record<string, { fromBeginning: boolean }>;
  subscriptionState: {
    assign(assignment: Array<{ topic: string; partitions: number[] }>): void;
    assigned(): Array<{ topic: string; partitions: number[] }>;
  };
  offsetManager: unknown;
  coordinator: unknown;
  maxBytes: number;
  cluster: {
    findGroupCoordinator(args: { groupId: string }): Promise<unknown>;
    refreshMetadataIfNecessary(): Promise<void>;
    findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader?: number | null }>;
    addMultipleTargetTopics(topics: string[]): Promise<void>;
  };
  assigned(): Array<{ topic: string; partitions: number[] }>;
  joinAndSync(): Promise<void>;
  heartbeat(args: { interval: number }): Promise<void>;
  leave(): Promise<void>;
  fetch(nodeId: number): Promise<unknown[]>;
}

type BrokerMethod = (this: KafkajsBroker, args: Record<string, unknown>) => Promise<unknown>;
interface KafkajsBroker {
  lookupRequest: (apiKey: number, definition: unknown) => (args: Record<string, unknown>) => unknown;
}

/** Broker calls of a group member that carry group.instance.id (JoinGroup v5+, SyncGroup v3+, Heartbeat v3+). */
const MEMBER_CALLS = ['joinGroup', 'syncGroup', 'heartbeat'] as const;
const CARRIES_INSTANCE_ID = Symbol('nestjs-kafka-consumer:carries-group-instance-id');
let installed = false;
/** Groups whose member left because a record outran max.poll.interval.ms; they join again once it ends. */
const leftForPollInterval = new WeakSet<KafkajsConsumerGroup>();

export function extensionOf(group: KafkajsConsumerGroup): ConsumerGroupExtension | undefined {
  return group.assigners?.find((assigner) => assigner[EXTENSION])?.[EXTENSION];
}

/** Marks an assigner as carrying a consumer's extension. */
export function withExtension(assigner: Assigner, extension: ConsumerGroupExtension): Assigner {
  return Object.assign(assigner, { [EXTENSION]: extension });
}

/**
 * The kafkajs versions whose internals this extension wraps: the peer dependency range says the
 * same (a spec compares them), so npm and the runtime check accept the same versions.
 */
export const SUPPORTED_KAFKAJS = { range: '~2.2.0', label: '2.2.x' } as const;

/** True for the versions `SUPPORTED_KAFKAJS.range` admits (2.2.0 up to, not including, 2.3.0; no prereleases). */
export function isSupportedKafkajsVersion(version: string): boolean {
  return /^2\.2\.\d+$/.test(version);
}

/**
 * Wraps kafkajs's ConsumerGroup and Broker methods. Idempotent; throws a clear
 * error when the installed kafkajs is not the 2.x this was written against.
 */
export function installConsumerGroupExtension(): void {
  if (installed) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version: string = require('kafkajs/package.json').version;
  if (!isSupportedKafkajsVersion(version)) {
    throw new Error(`nestjs-kafka-consumer supports kafkajs ${SUPPORTED_KAFKAJS.label} (rebalance hooks, static membership and standalone consumers wrap its ConsumerGroup); found kafkajs ${version}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup') as { prototype: KafkajsConsumerGroup };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Broker = require('kafkajs/src/broker') as { prototype: Record<string, BrokerMethod> & KafkajsBroker };
  for (const method of ['joinAndSync', 'heartbeat', 'leave', 'fetch'] as const) {
    if (typeof ConsumerGroup.prototype[method] !== 'function') throw new Error(`kafkajs ConsumerGroup.${method} not found; unsupported kafkajs build`);
  }
  for (const method of MEMBER_CALLS) {
    if (typeof Broker.prototype[method] !== 'function') throw new Error(`kafkajs Broker.${method} not found; unsupported kafkajs build`);
  }

  const joinAndSync = ConsumerGroup.prototype.joinAndSync;
  const heartbeat = ConsumerGroup.prototype.heartbeat;
  const leave = ConsumerGroup.prototype.leave;
  const fetch = ConsumerGroup.prototype.fetch;

  ConsumerGroup.prototype.joinAndSync = async function (this: KafkajsConsumerGroup): Promise<void> {
    const extension = extensionOf(this);
    if (!extension) return joinAndSync.call(this);
    // Not retriable, so kafkajs does not restart a consumer the module is stopping.
    if (extension.stopping?.()) throw Object.assign(new Error('the consumer is stopping; not joining'), { name: 'KafkaJSNonRetriableError', retriable: false });
    if (extension.standalone) return assignStandalone(this, extension);
    leftForPollInterval.delete(this); // joining now, whatever led here
    await extension.beforeJoin?.(!this.memberId);
    if (extension.groupInstanceId) carryGroupInstanceId(this, extension.groupInstanceId);
    for (;;) {
      await growSubscription(this, extension.pendingTopics);
      await joinTolerantly(() => joinAndSync.call(this));
      const joined: JoinedGroup = {
        memberId: this.memberId ?? '',
        generationId: this.generationId ?? -1,
        assignment: Object.fromEntries(this.assigned().map(({ topic, partitions }) => [topic, [...partitions]])),
      };
      const rejoin = await keepAlive(this, extension, () => extension.afterJoin?.(joined) ?? Promise.resolve(false));
      if (!rejoin && !extension.pendingTopics?.size) return;
    }
  };

  ConsumerGroup.prototype.heartbeat = async function (this: KafkajsConsumerGroup, args: { interval: number }): Promise<void> {
    const extension = extensionOf(this);
    if (!extension) return heartbeat.call(this, args);
    if (extension.standalone) return;
    if (extension.pollIntervalExceeded?.()) {
      if (!extension.groupInstanceId && this.memberId && !leftForPollInterval.has(this)) {
        leftForPollInterval.add(this);
        await leave.call(this).catch(() => (this.memberId = null)); // unreachable coordinator: the session ends it
      }
      return;
    }
    if (leftForPollInterval.has(this)) throw memberLeft(); // until the join: a timer's heartbeat swallows errors
    // kafkajs's runner answers a rebalance error by committing (our runner) and joining again.
    if (extension.pendingTopics?.size) throw subscriptionChanged([...extension.pendingTopics.keys()]);
    return heartbeat.call(this, args);
  };

  ConsumerGroup.prototype.leave = async function (this: KafkajsConsumerGroup): Promise<void> {
    const extension = extensionOf(this);
    // A static member keeps its place for a session timeout, so a restart gets its partitions back
    // without a rebalance; a standalone consumer never joined.
    if (extension?.groupInstanceId || extension?.standalone) {
      this.memberId = null;
      return;
    }
    return leave.call(this);
  };

  ConsumerGroup.prototype.fetch = function (this: KafkajsConsumerGroup, nodeId: number): Promise<unknown[]> {
    const budget = extensionOf(this)?.fetchBudget;
    // kafkajs reads maxBytes when it builds each request; every fetcher of this group gets the same share.
    if (budget) this.maxBytes = fetchRequestBytes(budget, fetchingBrokers(this));
    return fetch.call(this, nodeId);
  };

  installed = true;
}

const LEADERS_REFRESH_MS = 1_000;
const leaderCounts = new WeakMap<KafkajsConsumerGroup, { count: number; at: number }>();

/**
 * Brokers leading this group's assigned partitions, recounted at most once a
 * second (assignments and leaders change rarely; a stale count only shifts
 * the split for a moment).
 */
function fetchingBrokers(group: KafkajsConsumerGroup): number {
  const now = Date.now();
  const cached = leaderCounts.get(group);
  if (cached && now - cached.at < LEADERS_REFRESH_MS) return cached.count;
  let count = 1;
  try {
    const leaders = new Map<string, Map<number, number | null | undefined>>();
    count = leadersOf(group.subscriptionState.assigned(), (topic, partition) => {
      let byPartition = leaders.get(topic);
      if (!byPartition) {
        byPartition = new Map(group.cluster.findTopicPartitionMetadata(topic).map((p) => [p.partitionId, p.leader]));
        leaders.set(topic, byPartition);
      }
      return byPartition.get(partition);
    });
  } catch {
    // metadata not loaded yet: kafkajs's own fetch reports that; count one broker meanwhile
  }
  leaderCounts.set(group, { count, at: now });
  return count;
}

/**
 * Adds the pending topics to what this member subscribes to, as kafkajs's own
 * subscribe() would before a run: their metadata, their start position
 * (fromBeginning), and the topic list the JoinGroup about to be sent carries.
 */
async function growSubscription(group: KafkajsConsumerGroup, pending: Map<string, boolean> | undefined): Promise<void> {
  if (!pending?.size) return;
  const added = [...pending];
  await group.cluster.addMultipleTargetTopics(added.map(([topic]) => topic));
  for (const [topic, fromBeginning] of added) {
    group.topicConfigurations[topic] = { fromBeginning };
    pending.delete(topic);
  }
  group.topicsSubscribed = [...new Set([...group.topicsSubscribed, ...added.map(([topic]) => topic)])];
}

/** The error on which kafkajs's runner forgets its member id and joins as a new member. */
function memberLeft(): Error {
  return Object.assign(new Error('this member left the group when a record outran max.poll.interval.ms; joining again'), { type: 'UNKNOWN_MEMBER_ID' });
}

/** The error kafkajs's runner takes for "join again" (it checks the type, as for Kafka's own code 27). */
function subscriptionChanged(topics: string[]): Error {
  return Object.assign(new Error(`subscription grew (${topics.join(', ')}); joining again`), { type: 'REBALANCE_IN_PROGRESS', retriable: true });
}

/**
 * A SyncGroup that arrives after another member already started the next join
 * is answered REBALANCE_IN_PROGRESS by Kafka, which kafkajs retries; the
 * librdkafka mock answers INVALID_REQUEST, which kafkajs treats as fatal. The
 * cooperative second round makes that race common, so join again instead.
 */
async function joinTolerantly(join: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await join();
    } catch (error) {
      const type = (error as { type?: string })?.type;
      if (type !== 'INVALID_REQUEST' || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * kafkajs's ConsumerGroup reaches the coordinator through `this.coordinator`,
 * set on each join. From then on this group's coordinator is seen through
 * `withGroupInstanceId`, so only this consumer's requests carry the id (no
 * process-wide state: other consumers, even of the same broker, are untouched).
 */
export function carryGroupInstanceId(group: KafkajsConsumerGroup, groupInstanceId: string): void {
  const target = group as unknown as Record<PropertyKey, unknown>;
  if (target[CARRIES_INSTANCE_ID]) return;
  let coordinator = group.coordinator;
  Object.defineProperty(group, 'coordinator', {
    configurable: true,
    enumerable: true,
    get: () => coordinator,
    set: (broker: unknown) => {
      coordinator = broker ? withGroupInstanceId(broker as KafkajsBroker, groupInstanceId) : broker;
    },
  });
  if (coordinator) group.coordinator = coordinator;
  target[CARRIES_INSTANCE_ID] = true;
}

/**
 * A view of a kafkajs Broker whose JoinGroup, SyncGroup and Heartbeat
 * requests carry `groupInstanceId`. kafkajs's Broker builds those requests
 * without it, although its encoders (JoinGroup v5+, SyncGroup v3+, Heartbeat
 * v3+) take it; the view passes it through the request builder for the
 * duration of the call. Every other property reads and writes the broker.
 */
export function withGroupInstanceId<B extends object>(broker: B, groupInstanceId: string): B {
  const real = ((broker as Record<PropertyKey, unknown>)[CARRIES_INSTANCE_ID] as B | undefined) ?? broker;
  const target = real as unknown as KafkajsBroker & Record<string, BrokerMethod>;
  const calls: Record<PropertyKey, unknown> = { [CARRIES_INSTANCE_ID]: real };
  for (const method of MEMBER_CALLS) {
    calls[method] = (args: Record<string, unknown>) => {
      const lookup = target.lookupRequest;
      target.lookupRequest = (apiKey, definition) => {
        const build = lookup.call(target, apiKey, definition);
        return (request) => build({ ...request, groupInstanceId });
      };
      try {
        // kafkajs looks its request up synchronously, before its first await.
        return target[method](args);
      } finally {
        target.lookupRequest = lookup;
      }
    };
  }
  return new Proxy(real, {
    get: (object, property, receiver) => (Object.hasOwn(calls, property) ? calls[property] : Reflect.get(object, property, receiver)),
  });
}

/** Runs `work` while sending heartbeats, so long rebalance hooks keep the membership. */
async function keepAlive<T>(group: KafkajsConsumerGroup, extension: ConsumerGroupExtension, work: () => Promise<T>): Promise<T> {
  const interval = extension.heartbeatIntervalMs;
  if (!interval) return work();
  const timer = setInterval(() => {
    group.heartbeat({ interval }).catch(() => undefined); // a rebalance shows at the runner's next heartbeat
  }, interval);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Standalone "join": take the configured partitions as the assignment and set up
 * offsets as kafkajs's own sync would, without joining the group (see StandaloneAssignment).
 */
async function assignStandalone(group: KafkajsConsumerGroup, extension: ConsumerGroupExtension): Promise<void> {
  const joined = await extension.standalone!.apply(group as unknown as StandaloneConsumerGroup);
  await extension.afterJoin?.(joined);
}
