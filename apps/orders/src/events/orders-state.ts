import type { OrderEvent } from './order-event';

/** A row of the `orders` table: the latest version of one order. */
export type OrderRow = Omit<OrderEvent, 'occurredAt'>;

/**
 * The app's tables in a canonical form: orders sorted by id, countries sorted.
 *
 * `customersByCountry[country]` is the number of distinct customers with at
 * least one order event in that country, whatever the version: an order that
 * moved from FR to DE counts its customer in both. Counts therefore only grow,
 * and do not depend on the order in which events arrive.
 */
export interface OrdersState {
  orders: OrderRow[];
  customersByCountry: Record<string, number>;
}

/**
 * What the tables must hold after the given events were applied, in this order,
 * each any number of times. The highest version of an order wins; of equal
 * versions the first one applied stays (copies of a version are equal).
 */
export function expectedState(events: Iterable<OrderEvent>): OrdersState {
  const latest = new Map<string, OrderEvent>();
  const customers = new Map<string, Set<string>>();
  for (const event of events) {
    const current = latest.get(event.orderId);
    if (current === undefined || event.version > current.version) latest.set(event.orderId, event);
    let inCountry = customers.get(event.country);
    if (inCountry === undefined) customers.set(event.country, (inCountry = new Set()));
    inCountry.add(event.customerId);
  }
  return canonicalState(
    [...latest.values()].map(({ orderId, version, customerId, country, status, amount }) => ({ orderId, version, customerId, country, status, amount })),
    Object.fromEntries([...customers].map(([country, ids]) => [country, ids.size])),
  );
}

/** Sorts rows and countries so that two states compare with deep equality. */
export function canonicalState(orders: OrderRow[], customersByCountry: Record<string, number>): OrdersState {
  return {
    orders: [...orders].sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0)),
    customersByCountry: Object.fromEntries(Object.entries(customersByCountry).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** Differences between two states, readable, at most `limit` of them (empty: equal). */
export function diffStates(actual: OrdersState, expected: OrdersState, limit = 10): string[] {
  const diffs: string[] = [];
  const countries = new Set([...Object.keys(actual.customersByCountry), ...Object.keys(expected.customersByCountry)]);
  for (const country of [...countries].sort()) {
    const a = actual.customersByCountry[country];
    const e = expected.customersByCountry[country];
    if (a !== e) diffs.push(`customers_by_country ${country}: database ${a ?? 'missing'}, expected ${e ?? 'missing'}`);
  }
  const actualOrders = new Map(actual.orders.map((row) => [row.orderId, row]));
  const expectedOrders = new Map(expected.orders.map((row) => [row.orderId, row]));
  for (const [orderId, e] of expectedOrders) {
    const a = actualOrders.get(orderId);
    if (a === undefined) diffs.push(`orders ${orderId}: missing, expected version ${e.version}`);
    else if (!sameRow(a, e)) diffs.push(`orders ${orderId}: database ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
  }
  for (const orderId of actualOrders.keys()) {
    if (!expectedOrders.has(orderId)) diffs.push(`orders ${orderId}: in the database, but no event has it`);
  }
  return diffs.slice(0, limit);
}

function sameRow(a: OrderRow, b: OrderRow): boolean {
  return (
    a.orderId === b.orderId &&
    a.version === b.version &&
    a.customerId === b.customerId &&
    a.country === b.country &&
    a.status === b.status &&
    a.amount === b.amount
  );
}
