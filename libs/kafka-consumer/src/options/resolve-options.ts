import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import type { ConsumerSettings, KafkaConsumerModuleOptions, SaslOptions } from '../interfaces/module-options.interface';
import { integerAtLeast, oneOf, requireNonEmptyString } from './option-rules';
import { LOG_LEVELS, SASL_MECHANISMS } from './option-values';
import type { ResolvedGroup, ResolvedHandler, ResolvedModuleOptions } from './resolved-options';
import { assertNoSharedTopics, resolveHandler } from './resolve-handler';
import { checkEagerDrainBound, checkGroupProtocol, CONSUMER_DEFAULTS, resolveSettings } from './resolve-settings';
import { resolveStandaloneTopics } from './resolve-standalone';

/**
 * The one place that applies defaults and validates options. Pure: no Nest, no
 * Kafka client. Every error names the option, its value and the rule.
 */

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
  checkGroupProtocol(undefined, defaults, {}, options);
  for (const [groupId, settings] of Object.entries(groups)) {
    const resolved = resolveSettings(`groups.${groupId}.`, defaults, settings ?? {});
    checkEagerDrainBound(shutdownTimeoutMs, `groups.${groupId}.`, resolved);
    checkGroupProtocol(groupId, resolved, settings ?? {}, options);
  }

  return {
    brokers,
    clientId,
    clientRack: options.clientRack ?? '',
    requestTimeoutMs: integerAtLeast('requestTimeoutMs', options.requestTimeoutMs ?? 30_000, 1),
    connectionTimeoutMs: integerAtLeast('connectionTimeoutMs', options.connectionTimeoutMs ?? 1_000, 1),
    ssl: options.ssl,
    sasl: resolveSasl(options.sasl),
    groupId: options.groupId,
    topicRefreshIntervalMs: integerAtLeast('topicRefreshIntervalMs', options.topicRefreshIntervalMs ?? 30_000, 100),
    shutdownTimeoutMs,
    logLevel: options.logLevel === undefined ? undefined : oneOf('logLevel', options.logLevel, LOG_LEVELS),
    defaults,
    groups,
    handlers: options.handlers ?? {},
    prometheus: resolvePrometheus(options.prometheus),
  };
}

/** `prometheus`: off, prom-client's default registry (`true` or `{}`), or a given registry. */
function resolvePrometheus(prometheus: KafkaConsumerModuleOptions['prometheus']): ResolvedModuleOptions['prometheus'] {
  if (prometheus === undefined || prometheus === false) return undefined;
  if (prometheus === true) return {};
  if (prometheus === null || typeof prometheus !== 'object') {
    throw new KafkaConsumerConfigError('prometheus', prometheus, 'must be true, false or { registry?: a prom-client Registry }');
  }
  const { registry } = prometheus;
  if (registry !== undefined && typeof (registry as { registerMetric?: unknown } | null)?.registerMetric !== 'function') {
    throw new KafkaConsumerConfigError('prometheus.registry', registry, 'must be a prom-client Registry (new Registry() or register)');
  }
  return { registry };
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

/** SASL: a known mechanism and what it needs; the secret itself never goes into the error. */
function resolveSasl(sasl: unknown): SaslOptions | undefined {
  if (sasl === undefined) return undefined;
  const mechanism = (sasl as { mechanism?: unknown } | null)?.mechanism;
  if (sasl === null || typeof sasl !== 'object' || !SASL_MECHANISMS.includes(mechanism as SaslOptions['mechanism'])) {
    throw new KafkaConsumerConfigError('sasl.mechanism', mechanism, `must be one of ${SASL_MECHANISMS.join(', ')}`);
  }
  const given = sasl as Record<string, unknown>;
  if (mechanism === 'oauthbearer') {
    if (typeof given.oauthBearerProvider !== 'function') {
      throw new KafkaConsumerConfigError('sasl.oauthBearerProvider', typeof given.oauthBearerProvider, 'must be a function resolving to { value: token }');
    }
  } else {
    requireNonEmptyString('sasl.username', given.username);
    if (typeof given.password !== 'string' || given.password === '') {
      throw new KafkaConsumerConfigError('sasl.password', given.password === undefined ? undefined : '<hidden>', 'must be a non-empty string');
    }
  }
  return sasl as SaslOptions;
}
