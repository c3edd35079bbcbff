import Database from 'better-sqlite3';
import { mkdirSync } from 'fs';
import { dirname } from 'path';
import type { OrderEvent } from '../events/order-event';
import { canonicalState, OrderRow, OrdersState } from '../events/orders-state';
import type { ApplyOutcome, Delivery, DeliveryStats, OrdersStore } from './orders-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  order_id    TEXT PRIMARY KEY,
  version     INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  country     TEXT NOT NULL,
  status      TEXT NOT NULL,
  amount      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_countries (
  customer_id TEXT NOT NULL,
  country     TEXT NOT NULL,
  PRIMARY KEY (customer_id, country)
);
CREATE TABLE IF NOT EXISTS customers_by_country (
  country   TEXT PRIMARY KEY,
  customers INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  topic         TEXT NOT NULL,
  partition_id  INTEGER NOT NULL,
  record_offset INTEGER NOT NULL,
  deliveries    INTEGER NOT NULL,
  PRIMARY KEY (topic, partition_id, record_offset)
);
`;

/**
 * The embedded default (DATABASE_URL=sqlite:<path>). WAL journal: a committed
 * transaction survives a killed process; several processes may share the file
 * (writers take turns, waiting up to 10 s).
 */
export class SqliteOrdersStore implements OrdersStore {
  private db: Database.Database | undefined;
  private applyEvent: ((event: OrderEvent, delivery: Delivery) => ApplyOutcome) | undefined;

  constructor(
    private readonly path: string,
    private readonly options: { recordDeliveries: boolean },
  ) {}

  async init(): Promise<void> {
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);

    const upsertOrder = db.prepare(`
      INSERT INTO orders (order_id, version, customer_id, country, status, amount)
      VALUES (@orderId, @version, @customerId, @country, @status, @amount)
      ON CONFLICT (order_id) DO UPDATE SET
        version = excluded.version, customer_id = excluded.customer_id, country = excluded.country,
        status = excluded.status, amount = excluded.amount
      WHERE excluded.version > orders.version`);
    const seeCustomer = db.prepare(`INSERT INTO customer_countries (customer_id, country) VALUES (?, ?) ON CONFLICT DO NOTHING`);
    const countCustomer = db.prepare(`
      INSERT INTO customers_by_country (country, customers) VALUES (?, 1)
      ON CONFLICT (country) DO UPDATE SET customers = customers + 1`);
    const countDelivery = db.prepare(`
      INSERT INTO deliveries (topic, partition_id, record_offset, deliveries) VALUES (?, ?, ?, 1)
      ON CONFLICT (topic, partition_id, record_offset) DO UPDATE SET deliveries = deliveries + 1`);

    const transaction = db.transaction((event: OrderEvent, delivery: Delivery): ApplyOutcome => {
      const { orderId, version, customerId, country, status, amount } = event;
      const orderChanged = upsertOrder.run({ orderId, version, customerId, country, status, amount }).changes > 0;
      const customerCounted = seeCustomer.run(customerId, country).changes > 0;
      if (customerCounted) countCustomer.run(country);
      if (this.options.recordDeliveries) countDelivery.run(delivery.topic, delivery.partition, BigInt(delivery.offset));
      return { orderChanged, customerCounted };
    });
    // IMMEDIATE: take the write lock up front, so two processes never deadlock upgrading a read lock.
    this.applyEvent = (event, delivery) => transaction.immediate(event, delivery);
  }

  async apply(event: OrderEvent, delivery: Delivery): Promise<ApplyOutcome> {
    return this.applyEvent!(event, delivery);
  }

  async snapshot(): Promise<OrdersState> {
    const db = this.open();
    const orders = db
      .prepare(`SELECT order_id, version, customer_id, country, status, amount FROM orders`)
      .all()
      .map((row) => toOrderRow(row as Record<string, unknown>));
    const counts = db.prepare(`SELECT country, customers FROM customers_by_country`).all() as Array<{ country: string; customers: number }>;
    return canonicalState(orders, Object.fromEntries(counts.map((c) => [c.country, c.customers])));
  }

  async deliveryStats(): Promise<DeliveryStats> {
    const row = this.open().prepare(`SELECT COUNT(*) AS records, COALESCE(SUM(deliveries), 0) AS deliveries FROM deliveries`).get() as DeliveryStats;
    return { records: Number(row.records), deliveries: Number(row.deliveries) };
  }

  async ping(): Promise<void> {
    this.open().prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private open(): Database.Database {
    if (!this.db) throw new Error('the SQLite orders store is not open; call init() first');
    return this.db;
  }
}

export function toOrderRow(row: Record<string, unknown>): OrderRow {
  return {
    orderId: String(row.order_id),
    version: Number(row.version),
    customerId: String(row.customer_id),
    country: String(row.country),
    status: row.status as OrderRow['status'],
    amount: Number(row.amount),
  };
}
