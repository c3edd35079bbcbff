import { BUILTIN } from '../deserializers/builtin-deserializers';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { Deserializer } from '../interfaces/deserializer.interface';
import type { CommitMode, CommitPolicyOptions, KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { integerAtLeast, oneOf, optionalIntegerAtLeast, requireNonEmptyString, TOPIC_NAME } from './option-rules';
import { BUILTIN_DESERIALIZERS, COMMIT_METADATA_MODES, COMMIT_MODES, ORDERING_MODES } from './option-values';
import type { ResolvedCommitPolicy, ResolvedHandler, ResolvedModuleOptions, ResolvedRetry } from './resolved-options';

/** One handler's options: decorator metadata, then config overrides by name. Pure. */

const DEFAULT_COMMIT: ResolvedCommitPolicy = { mode: 'record', sync: false, intervalMs: 0, everyRecords: 0 };
const DEFAULT_AUTO_INTERVAL_MS = 5_000;
const DEFAULT_RETRY: ResolvedRetry = { attempts: 3, initialDelayMs: 100, maxDelayMs: 5_000 };

export function resolveHandler<S>(
  module: ResolvedModuleOptions,
  handler: { name: string; metadata: KafkaHandlerMetadata; source: S },
): ResolvedHandler<S> {
  const { name, metadata } = handler;
  const at = (field: string) => `handler ${name}: ${field}`;
  const overrides = module.handlers[name] ?? {};

  const groupId = overrides.groupId ?? metadata.groupId ?? module.groupId;
  if (groupId === undefined) {
    throw new KafkaConsumerConfigError(at('groupId'), undefined, `set \`groupId\` in the decorator, in handlers["${name}"].groupId or as the default \`groupId\` of the module options`);
  }
  requireNonEmptyString(at('groupId'), groupId);

  const subscription = overrides.topics ?? metadata.topics;
  if (subscription === undefined) {
    throw new KafkaConsumerConfigError(at('topics'), undefined, `the decorator names none: set handlers["${name}"].topics in the module options`);
  }
  const { topics, patterns } = resolveSubscription(at('topics'), subscription);
  const ordering = oneOf(at('ordering'), overrides.ordering ?? metadata.ordering ?? 'partition', ORDERING_MODES);
  const concurrency = integerAtLeast(at('concurrency'), overrides.concurrency ?? metadata.concurrency ?? 1, 1);
  if (metadata.batch && (concurrency > 1 || ordering !== 'partition')) {
    throw new KafkaConsumerConfigError(at('concurrency'), concurrency, 'a batch handler runs one batch per partition at a time; concurrency and ordering apply to record handlers');
  }
  if (metadata.threads !== undefined && metadata.batch) {
    throw new KafkaConsumerConfigError(at('threads'), metadata.threads, 'worker threads apply to record handlers');
  }
  const commit = resolveCommitPolicy(at('commit'), overrides.commit ?? metadata.commit);
  const commitMetadata = oneOf(at('commitMetadata'), overrides.commitMetadata ?? metadata.commitMetadata ?? 'none', COMMIT_METADATA_MODES);
  if (commitMetadata !== 'none' && commit.mode === 'manual') {
    throw new KafkaConsumerConfigError(at('commitMetadata'), commitMetadata, "a manual-commit handler commits what it acknowledges; finished-ahead offsets apply to the other commit policies");
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
    commit,
    commitMetadata,
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

export function assertNoSharedTopics(groupId: string, handlers: ResolvedHandler<unknown>[]): void {
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
