import { NonRetriableError } from '@app/kafka-consumer';
import { InvalidOrderEventError, OrderEvent, parseOrderEvent } from './order-event';

const valid: OrderEvent = {
  orderId: 'ord-000001',
  version: 2,
  customerId: 'cust-0001',
  country: 'DE',
  status: 'paid',
  amount: 19.99,
  occurredAt: '2026-11-02T08:00:00.000Z',
};

describe('parseOrderEvent', () => {
  it('accepts a valid event and keeps only its fields', () => {
    expect(parseOrderEvent({ ...valid, extra: true })).toEqual(valid);
  });

  it.each([
    [null, 'value'],
    [[], 'value'],
    [{ ...valid, orderId: '' }, 'orderId'],
    [{ ...valid, customerId: 42 }, 'customerId'],
    [{ ...valid, country: 'Germany' }, 'country'],
    [{ ...valid, version: 0 }, 'version'],
    [{ ...valid, version: 1.5 }, 'version'],
    [{ ...valid, version: '2' }, 'version'],
    [{ ...valid, status: 'lost' }, 'status'],
    [{ ...valid, amount: -1 }, 'amount'],
    [{ ...valid, amount: 1.005 }, 'amount'],
    [{ ...valid, amount: '19.99' }, 'amount'],
    [{ ...valid, occurredAt: 'yesterday' }, 'occurredAt'],
  ])('rejects %j as not retriable (field %s)', (value, field) => {
    let error: unknown;
    try {
      parseOrderEvent(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOrderEventError);
    // The module dead-letters it at once instead of retrying.
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error as InvalidOrderEventError).field).toBe(field);
  });
});
