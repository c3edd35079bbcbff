import { BUILTIN } from '../deserializers/builtin-deserializers';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { Deserializer } from '../interfaces/deserializer.interface';
import {
  BUILTIN_DESERIALIZERS,
  COMMIT_MODES,
  CommitMode,
  CommitPolicyOptions,
  KafkaHandlerMetadata,
  ORDERING_MODES,
  OrderingMode,
} from '../interfaces/handler-options.interface';
import {
  ASSIGNMENT_STRATEGIES,
  AUTO_OFFSET_RESET,
  ConsumerSettings,
  KafkaConsumerModuleOptions,
} from '../interfaces/module-options.interface';
import { integerAtLeast, TOPIC_NAME } from './option-rules';
import { ResolvedStandalone, resolveStandalone, resolveStandaloneTopics } from './resolve-standalone';

/**
 * The one place that applies defaults and validates options. Pure: no Nest, no
 * kafkajs. Every error names the option, its value and the rule.
 */

export type ResolvedConsumerSettings = Required<Omit<ConsumerSettings, 'groupInstanceId' | 'standalone'>> & {
  groupInstanceId?: string;
  /** Set for a standalone group (§4.11); its `assign` is complete once the group is resolved. */
  standalone?: ResolvedStandalone;
};

export interface ResolvedCommitPolicy {
  mode: CommitMode;
  sync: boolean;
  /** `auto` only; 0 elsewhere. */
  intervalMs: number;
  /** `auto` only; 0 = off. */
  everyRecords: number;
}

export interface ResolvedRetry {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ResolvedModuleOptions {
  brokers: string[];
  clientId: string;
  clientRack: string;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  ssl?: KafkaConsumerModuleOptions['ssl'];
  sasl?: KafkaConsumerModuleOptions['sasl'];
  groupId?: string;
  topicRefreshIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel?: KafkaConsumerModuleOptions['logLevel'];
  defaults: ResolvedConsumerSettings;
  groups: Record<string, ConsumerSettings>;
  handlers: NonNullable<KafkaConsumerModuleOptions['handlers']>;
}

export interface ResolvedHandler<S = unknown> {
  name: string;
  groupId: string;
  topics: string[];
  patterns: RegExp[];
  batch: boolean;
  fromBeginning?: boolean;
  valueDeserializer: Deserializer<unknown>;
  keyDeserializer: Deserializer<unknown>;
  commit: ResolvedCommitPolicy;
  ordering: OrderingMode;
  concurrency: number;
  /** Worker pool: records fetched but not finished, at most (queued + running). */
  maxQueuedRecords: number;
  /** Bound on one attempt of the handler, in ms; undefined: none. */
  handlerTimeoutMs?: number;
  /** Run the CPU part on worker threads (validated when the pool starts). */
  threads?: { filename: string; size?: number; exportName?: string };
  retry: ResolvedRetry;
  /** false: report only; otherwise the dead-letter topic (undefined: `<topic>.DLT`). */
  deadLetter: false | { topic?: string };
  /** Whatever the caller attached (the bound method, for the runtime). */
  source: S;
}

export interface ResolvedGroup<S = unknown> {
  groupId: string;
  settings: ResolvedConsumerSettings;
  handlers: ResolvedHandler<S>[];
}

export const CONSUMER_DEFAULTS: ResolvedConsumerSettings = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  fetchMinBytes: 1,
  fetchMaxBytes: 52_428_800,
  fetchMaxWaitMs: 500,
  maxPartitionFetchBytes: 1_048_576,
  maxBufferedBytes: 2_097_152,
  autoOffsetReset: 'latest',
  assignmentStrategy: 'cooperative-sticky',
  maxPollRecords: 500,
  maxPollIntervalMs: 300_000,
  partitionsConsumedConcurrently: 1,
};

const DEFAULT_COMMIT: ResolvedCommitPolicy = { mode: 'record', sync: false, intervalMs: 0, everyRecords: 0 };
const DEFAULT_AUTO_INTERVAL_MS = 5_000;
const DEFAULT_RETRY: ResolvedRetry = { attempts: 3, initialDelayMs: 100, maxDelayMs: 5_000 };

const SETTING_MINIMUMS: Record<Exclude<keyof ConsumerSettings, 'autoOffsetReset' | 'assignmentStrategy' | 'groupInstanceId' | 'standalone'>, number> = {
  sessionTimeoutMs: 1,
  heartbeatIntervalMs: 1,
  rebalanceTimeoutMs: 1,
  fetchMinBytes: 1,
  fetchMaxBytes: 1,
  fetchMaxWaitMs: 0,
  maxPartitionFetchBytes: 1,
  maxBufferedBytes: 0,
  maxPollRecords: 1,
  maxPollIntervalMs: 1,
  partitionsConsumedConcurrently: 1,
};

