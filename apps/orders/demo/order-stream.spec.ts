import { parseOrderEvent } from '../src/events/order-event';
import { generateOrderStream, toMessages } from './order-stream';

describe('generateOrderStream', () => {
  const stream = generateOrderStream({ orders: 400, customers: 50, countries: 6, seed: 3 });

  it('is reproducible from its seed', () => {
    expect(generateOrderStream({ orders: 400, customers: 50, countries: 6, seed: 3 })).toEqual(stream);
    expect(generateOrderStream({ orders: 400, customers: 50, countries: 6, seed: 4 }).events).not.toEqual(stream.events);
  });

  it('produces valid events with duplicates, versions out of order and country moves', () => {
    for (const event of stream.events) expect(parseOrderEvent(event)).toEqual(event);
    expect(stream.events.length).toBe(stream.versions + stream.duplicates);
    expect(stream.duplicates).toBeGreaterThan(0);
    expect(stream.outOfOrder).toBeGreaterThan(0);
    expect(new Set(stream.events.map((e) => e.orderId)).size).toBe(400);
    expect(new Set(stream.events.map((e) => e.customerId)).size).toBeLessThanOrEqual(50);
    expect(new Set(stream.events.map((e) => e.country)).size).toBe(6);

    let outOfOrder = 0;
    const last = new Map<string, number>();
    for (const e of stream.events) {
      if ((last.get(e.orderId) ?? 0) > e.version) outOfOrder += 1;
      last.set(e.orderId, Math.max(last.get(e.orderId) ?? 0, e.version));
    }
    expect(outOfOrder).toBeGreaterThan(0);
  });

  it('keys each message by its order id', () => {
    const [message] = toMessages(stream.events.slice(0, 1));
    expect(message.key).toBe(stream.events[0].orderId);
    expect(JSON.parse(String(message.value))).toEqual(stream.events[0]);
  });
});
