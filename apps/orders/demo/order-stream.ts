import type { Message } from 'kafkajs';
import type { OrderEvent, OrderStatus } from '../src/events/order-event';

const COUNTRY_CODES = ['DE', 'FR', 'ES', 'IT', 'NL', 'PL', 'SE', 'US', 'GB', 'JP', 'BR', 'CA', 'AU', 'KR', 'IN', 'MX', 'AT', 'BE', 'DK', 'NO'];

export interface OrderStreamOptions {
  /** Orders (default 2000). */
  orders?: number;
  /** Distinct customers (default 200). */
  customers?: number;
  /** Countries, at most 20 (default 10). */
  countries?: number;
  /** Most versions of one order (default 5). */
  maxVersions?: number;
  /** Share of events published a second time, a little later (default 0.05). */
  duplicateRate?: number;
  /** Share of multi-version orders with two versions published in the wrong order (default 0.05). */
  outOfOrderRate?: number;
  /** Share of orders that move to another country in a later version (default 0.03). */
  countryChangeRate?: number;
  /** Same seed, same stream (default 42). */
  seed?: number;
}

export interface OrderStream {
  /** In publication order: time order, with the duplicates and swaps below. */
  events: OrderEvent[];
  orders: number;
  /** Distinct (orderId, version) events. */
  versions: number;
  duplicates: number;
  outOfOrder: number;
  countryChanges: number;
}

/**
 * A realistic, reproducible stream of order events: customers order mostly in
 * their home country, orders go created → paid → shipped → delivered (or get
 * cancelled), some amounts are corrected, a few orders move country; then some
 * events are published twice and some versions of an order swap places.
 */
export function generateOrderStream(options: OrderStreamOptions = {}): OrderStream {
  const orders = options.orders ?? 2000;
  const customerCount = options.customers ?? 200;
  const countries = COUNTRY_CODES.slice(0, Math.min(options.countries ?? 10, COUNTRY_CODES.length));
  const maxVersions = options.maxVersions ?? 5;
  const random = mulberry32(options.seed ?? 42);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  // Bigger markets first: country i has weight 1 / (i + 1).
  const weights = countries.map((_, i) => 1 / (i + 1));
  const pickCountry = (): string => {
    let r = random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < countries.length; i += 1) if ((r -= weights[i]) <= 0) return countries[i];
    return countries[countries.length - 1];
  };
  const customers = Array.from({ length: customerCount }, (_, i) => ({ id: `cust-${pad(i + 1, 4)}`, home: pickCountry() }));

  const start = Date.parse('2026-11-02T08:00:00Z');
  const timed: Array<{ at: number; event: OrderEvent }> = [];
  let countryChanges = 0;
  for (let i = 0; i < orders; i += 1) {
    const customer = pick(customers);
    let country = random() < 0.1 ? pickCountry() : customer.home;
    let amount = cents(5 + random() * 495);
    let at = start + Math.floor(random() * 6 * 3600_000);
    const cancelAt = random() < 0.1 ? 2 + Math.floor(random() * (maxVersions - 1)) : Infinity;
    const versions = 1 + Math.floor(random() * maxVersions);
    const moveAt = random() < (options.countryChangeRate ?? 0.03) && versions > 1 ? 2 + Math.floor(random() * (versions - 1)) : Infinity;
    const path: OrderStatus[] = ['created', 'paid', 'shipped', 'delivered'];
    for (let version = 1; version <= versions; version += 1) {
      if (version === moveAt) {
        country = pick(countries.filter((c) => c !== country));
        countryChanges += 1;
      }
      if (version === 2 && random() < 0.2) amount = cents(amount * (0.8 + random() * 0.4));
      const status = version >= cancelAt ? 'cancelled' : path[Math.min(version - 1, path.length - 1)];
      timed.push({
        at,
        event: { orderId: `ord-${pad(i + 1, 6)}`, version, customerId: customer.id, country, status, amount, occurredAt: new Date(at).toISOString() },
      });
      if (status === 'cancelled') break;
      at += 60_000 + Math.floor(random() * 120 * 60_000);
    }
  }
  timed.sort((a, b) => a.at - b.at || a.event.orderId.localeCompare(b.event.orderId) || a.event.version - b.event.version);
  const events = timed.map((t) => t.event);
  const versions = events.length;

  // Out of order: version n+1 published before version n.
  const positions = new Map<string, number[]>();
  events.forEach((event, index) => positions.set(event.orderId, [...(positions.get(event.orderId) ?? []), index]));
  let outOfOrder = 0;
  for (const indexes of positions.values()) {
    if (indexes.length < 2 || random() >= (options.outOfOrderRate ?? 0.05)) continue;
    const j = Math.floor(random() * (indexes.length - 1));
    const [a, b] = [indexes[j], indexes[j + 1]];
    [events[a], events[b]] = [events[b], events[a]];
    outOfOrder += 1;
  }

  // Duplicates: a copy of an event again, up to 200 events later (a producer retry, a replayed batch).
  const later = new Map<number, OrderEvent[]>();
  let duplicates = 0;
  for (let index = 0; index < events.length; index += 1) {
    if (random() >= (options.duplicateRate ?? 0.05)) continue;
    const at = Math.min(events.length - 1, index + Math.floor(random() * 200));
    later.set(at, [...(later.get(at) ?? []), { ...events[index] }]);
    duplicates += 1;
  }
  const published = events.flatMap((event, index) => [event, ...(later.get(index) ?? [])]);
  return { events: published, orders, versions, duplicates, outOfOrder, countryChanges };
}

/** Kafka messages for the events: key = orderId, value = the event as JSON. */
export function toMessages(events: OrderEvent[]): Message[] {
  return events.map((event) => ({ key: event.orderId, value: JSON.stringify(event) }));
}

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A small seeded PRNG (public domain), so every run produces the same stream. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