export function resolveModuleOptions(options: KafkaConsumerModuleOptions): ResolvedModuleOptions {
  if (options === null || typeof options !== 'object') {
    throw new KafkaConsumerConfigError('options', options, 'must be an object with at least `brokers`');
  }
  const brokers = resolveBrokers(options.brokers);
  const clientId = options.clientId ?? 'nestjs-kafka-consumer';
  requireNonEmptyString('clientId', clientId);
  if (options.clientRack !== undefined) requireNonEmptyString('clientRack', options.clientRack);
  if (options.groupId !== undefined) requireNonEmptyString('groupId', options.groupId);
  const moduleWide = (options as ConsumerSettings).standalone;
  if (moduleWide !== undefined) {
    throw new KafkaConsumerConfigError('standalone', moduleWide, 'a standalone consumer is set per group: groups: { <groupId>: { standalone: { ... } } }');
  }

  const defaults = resolveSettings('', { ...CONSUMER_DEFAULTS }, options);
  const groups = options.groups ?? {};
  const shutdownTimeoutMs = integerAtLeast('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 30_000, 0);
  checkEagerDrainBound(shutdownTimeoutMs, '', defaults);
  for (const [groupId, settings] of Object.entries(groups)) {
    checkEagerDrainBound(shutdownTimeoutMs, `groups.${groupId}.`, resolveSettings(`groups.${groupId}.`, defaults, settings ?? {}));
  }

  return {
    brokers,
    clientId,
    clientRack: options.clientRack ?? '',
    requestTimeoutMs: integerAtLeast('requestTimeoutMs', options.requestTimeoutMs ?? 30_000, 1),
    connectionTimeoutMs: integerAtLeast('connectionTimeoutMs', options.connectionTimeoutMs ?? 1_000, 1),
    ssl: options.ssl,
    sasl: options.sasl,
    groupId: options.groupId,
    topicRefreshIntervalMs: integerAtLeast('topicRefreshIntervalMs', options.topicRefreshIntervalMs ?? 30_000, 100),
    shutdownTimeoutMs,
    logLevel: options.logLevel,
    defaults,
    groups,
    handlers: options.handlers ?? {},
  };
}

/**
 * Resolves every handler against the module options and groups them by
 * consumer group. Checks the rules that need all handlers at once.
 */
export function resolveGroups<S>(
  module: ResolvedModuleOptions,
  handlers: Array<{ name: string; metadata: KafkaHandlerMetadata; source: S }>,
): ResolvedGroup<S>[] {
  const names = new Set<string>();
  const byGroup = new Map<string, ResolvedHandler<S>[]>();
  for (const handler of handlers) {
    if (names.has(handler.name)) {
      throw new KafkaConsumerConfigError(`handler ${handler.name}: name`, handler.name, 'handler names must be unique; set `name` in the decorator');
    }
    names.add(handler.name);
    const resolved = resolveHandler(module, handler);
    const list = byGroup.get(resolved.groupId) ?? [];
    list.push(resolved);
    byGroup.set(resolved.groupId, list);
  }

  for (const name of Object.keys(module.handlers)) {
    if (!names.has(name)) {
      throw new KafkaConsumerConfigError(`handlers.${name}`, module.handlers[name], `no handler is named "${name}"; known handlers: ${[...names].join(', ') || 'none'}`);
    }
  }
  for (const groupId of Object.keys(module.groups)) {
    if (!byGroup.has(groupId)) {
      throw new KafkaConsumerConfigError(`groups.${groupId}`, module.groups[groupId], `no handler consumes in group "${groupId}"; groups with handlers: ${[...byGroup.keys()].join(', ') || 'none'}`);
    }
  }

  return [...byGroup.entries()].map(([groupId, groupHandlers]) => {
    assertNoSharedTopics(groupId, groupHandlers);
    const settings = resolveSettings(`groups.${groupId}.`, module.defaults, module.groups[groupId] ?? {});
    if (settings.standalone) settings.standalone = resolveStandaloneTopics(`groups.${groupId}.standalone`, settings.standalone, groupHandlers);
    for (const handler of groupHandlers) {
      if (handler.handlerTimeoutMs !== undefined && handler.handlerTimeoutMs >= settings.maxPollIntervalMs) {
        throw new KafkaConsumerConfigError(
          `handler ${handler.name}: handlerTimeoutMs`,
          handler.handlerTimeoutMs,
          `must be below maxPollIntervalMs of group "${groupId}" (${settings.maxPollIntervalMs}): a record running that long makes the member leave the group before its timeout fires`,
        );
      }
    }
    return { groupId, settings, handlers: groupHandlers };
  });
}

/**
 * Which handler of a group owns a topic: an explicit topic name wins over a
 * pattern; a topic matched by two patterns is a configuration error.
 */
export function routeTopic<S>(handlers: ResolvedHandler<S>[], topic: string): ResolvedHandler<S> | undefined {
  const explicit = handlers.find((h) => h.topics.includes(topic));
  if (explicit) return explicit;
  const matching = handlers.filter((h) => h.patterns.some((p) => matches(p, topic)));
  if (matching.length > 1) {
    throw new KafkaConsumerConfigError(
      `handlers ${matching.map((h) => h.name).join(' and ')}`,
      topic,
      `topic "${topic}" matches the patterns of two handlers in group "${matching[0].groupId}"; a topic needs exactly one handler per group`,
    );
  }
  return matching[0];
}

export function matches(pattern: RegExp, topic: string): boolean {
  pattern.lastIndex = 0; // a /g or /y pattern keeps state between calls
  return pattern.test(topic);
}

function resolveHandler<S>(
  module: ResolvedModuleOptions,
  handler: { name: string; metadata: KafkaHandlerMetadata; source: S },
): ResolvedHandler<S> {
  const { name, metadata } = handler;
  const at = (field: string) => `handler ${name}: ${field}`;
  const overrides = module.handlers[name] ?? {};

  const groupId = metadata.groupId ?? module.groupId;
  if (groupId === undefined) {
    throw new KafkaConsumerConfigError(at('groupId'), undefined, 'set `groupId` in the decorator or a default `groupId` in the module options');
  }
  requireNonEmptyString(at('groupId'), groupId);

  const { topics, patterns } = resolveSubscription(at('topics'), metadata.topics);
  const ordering = oneOf(at('ordering'), overrides.ordering ?? metadata.ordering ?? 'partition', ORDERING_MODES);
  const concurrency = integerAtLeast(at('concurrency'), overrides.concurrency ?? metadata.concurrency ?? 1, 1);
  if (metadata.batch && (concurrency > 1 || ordering !== 'partition')) {
    throw new KafkaConsumerConfigError(at('concurrency'), concurrency, 'a batch handler runs one batch per partition at a time; concurrency and ordering apply to record handlers');
  }
  if (metadata.threads !== undefined && metadata.batch) {
    throw new KafkaConsumerConfigError(at('threads'), metadata.threads, 'worker threads apply to record handlers');
  }
  const maxQueuedRecords = integerAtLeast(at('maxQueuedRecords'), overrides.maxQueuedRecords ?? metadata.maxQueuedRecords ?? Math.max(64, concurrency * 8), concurrency);

  return {
    name,
    groupId,
    topics,
    patterns,
    batch: metadata.batch,
    fromBeginning: metadata.fromBeginning,
    valueDeserializer: resolveDeserializer(at('deserializer'), metadata.deserializer ?? 'json'),
    keyDeserializer: resolveDeserializer(at('keyDeserializer'), metadata.keyDeserializer ?? 'string'),
    commit: resolveCommitPolicy(at('commit'), overrides.commit ?? metadata.commit),
    ordering,
    concurrency,
    maxQueuedRecords,
    handlerTimeoutMs: optionalIntegerAtLeast(at('handlerTimeoutMs'), overrides.handlerTimeoutMs ?? metadata.handlerTimeoutMs, 1),
    threads: metadata.threads,
    retry: resolveRetry(at('retry'), { ...metadata.retry, ...overrides.retry }),
    deadLetter: resolveDeadLetter(at('deadLetter'), metadata.deadLetter),
    source: handler.source,
  };
}

function resolveSubscription(option: string, subscription: unknown): { topics: string[]; patterns: RegExp[] } {
  const items = Array.isArray(subscription) ? subscription : [subscription];
  if (items.length === 0) {
    throw new KafkaConsumerConfigError(option, subscription, 'subscribe to at least one topic name or a RegExp');
  }
  const topics: string[] = [];
  const patterns: RegExp[] = [];
  for (const item of items) {
    if (item instanceof RegExp) {
      if (item.source === '(?:)') {
        throw new KafkaConsumerConfigError(option, item, 'an empty RegExp would match every topic; write the pattern you mean');
      }
      patterns.push(item);
    } else if (typeof item === 'string' && item.trim() !== '') {
      if (!TOPIC_NAME.test(item)) {
        throw new KafkaConsumerConfigError(option, item, 'a Kafka topic name has 1 to 249 characters among a-z, A-Z, 0-9, ".", "_" and "-"');
      }
      if (!topics.includes(item)) topics.push(item);
    } else {
      throw new KafkaConsumerConfigError(option, subscription, 'each subscription must be a non-empty topic name or a RegExp');
    }
  }
  return { topics, patterns };
}

function assertNoSharedTopics(groupId: string, handlers: ResolvedHandler<unknown>[]): void {
  const owner = new Map<string, string>();
  for (const handler of handlers) {
    for (const topic of handler.topics) {
      const other = owner.get(topic);
      if (other !== undefined) {
        throw new KafkaConsumerConfigError(
          `handler ${handler.name}: topics`,
          topic,
          `topic "${topic}" is already claimed by handler ${other} in group "${groupId}"; one group delivers a record once, so give one of them another groupId`,
        );
      }
      owner.set(topic, handler.name);
    }
  }
}

function resolveCommitPolicy(option: string, policy: CommitMode | CommitPolicyOptions | undefined): ResolvedCommitPolicy {
  if (policy === undefined) return { ...DEFAULT_COMMIT };
  const options: CommitPolicyOptions = typeof policy === 'string' ? { mode: policy } : policy;
  if (options === null || typeof options !== 'object' || !COMMIT_MODES.includes(options.mode)) {
    const mode = typeof policy === 'string' ? policy : (policy as CommitPolicyOptions | null)?.mode;
    throw new KafkaConsumerConfigError(option, mode, `commit mode must be one of ${COMMIT_MODES.join(', ')}`);
  }
  if (options.sync !== undefined && typeof options.sync !== 'boolean') {
    throw new KafkaConsumerConfigError(`${option}.sync`, options.sync, 'must be true or false');
  }
  const isAuto = options.mode === 'auto';
  if (!isAuto && (options.intervalMs !== undefined || options.everyRecords !== undefined)) {
    throw new KafkaConsumerConfigError(option, options, '`intervalMs` and `everyRecords` apply to the `auto` mode only');
  }
  const everyRecords = isAuto ? integerAtLeast(`${option}.everyRecords`, options.everyRecords ?? 0, 0) : 0;
  const intervalDefault = isAuto && options.everyRecords === undefined ? DEFAULT_AUTO_INTERVAL_MS : 0;
  const intervalMs = isAuto ? integerAtLeast(`${option}.intervalMs`, options.intervalMs ?? intervalDefault, 0) : 0;
  if (isAuto && intervalMs === 0 && everyRecords === 0) {
    throw new KafkaConsumerConfigError(option, options, '`auto` needs a positive `intervalMs` or `everyRecords`');
  }
  return { mode: options.mode, sync: options.sync ?? false, intervalMs, everyRecords };
}

function resolveRetry(option: string, retry: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number }): ResolvedRetry {
  const resolved = {
    attempts: integerAtLeast(`${option}.attempts`, retry.attempts ?? DEFAULT_RETRY.attempts, 1),
    initialDelayMs: integerAtLeast(`${option}.initialDelayMs`, retry.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs, 0),
    maxDelayMs: integerAtLeast(`${option}.maxDelayMs`, retry.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs, 0),
  };
  if (resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new KafkaConsumerConfigError(`${option}.maxDelayMs`, resolved.maxDelayMs, `must be at least initialDelayMs (${resolved.initialDelayMs})`);
  }
  return resolved;
}

