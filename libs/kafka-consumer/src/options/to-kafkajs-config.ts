import { ConsumerConfig, KafkaConfig, logLevel } from 'kafkajs';
import type { ResolvedConsumerSettings, ResolvedModuleOptions } from './resolve-options';

/** Kafka configuration names → kafkajs client config. */
export function toKafkaConfig(options: ResolvedModuleOptions, logCreator?: KafkaConfig['logCreator']): KafkaConfig {
  return {
    brokers: options.brokers,
    clientId: options.clientId,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.connectionTimeoutMs,
    ssl: options.ssl,
    sasl: options.sasl,
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator,
  };
}

/** Kafka consumer configuration names → kafkajs consumer config. */
export function toConsumerConfig(
  groupId: string,
  settings: ResolvedConsumerSettings,
  options: Pick<ResolvedModuleOptions, 'clientRack'>,
): ConsumerConfig {
  return {
    groupId,
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
