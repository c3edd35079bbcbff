import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { ConsumerSettings } from '../interfaces/module-options.interface';
import { integerAtLeast, oneOf, TOPIC_NAME } from './option-rules';
import { ASSIGNMENT_STRATEGIES, AUTO_OFFSET_RESET, ENGINES, GROUP_PROTOCOLS } from './option-values';
import type { ResolvedConsumerSettings } from './resolved-options';
import { resolveStandalone } from './resolve-standalone';

/** Consumer settings (§4.5): defaults, bounds and the rules between them. Pure. */

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
  engine: 'kafkajs',
  groupProtocol: 'classic',
  assignmentStrategy: 'cooperative-sticky',
  maxPollRecords: 500,
  maxPollIntervalMs: 300_000,
  partitionsConsumedConcurrently: 1,
};

const SETTING_MINIMUMS: Record<Exclude<keyof ConsumerSettings, 'autoOffsetReset' | 'engine' | 'groupProtocol' | 'assignmentStrategy' | 'groupInstanceId' | 'standalone'>, number> = {
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

export function resolveSettings(prefix: string, base: ResolvedConsumerSettings, settings: ConsumerSettings): ResolvedConsumerSettings {
  const resolved: ResolvedConsumerSettings = { ...base };
  for (const key of Object.keys(SETTING_MINIMUMS) as Array<keyof typeof SETTING_MINIMUMS>) {
    const value = settings[key];
    if (value !== undefined) resolved[key] = integerAtLeast(prefix + key, value, SETTING_MINIMUMS[key]);
  }
  if (settings.autoOffsetReset !== undefined) {
    resolved.autoOffsetReset = oneOf(prefix + 'autoOffsetReset', settings.autoOffsetReset, AUTO_OFFSET_RESET);
  }
  if (settings.engine !== undefined) resolved.engine = oneOf(prefix + 'engine', settings.engine, ENGINES);
  if (settings.groupProtocol !== undefined) resolved.groupProtocol = oneOf(prefix + 'groupProtocol', settings.groupProtocol, GROUP_PROTOCOLS);
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
export function checkEagerDrainBound(shutdownTimeoutMs: number, prefix: string, settings: ResolvedConsumerSettings): void {
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

/** Settings the KIP-848 protocol moves to the broker: a group on it must not set them. */
const BROKER_SIDE_IN_KIP848 = ['sessionTimeoutMs', 'heartbeatIntervalMs', 'rebalanceTimeoutMs', 'assignmentStrategy'] as const;

/**
 * A group on groupProtocol `consumer` sets none of the settings the broker
 * owns there, neither per group (`groupSettings`) nor module-wide (`moduleSettings`).
 */
export function checkGroupProtocol(groupId: string | undefined, resolved: ResolvedConsumerSettings, groupSettings: ConsumerSettings, moduleSettings: ConsumerSettings): void {
  if (resolved.groupProtocol !== 'consumer') return;
  const who = groupId === undefined ? 'the module default' : `group "${groupId}"`;
  for (const key of BROKER_SIDE_IN_KIP848) {
    const [where, value] = groupSettings[key] !== undefined ? [`groups.${groupId}.${key}`, groupSettings[key]] : [key, moduleSettings[key]];
    if (value !== undefined) {
      throw new KafkaConsumerConfigError(where, value, `the broker sets it on groupProtocol "consumer" (KIP-848), which ${who} uses; leave it out`);
    }
  }
}
