import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { KafkaConsumerModule } from '@app/kafka-consumer';
import type { OrdersAppConfig } from './config/app-config';
import { toKafkaConsumerOptions } from './config/kafka-consumer-options';
import { ConsumerStats } from './consumer/consumer-stats';
import { ordersConsumerFor } from './consumer/orders.consumer';
import { openOrdersStore } from './database/open-orders-store';
import { OrdersStoreLifecycle } from './database/orders-store.lifecycle';
import { MonitoringServer } from './monitoring/monitoring.server';
import { OPEN_TELEMETRY_SDK, ORDERS_APP_CONFIG, ORDERS_STORE } from './orders.constants';
import { OpenTelemetryLifecycle } from './telemetry/open-telemetry.lifecycle';

/**
 * The sample app: order events from Kafka into the orders and
 * customers-by-country tables, with idempotent upserts.
 */
@Module({})
export class OrdersAppModule {
  /** `openTelemetry`: the SDK main started from OTEL_* variables, flushed and stopped when the app closes. */
  static forConfig(config: OrdersAppConfig, openTelemetry?: NodeSDK): DynamicModule {
    return {
      module: OrdersAppModule,
      imports: [KafkaConsumerModule.forRoot(toKafkaConsumerOptions(config)), TerminusModule.forRoot({ logger: false })],
      providers: [
        { provide: ORDERS_APP_CONFIG, useValue: config },
        {
          provide: ORDERS_STORE,
          useFactory: () =>
            openOrdersStore(config.database, { recordDeliveries: config.recordDeliveries, concurrency: config.ordersHandler.concurrency }),
        },
        OrdersStoreLifecycle,
        { provide: OPEN_TELEMETRY_SDK, useValue: openTelemetry },
        OpenTelemetryLifecycle,
        ConsumerStats,
        MonitoringServer,
        ordersConsumerFor(config.ordersTopic),
      ],
      exports: [ORDERS_STORE, MonitoringServer],
    };
  }
}
