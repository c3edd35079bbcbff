import { Pool, PoolClient } from 'pg';
import type { OrderEvent } from '../events/order-event';
import { canonicalState, OrdersState } from '../events/orders-state';
import type { ApplyOutcome, Delivery, DeliveryStats, OrdersStore } from './orders-store';
import { toOrderRow } from './sqlite-orders-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  order_id    TEXT PRIMARY KEY,
  version     INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  country     TEXT NOT NULL,
  status      TEXT NOT NULL,
  amount      NUMERIC(12, 2) NOT NULL
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
  record_offset BIGINT NOT NULL,
  deliveries    INTEGER NOT NULL,
  PRIMARY KEY (topic, partition_id, record_offset)
);
`;

/** Serializes schema creation of replicas that start together (CREATE ... IF NOT EXISTS can race). */
const SCHEMA_LOCK = 0x6f726473; // "ords"

/**
 * PostgreSQL (DATABASE_URL=postgres://...), for deployment. One pooled
 * connection per concurrent handler call; each event is one transaction, and
 * row locks make concurrent upserts of one order or one country take turns.
 */
export class PostgresOrdersStore implements OrdersStore {
  private readonly pool: Pool;

  constructor(
    url: string,
    private readonly options: { recordDeliveries: boolean; maxConnections: number },
  ) {
    this.pool = new Pool({ connectionString: url, max: options.maxConnections });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async init(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(SCHEMA);
    });
  }

  apply(event: OrderEvent, delivery: Delivery): Promise<ApplyOutcome> {
    const { orderId, version, customerId, country, status, amount } = event;
    return this.transaction(async (client) => {
      const order = await client.query(
        `INSERT INTO orders (order_id, version, customer_id, country, status, amount)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (order_id) DO UPDATE SET
           version = EXCLUDED.version, customer_id = EXCLUDED.customer_id, country = EXCLUDED.country,
           status = EXCLUDED.status, amount = EXCLUDED.amount
         WHERE EXCLUDED.version > orders.version`,
        [orderId, version, customerId, country, status, amount],
      );
      const seen = await client.query(`INSERT INTO customer_countries (customer_id, country) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [customerId, country]);
      const customerCounted = seen.rowCount === 1;
      if (customerCounted) {
        await client.query(
          `INSERT INTO customers_by_country (country, customers) VALUES ($1, 1)
           ON CONFLICT (country) DO UPDATE SET customers = customers_by_country.customers + 1`,
          [country],
        );
      }
      if (this.options.recordDeliveries) {
        await client.query(
          `INSERT INTO deliveries (topic, partition_id, record_offset, deliveries) VALUES ($1, $2, $3, 1)
           ON CONFLICT (topic, partition_id, record_offset) DO UPDATE SET deliveries = deliveries.deliveries + 1`,
          [delivery.topic, delivery.partition, delivery.offset],
        );
      }
      return { orderChanged: order.rowCount === 1, customerCounted };
    });
  }

  async snapshot(): Promise<OrdersState> {
    const orders = await this.pool.query(`SELECT order_id, version, customer_id, country, status, amount FROM orders`);
    const counts = await this.pool.query<{ country: string; customers: number }>(`SELECT country, customers FROM customers_by_country`);
    return canonicalState(
      orders.rows.map((row) => toOrderRow(row)),
      Object.fromEntries(counts.rows.map((c) => [c.country, Number(c.customers)])),
    );
  }

  async deliveryStats(): Promise<DeliveryStats> {
    const { rows } = await this.pool.query(`SELECT COUNT(*) AS records, COALESCE(SUM(deliveries), 0) AS deliveries FROM deliveries`);
    return { records: Number(rows[0].records), deliveries: Number(rows[0].deliveries) };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Drop the connection rather than reuse one that may be broken.
      client.release(true);
      throw error;
    }
  }
}
