import { NonRetriableError } from '@app/kafka-consumer';

export const ORDER_STATUSES = ['created', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * One change of an order, as published on the orders topic (key = orderId).
 * `version` grows by one per change of the order; the same version of an order
 * is the same change, so its copies are equal.
 */
export interface OrderEvent {
  orderId: string;
  version: number;
  customerId: string;
  /** ISO 3166-1 alpha-2 code, e.g. DE. */
  country: string;
  status: OrderStatus;
  /** Order total, two decimals. */
  amount: number;
  /** ISO 8601 timestamp of the change. */
  occurredAt: string;
}

/** An event that can never be applied; the consumer dead-letters it at once. */
export class InvalidOrderEventError extends NonRetriableError {
  constructor(readonly field: string, reason: string) {
    super(`invalid order event: ${field} ${reason}`);
  }
}

const ID = /^[A-Za-z0-9._:-]{1,100}$/;
const COUNTRY = /^[A-Z]{2}$/;

/** Checks a deserialized message and returns it as an `OrderEvent`, or throws `InvalidOrderEventError`. */
export function parseOrderEvent(value: unknown): OrderEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOrderEventError('value', 'must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  const text = (field: string, pattern: RegExp, rule: string): string => {
    const x = v[field];
    if (typeof x !== 'string' || !pattern.test(x)) throw new InvalidOrderEventError(field, rule);
    return x;
  };
  const orderId = text('orderId', ID, 'must be 1 to 100 characters among A-Z, a-z, 0-9, ".", "_", ":" and "-"');
  const customerId = text('customerId', ID, 'must be 1 to 100 characters among A-Z, a-z, 0-9, ".", "_", ":" and "-"');
  const country = text('country', COUNTRY, 'must be an ISO 3166-1 alpha-2 code such as DE');
  if (!Number.isSafeInteger(v.version) || (v.version as number) < 1) {
    throw new InvalidOrderEventError('version', 'must be a whole number from 1');
  }
  if (!ORDER_STATUSES.includes(v.status as OrderStatus)) {
    throw new InvalidOrderEventError('status', `must be one of ${ORDER_STATUSES.join(', ')}`);
  }
  const amount = v.amount;
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0 || amount >= 1e10) {
    throw new InvalidOrderEventError('amount', 'must be a number from 0 to below 10^10');
  }
  if (Math.round(amount * 100) / 100 !== amount) throw new InvalidOrderEventError('amount', 'must have at most two decimals');
  if (typeof v.occurredAt !== 'string' || Number.isNaN(Date.parse(v.occurredAt))) {
    throw new InvalidOrderEventError('occurredAt', 'must be an ISO 8601 timestamp');
  }
  return {
    orderId,
    version: v.version as number,
    customerId,
    country,
    status: v.status as OrderStatus,
    amount,
    occurredAt: v.occurredAt,
  };
}
