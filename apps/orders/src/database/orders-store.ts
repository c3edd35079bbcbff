import type { OrderEvent } from '../events/order-event';
import type { OrdersState } from '../events/orders-state';

/** Where a record came from; with delivery counting on, each applied delivery is counted. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
}

/** What applying one event changed. */
export interface ApplyOutcome {
  /** The event was newer than the stored version of its order (or the first). */
  orderChanged: boolean;
  /** First event of this customer in this country: the country's count grew. */
  customerCounted: boolean;
}

/** Delivery counts (only kept with RECORD_DELIVERIES=true). */
export interface DeliveryStats {
  /** Distinct records applied. */
  records: number;
  /** Applications in all; `deliveries - records` were redeliveries. */
  deliveries: number;
}

/**
 * The app's tables. `apply` is one transaction and idempotent: applying an
 * event again, or an older version after a newer one, changes nothing.
 *
 *   orders(order_id PK, version, customer_id, country, status, amount)
 *   customer_countries(customer_id, country) PK both: who was seen where
 *   customers_by_country(country PK, customers): rows of customer_countries per country
 *   deliveries(topic, partition_id, record_offset) PK, deliveries: optional
 */
export interface OrdersStore {
  /** Connects and creates the tables if they do not exist. */
  init(): Promise<void>;
  apply(event: OrderEvent, delivery: Delivery): Promise<ApplyOutcome>;
  snapshot(): Promise<OrdersState>;
  deliveryStats(): Promise<DeliveryStats>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
