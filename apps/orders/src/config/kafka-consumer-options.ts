import type { KafkaConsumerModuleOptions } from '@app/kafka-consumer';
import { ORDERS_HANDLER, SHUTDOWN_TIMEOUT_MS } from '../orders.constants';
import type { OrdersAppConfig } from './app-config';

/**
 * The consumer module's options from the app's configuration. The handler's
 * commit policy and concurrency come from config, by handler name.
 */
export function toKafkaConsumerOptions(config: OrdersAppConfig): KafkaConsumerModuleOptions {
  const { kafka, ordersHandler } = config;
  return {
    brokers: kafka.brokers,
    clientId: kafka.clientId,
    engine: kafka.engine,
    groupId: kafka.groupId,
    groupInstanceId: kafka.groupInstanceId,
    sessionTimeoutMs: kafka.sessionTimeoutMs,
    heartbeatIntervalMs: kafka.heartbeatIntervalMs,
    fetchMaxWaitMs: kafka.fetchMaxWaitMs,
    // The tables are built from every event: a new group starts at the beginning.
    autoOffsetReset: 'earliest',
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    // Served on GET /metrics from prom-client's default registry.
    prometheus: true,
    handlers: {
      [ORDERS_HANDLER]: { commit: ordersHandler.commit, concurrency: ordersHandler.concurrency },
    },
  };
}
