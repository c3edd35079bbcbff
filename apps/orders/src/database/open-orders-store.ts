import type { DatabaseTarget } from './database-target';
import type { OrdersStore } from './orders-store';
import { PostgresOrdersStore } from './postgres-orders-store';
import { SqliteOrdersStore } from './sqlite-orders-store';

/** Opens the store DATABASE_URL names and creates its tables. */
export async function openOrdersStore(
  target: DatabaseTarget,
  options: { recordDeliveries: boolean; concurrency: number },
): Promise<OrdersStore> {
  const store =
    target.kind === 'sqlite'
      ? new SqliteOrdersStore(target.path, options)
      : new PostgresOrdersStore(target.url, { recordDeliveries: options.recordDeliveries, maxConnections: Math.max(2, options.concurrency) });
  try {
    await store.init();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