function resolveDeadLetter(option: string, deadLetter: unknown): false | { topic?: string } {
  if (deadLetter === undefined) return {};
  if (deadLetter === false) return false;
  const topic = (deadLetter as { topic?: unknown } | null)?.topic;
  if (deadLetter === null || typeof deadLetter !== 'object' || (topic !== undefined && (typeof topic !== 'string' || !TOPIC_NAME.test(topic)))) {
    throw new KafkaConsumerConfigError(option, deadLetter, 'must be false or { topic?: a valid topic name }');
  }
  return { topic: topic as string | undefined };
}

function resolveDeserializer(option: string, value: unknown): Deserializer<unknown> {
  if (typeof value === 'string') {
    if (BUILTIN_DESERIALIZERS.includes(value as (typeof BUILTIN_DESERIALIZERS)[number])) {
      return BUILTIN[value as (typeof BUILTIN_DESERIALIZERS)[number]];
    }
  } else if (value !== null && typeof value === 'object' && typeof (value as Deserializer<unknown>).deserialize === 'function') {
    return value as Deserializer<unknown>;
  }
  throw new KafkaConsumerConfigError(option, value, `must be one of ${BUILTIN_DESERIALIZERS.join(', ')} or an object with a deserialize(data, context) method`);
}

function resolveSettings(prefix: string, base: ResolvedConsumerSettings, settings: ConsumerSettings): ResolvedConsumerSettings {
  const resolved: ResolvedConsumerSettings = { ...base };
  for (const key of Object.keys(SETTING_MINIMUMS) as Array<keyof typeof SETTING_MINIMUMS>) {
    const value = settings[key];
    if (value !== undefined) resolved[key] = integerAtLeast(prefix + key, value, SETTING_MINIMUMS[key]);
  }
  if (settings.autoOffsetReset !== undefined) {
    resolved.autoOffsetReset = oneOf(prefix + 'autoOffsetReset', settings.autoOffsetReset, AUTO_OFFSET_RESET);
  }
  if (settings.assignmentStrategy !== undefined) {
    resolved.assignmentStrategy = oneOf(prefix + 'assignmentStrategy', settings.assignmentStrategy, ASSIGNMENT_STRATEGIES);
  }
  if (settings.groupInstanceId !== undefined) {
    if (typeof settings.groupInstanceId !== 'string' || !TOPIC_NAME.test(settings.groupInstanceId)) {
      throw new KafkaConsumerConfigError(prefix + 'groupInstanceId', settings.groupInstanceId, 'must be 1-249 characters of a-z, A-Z, 0-9, ".", "_" or "-", unique per member of the group (e.g. the pod name)');
    }
    resolved.groupInstanceId = settings.groupInstanceId;
  }
  if (settings.standalone !== undefined) {
    resolved.standalone = resolveStandalone(prefix + 'standalone', settings.standalone, resolved.groupInstanceId);
  }
  if (resolved.heartbeatIntervalMs >= resolved.sessionTimeoutMs) {
    throw new KafkaConsumerConfigError(
      prefix + 'heartbeatIntervalMs',
      resolved.heartbeatIntervalMs,
      `must be below sessionTimeoutMs (${resolved.sessionTimeoutMs}); about a third of it is usual (§4.5.6)`,
    );
  }
  if (resolved.fetchMinBytes > resolved.fetchMaxBytes) {
    throw new KafkaConsumerConfigError(prefix + 'fetchMinBytes', resolved.fetchMinBytes, `must not exceed fetchMaxBytes (${resolved.fetchMaxBytes})`);
  }
  return resolved;
}

