import { Injectable } from '@nestjs/common';
import type { ApplyOutcome } from '../database/orders-store';

/** Counters of this instance since it started, for the health endpoint. */
@Injectable()
export class ConsumerStats {
  /** Events applied (each delivery counts). */
  applied = 0;
  /** Of those, events that changed their order's row. */
  ordersChanged = 0;
  /** Events that could not be parsed (dead-lettered by the module). */
  invalid = 0;

  record(outcome: ApplyOutcome): void {
    this.applied += 1;
    if (outcome.orderChanged) this.ordersChanged += 1;
  }
}
