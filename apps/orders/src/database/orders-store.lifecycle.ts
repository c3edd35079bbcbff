import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ORDERS_STORE } from '../orders.constants';
import type { OrdersStore } from './orders-store';

/**
 * Closes the database last: Nest runs `onApplicationShutdown` after
 * `beforeApplicationShutdown`, where the Kafka consumers drain running
 * handlers, so no handler writes to a closed store.
 */
@Injectable()
export class OrdersStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ORDERS_STORE) private readonly store: OrdersStore) {}

  onApplicationShutdown(): Promise<void> {
    return this.store.close();
  }
}
