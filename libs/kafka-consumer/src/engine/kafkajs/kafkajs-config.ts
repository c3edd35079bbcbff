import { ConsumerConfig, KafkaConfig, logLevel, PartitionAssigner, SASLOptions } from 'kafkajs';
import { createCooperativeStickyAssignor, createStickyAssignor, RangeAssignor, RoundRobinAssignor } from './kafkajs-assigners';
import type { StickyMemberState } from '../../assignors/sticky-member-state';
import { ConsumerGroupExtension, withExtension } from './consumer-group-extension';
import type { AssignmentStrategy, KafkaLogLevel, SaslOptions } from '../../interfaces/module-options.interface';
import type { ResolvedConsumerSettings, ResolvedModuleOptions } from '../../options/resolved-options';

const KAFKAJS_LOG_LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/** The module's SASL options carry kafkajs's own field names; only the type differs. */
function toSasl(sasl: SaslOptions | undefined): SASLOptions | undefined {
  return sasl as SASLOptions | undefined;
}

/** Kafka configuration names → kafkajs client config. */
export function toKafkaConfig(options: ResolvedModuleOptions, logCreator?: KafkaConfig['logCreator']): KafkaConfig {
  return {
    brokers: options.brokers,
    clientId: options.clientId,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.connectionTimeoutMs,
    ssl: options.ssl,
    sasl: toSasl(options.sasl),
    logLevel: KAFKAJS_LOG_LEVELS[options.logLevel ?? 'warn'],
    logCreator,
  };
}

/** Kafka consumer configuration names → kafkajs consumer config. */
export function toConsumerConfig(
  groupId: string,
  settings: ResolvedConsumerSettings,
  options: Pick<ResolvedModuleOptions, 'clientRack'>,
  stickyState: StickyMemberState,
  extension?: ConsumerGroupExtension,
): ConsumerConfig {
  const assigner = assignerFor(settings.assignmentStrategy, stickyState);
  return {
    groupId,
    // The extension rides on the assigner: kafkajs keeps assigners on its ConsumerGroup.
    partitionAssigners: [extension ? (config) => withExtension(assigner(config), extension) : assigner],
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: settings.rebalanceTimeoutMs,
    minBytes: settings.fetchMinBytes,
    maxBytes: settings.fetchMaxBytes,
    maxWaitTimeInMs: settings.fetchMaxWaitMs,
    maxBytesPerPartition: settings.maxPartitionFetchBytes,
    rackId: options.clientRack || undefined,
    // Subscribing must not create topics as a side effect.
    allowAutoTopicCreation: false,
  };
}

/** Sticky strategies carry this member's current assignment into the next join. */
function assignerFor(strategy: AssignmentStrategy, stickyState: StickyMemberState): PartitionAssigner {
  switch (strategy) {
    case 'range':
      return RangeAssignor;
    case 'roundrobin':
      return RoundRobinAssignor;
    case 'sticky':
      return createStickyAssignor(stickyState);
    case 'cooperative-sticky':
      return createCooperativeStickyAssignor(stickyState);
  }
}
