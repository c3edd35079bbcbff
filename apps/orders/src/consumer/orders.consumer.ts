import { Inject, Injectable, Type } from '@nestjs/common';
import { KafkaHandler, KafkaMessageContext } from '@app/kafka-consumer';
import type { OrdersAppConfig } from '../config/app-config';
import type { OrdersStore } from '../database/orders-store';
import { InvalidOrderEventError, parseOrderEvent } from '../events/order-event';
import { ORDERS_APP_CONFIG, ORDERS_HANDLER, ORDERS_STORE } from '../orders.constants';
import { ConsumerStats } from './consumer-stats';

/**
 * The consumer of the order events on `topic`. A factory, because the topic
 * comes from configuration and a decorator's arguments are fixed when the class
 * is defined. The commit policy and concurrency below are defaults: the module
 * options override them by handler name (ORDERS_COMMIT, ORDERS_CONCURRENCY).
 *
 * Ordering by key (= orderId) keeps the events of one order in sequence while
 * different orders run in parallel. Correctness does not depend on it: every
 * write is an idempotent upsert guarded by the version.
 */
export function ordersConsumerFor(topic: string): Type<unknown> {
  @Injectable()
  class OrdersConsumer {
    private readonly manualCommit: boolean;

    constructor(
      @Inject(ORDERS_STORE) private readonly store: OrdersStore,
      @Inject(ORDERS_APP_CONFIG) config: OrdersAppConfig,
      private readonly stats: ConsumerStats,
    ) {
      this.manualCommit = config.ordersHandler.commit.mode === 'manual';
    }

    @KafkaHandler(topic, {
      name: ORDERS_HANDLER,
      ordering: 'key',
      concurrency: 8,
      commit: 'record',
      fromBeginning: true,
      // Database errors are retried for about a minute before the event is dead-lettered.
      retry: { attempts: 10, initialDelayMs: 200, maxDelayMs: 10_000 },
    })
    async onOrderEvent(value: unknown, ctx: KafkaMessageContext<string>): Promise<void> {
      let event;
      try {
        event = parseOrderEvent(value);
      } catch (error) {
        if (error instanceof InvalidOrderEventError) this.stats.invalid += 1;
        throw error;
      }
      const outcome = await this.store.apply(event, { topic: ctx.topic, partition: ctx.partition, offset: ctx.offset });
      this.stats.record(outcome);
      if (this.manualCommit) ctx.commit();
    }
  }
  return OrdersConsumer;
}
