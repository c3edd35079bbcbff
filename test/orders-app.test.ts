import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Test, TestingModule } from '@nestjs/testing';
import { generateOrderStream, toMessages } from '../apps/orders/demo/order-stream';
import { loadConfig } from '../apps/orders/src/config/app-config';
import type { OrdersStore } from '../apps/orders/src/database/orders-store';
import { expectedState } from '../apps/orders/src/events/orders-state';
import { MonitoringServer } from '../apps/orders/src/monitoring/monitoring.server';
import { OrdersAppModule } from '../apps/orders/src/orders-app.module';
import { ORDERS_STORE } from '../apps/orders/src/orders.constants';
import { KafkaTestKit, TEST_ENGINE, waitFor } from './support/kafka-test-kit';
import { PostgresTestDatabase } from './support/postgres-test-database';

/**
 * The sample app in-process against the test broker, on each database: a
 * stream with duplicates and versions out of order, then the whole stream
 * again, must leave exactly the state the events imply.
 */
describe('orders sample app (test broker, in-process)', () => {
  let kit: KafkaTestKit | undefined;
  let app: TestingModule | undefined;
  let postgres: PostgresTestDatabase | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await app?.close().catch(() => undefined);
    await kit?.close();
    await postgres?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [app, kit, postgres, dir] = [undefined, undefined, undefined, undefined];
  });

  async function run(databaseUrl: string): Promise<void> {
    kit = await KafkaTestKit.start({ topics: { orders: 4 } });
    const stream = generateOrderStream({ orders: 300, customers: 40, countries: 6, seed: 11 });
    const total = stream.events.length;
    expect(stream.duplicates).toBeGreaterThan(0);
    expect(stream.outOfOrder).toBeGreaterThan(0);
    const messages = toMessages(stream.events);
    await kit.produce('orders', messages.slice(0, total / 2));

    const config = loadConfig({
      KAFKA_BROKERS: kit.brokers.join(','),
      KAFKA_ENGINE: TEST_ENGINE,
      DATABASE_URL: databaseUrl,
      ORDERS_CONCURRENCY: '8',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_FETCH_MAX_WAIT_MS: '100',
      RECORD_DELIVERIES: 'true',
    });
    app = await Test.createTestingModule({ imports: [OrdersAppModule.forConfig(config)] }).compile();
    app.useLogger(['error']);
    await app.init();
    await kit.produce('orders', messages.slice(total / 2));

    const committedTotal = async () => Object.values(await kit!.committed('orders-app', 'orders')).reduce((a, b) => a + Math.max(0, b), 0);
    await waitFor(async () => (await committedTotal()) === total, 60_000, `${total} events committed`);
    const store = app.get<OrdersStore>(ORDERS_STORE);
    const expected = expectedState(stream.events);
    expect(await store.snapshot()).toEqual(expected);

    // A replay of everything (as after a reset of the group's offsets) changes nothing.
    await kit.produce('orders', messages);
    await waitFor(async () => (await committedTotal()) === 2 * total, 60_000, `${2 * total} events committed`);
    expect(await store.snapshot()).toEqual(expected);
    expect((await store.deliveryStats()).records).toBe(2 * total);

    const health = await app.get(MonitoringServer).report();
    expect(health).toMatchObject({ status: 'ok', groupId: 'orders-app', topic: 'orders', applied: 2 * total, invalid: 0 });
    expect(health.assignment).toHaveLength(4);
  }

  it('builds the exact tables on SQLite', async () => {
    dir = mkdtempSync(join(tmpdir(), 'orders-app-'));
    await run(`sqlite:${join(dir, 'orders.db')}`);
  });

  it('builds the exact tables on PostgreSQL (fresh database, dropped after)', async () => {
    postgres = await PostgresTestDatabase.create();
    await run(postgres.url);
  });
});
