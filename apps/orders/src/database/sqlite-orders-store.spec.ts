import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { generateOrderStream } from '../../demo/order-stream';
import { expectedState } from '../events/orders-state';
import { parseDatabaseUrl, redactDatabaseUrl } from './database-target';
import { SqliteOrdersStore } from './sqlite-orders-store';

describe('SqliteOrdersStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'orders-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const delivery = (offset: number) => ({ topic: 'orders', partition: 0, offset: String(offset) });

  it('ends in the expected state however often and in whatever order the events are applied', async () => {
    const { events } = generateOrderStream({ orders: 150, customers: 30, countries: 5, seed: 7 });
    const store = new SqliteOrdersStore(join(dir, 'nested', 'orders.db'), { recordDeliveries: true });
    await store.init();
    // Everything, then everything again backwards, then every third event once more.
    const replay = [...events, ...[...events].reverse(), ...events.filter((_, i) => i % 3 === 0)];
    for (const [i, event] of replay.entries()) await store.apply(event, delivery(i % events.length));
    expect(await store.snapshot()).toEqual(expectedState(events));
    expect(await store.deliveryStats()).toEqual({ records: events.length, deliveries: replay.length });
    await store.close();
  });

  it('reports what an event changed; an older or equal version never overwrites a newer one', async () => {
    const store = new SqliteOrdersStore(join(dir, 'orders.db'), { recordDeliveries: false });
    await store.init();
    const base = { orderId: 'o1', customerId: 'c1', country: 'DE', status: 'created' as const, amount: 5, occurredAt: '2026-11-02T08:00:00Z' };
    expect(await store.apply({ ...base, version: 2, status: 'paid' }, delivery(0))).toEqual({ orderChanged: true, customerCounted: true });
    expect(await store.apply({ ...base, version: 1 }, delivery(1))).toEqual({ orderChanged: false, customerCounted: false });
    expect(await store.apply({ ...base, version: 2, amount: 99 }, delivery(2))).toEqual({ orderChanged: false, customerCounted: false });
    expect(await store.apply({ ...base, version: 1, orderId: 'o2' }, delivery(3))).toEqual({ orderChanged: true, customerCounted: false });
    const state = await store.snapshot();
    expect(state.orders[0]).toEqual({ orderId: 'o1', version: 2, customerId: 'c1', country: 'DE', status: 'paid', amount: 5 });
    expect(state.customersByCountry).toEqual({ DE: 1 });
    expect(await store.deliveryStats()).toEqual({ records: 0, deliveries: 0 });
    await store.close();
  });

  it('keeps committed transactions across a reopen (tables created once)', async () => {
    const path = join(dir, 'orders.db');
    const first = new SqliteOrdersStore(path, { recordDeliveries: false });
    await first.init();
    await first.apply({ orderId: 'o1', version: 1, customerId: 'c1', country: 'FR', status: 'created', amount: 1.5, occurredAt: '2026-11-02T08:00:00Z' }, delivery(0));
    await first.close();
    const second = new SqliteOrdersStore(path, { recordDeliveries: false });
    await second.init();
    expect((await second.snapshot()).customersByCountry).toEqual({ FR: 1 });
    await second.close();
  });
});

describe('parseDatabaseUrl', () => {
  it('reads sqlite and postgres URLs and redacts passwords for logs', () => {
    expect(parseDatabaseUrl('sqlite:./data/orders.db')).toEqual({ kind: 'sqlite', path: './data/orders.db' });
    expect(parseDatabaseUrl('postgresql://u:p@db:5432/orders')).toEqual({ kind: 'postgres', url: 'postgresql://u:p@db:5432/orders' });
    expect(() => parseDatabaseUrl('sqlite:')).toThrow('needs a file path');
    expect(redactDatabaseUrl('postgres://orders:secret@db:5432/orders')).toBe('postgres://orders:***@db:5432/orders');
  });
});