/**
 * With an eager strategy every member drains its in-flight work (for up to shutdownTimeoutMs)
 * before it rejoins; the coordinator removes a member that has not rejoined within the
 * rebalance timeout, so the drain bound must stay below it. (cooperative-sticky drains only the
 * revoked partitions, after the join, while the group is stable.)
 */
function checkEagerDrainBound(shutdownTimeoutMs: number, prefix: string, settings: ResolvedConsumerSettings): void {
  if (settings.assignmentStrategy === 'cooperative-sticky' || settings.standalone) return;
  if (shutdownTimeoutMs >= settings.rebalanceTimeoutMs) {
    throw new KafkaConsumerConfigError(
      'shutdownTimeoutMs',
      shutdownTimeoutMs,
      `must be below ${prefix}rebalanceTimeoutMs (${settings.rebalanceTimeoutMs}) with assignmentStrategy "${settings.assignmentStrategy}": ` +
        'an eager rebalance drains in-flight work for up to shutdownTimeoutMs before rejoining, and a member that has not rejoined within the rebalance timeout is removed from the group',
    );
  }
}

function resolveBrokers(brokers: unknown): string[] {
  if (brokers === undefined || brokers === null || brokers === '') {
    throw new KafkaConsumerConfigError('brokers', brokers, 'required: the bootstrap servers as ["host:port", ...] or "host:port,host:port"');
  }
  const list = typeof brokers === 'string' ? brokers.split(',').map((b) => b.trim()).filter(Boolean) : brokers;
  if (!Array.isArray(list) || list.length === 0) {
    throw new KafkaConsumerConfigError('brokers', brokers, 'required: the bootstrap servers as ["host:port", ...] or "host:port,host:port"');
  }
  for (const broker of list) {
    if (typeof broker !== 'string' || !/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new KafkaConsumerConfigError('brokers', broker, 'each broker must be "host:port"');
    }
  }
  return list as string[];
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new KafkaConsumerConfigError(option, value, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function requireNonEmptyString(option: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KafkaConsumerConfigError(option, value, 'must be a non-empty string');
  }
}

function optionalIntegerAtLeast(option: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : integerAtLeast(option, value, min);
}
