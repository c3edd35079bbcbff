import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KafkaConsumerModule } from '@app/kafka-consumer';
import type { OrdersAppConfig } from './config/app-config';
import { toKafkaConsumerOptions } from './config/kafka-consumer-options';
import { ConsumerStats } from './consumer/consumer-stats';
import { ordersConsumerFor } from './consumer/orders.consumer';
import { openOrdersStore } from './database/open-orders-store';
import { OrdersStoreLifecycle } from './database/orders-store.lifecycle';
import { HealthServer } from './health/health.server';
import { ORDERS_APP_CONFIG, ORDERS_STORE } from './orders.constants';

/**
 * The sample app: order events from Kafka into the orders and
 * customers-by-country tables, with idempotent upserts.
 */
@Module({})
export class OrdersAppModule {
  static forConfig(config: OrdersAppConfig): DynamicModule {
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
        ConsumerStats,
        HealthServer,
        ordersConsumerFor(config.ordersTopic),
      ],
      exports: [ORDERS_STORE, HealthServer],
    };
  }
}
