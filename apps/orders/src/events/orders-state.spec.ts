import type { OrderEvent } from './order-event';
import { diffStates, expectedState } from './orders-state';

const event = (orderId: string, version: number, customerId: string, country: string, status: OrderEvent['status'] = 'created', amount = 10): OrderEvent => ({
  orderId,
  version,
  customerId,
  country,
  status,
  amount,
  occurredAt: '2026-11-02T08:00:00.000Z',
});

describe('expectedState', () => {
  it('keeps the highest version of each order, whatever the arrival order and copies', () => {
    const v1 = event('o1', 1, 'c1', 'DE', 'created', 10);
    const v2 = event('o1', 2, 'c1', 'DE', 'paid', 12);
    const v3 = event('o1', 3, 'c1', 'DE', 'shipped', 12);
    const inOrder = expectedState([v1, v2, v3]);
    expect(inOrder.orders).toEqual([{ orderId: 'o1', version: 3, customerId: 'c1', country: 'DE', status: 'shipped', amount: 12 }]);
    expect(expectedState([v3, v1, v2, v2, v3, v1])).toEqual(inOrder);
  });

  it('counts distinct customers per country over every event, including an order that moved country', () => {
    const state = expectedState([
      event('o1', 1, 'c1', 'FR'),
      event('o1', 2, 'c1', 'DE'), // moved: c1 counts in FR and DE
      event('o2', 1, 'c1', 'DE'), // c1 again in DE: no change
      event('o3', 1, 'c2', 'DE'),
      event('o3', 1, 'c2', 'DE'), // duplicate
    ]);
    expect(state.customersByCountry).toEqual({ DE: 2, FR: 1 });
    expect(state.orders.map((o) => [o.orderId, o.country])).toEqual([
      ['o1', 'DE'],
      ['o2', 'DE'],
      ['o3', 'DE'],
    ]);
  });

  it('returns a canonical form: orders by id, countries sorted', () => {
    const state = expectedState([event('o2', 1, 'c1', 'SE'), event('o1', 1, 'c2', 'AT')]);
    expect(state.orders.map((o) => o.orderId)).toEqual(['o1', 'o2']);
    expect(Object.keys(state.customersByCountry)).toEqual(['AT', 'SE']);
  });
});

describe('diffStates', () => {
  it('lists what differs, and nothing for equal states', () => {
    const expected = expectedState([event('o1', 2, 'c1', 'DE'), event('o2', 1, 'c2', 'FR')]);
    expect(diffStates(expected, expected)).toEqual([]);
    const actual = expectedState([event('o1', 1, 'c1', 'DE'), event('o3', 1, 'c2', 'FR')]);
    expect(diffStates(actual, expected)).toEqual([
      'orders o1: database {"orderId":"o1","version":1,"customerId":"c1","country":"DE","status":"created","amount":10}, expected {"orderId":"o1","version":2,"customerId":"c1","country":"DE","status":"created","amount":10}',
      'orders o2: missing, expected version 1',
      'orders o3: in the database, but no event has it',
    ]);
  });
});
