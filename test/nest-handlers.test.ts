import { ArgumentsHost, CallHandler, CanActivate, Catch, ExceptionFilter, ExecutionContext, Injectable, NestInterceptor, Scope, UseFilters, UseGuards, UseInterceptors, ValidationPipe } from '@nestjs/common';
import { IsInt, IsString, Min } from 'class-validator';
import { tap } from 'rxjs';
import {
  Ctx,
  DEAD_LETTER_HEADERS,
  KafkaConsumerFailure,
  KafkaHandler,
  KafkaHeaders,
  KafkaKey,
  KafkaMessageContext,
  OnKafkaError,
  Payload,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, waitFor } from './support/kafka-test-kit';

class OrderDto {
  @IsString()
  orderId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/** What the handlers, the interceptor and the dead-letter readers saw; asserted after the waits. */
interface Seen {
  orders: Array<{ orderId: string; quantity: number; isDto: boolean; offset: string; key: string | undefined; source: string | undefined }>;
  attempts: number;
  timings: Array<{ type: string; handler: string; ms: number }>;
  guarded: number[];
  filtered: Array<{ n: number; outcome: string }>;
  dead: Array<{ topic: string; offset: string; exception: string; message: string }>;
  failures: KafkaConsumerFailure[];
}

class DuplicateOrderError extends Error {}

function nestHandlers(seen: Seen) {
  /** A duplicate is not a failure here: the filter answers for it, so the record counts as done. */
  @Catch(DuplicateOrderError)
  class DuplicatesAreDone implements ExceptionFilter {
    catch(error: DuplicateOrderError, host: ArgumentsHost) {
      seen.filtered.push({ n: host.switchToRpc().getData<{ n: number }>().n, outcome: `filtered: ${error.message}` });
      return 'duplicate'; // as with Nest's RPC filters: a filter that returns nothing lets the error through
    }
  }

  @Injectable()
  class TimingInterceptor implements NestInterceptor {
    intercept(context: ExecutionContext, next: CallHandler) {
      const started = Date.now();
      return next.handle().pipe(tap(() => seen.timings.push({ type: context.getType(), handler: context.getHandler().name, ms: Date.now() - started })));
    }
  }

  /** Only records of tenant acme: read from the record's headers through the rpc context. */
  @Injectable()
  class TenantGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      return context.switchToRpc().getContext<KafkaMessageContext>().headers.tenant?.toString() === 'acme';
    }
  }

  @Injectable()
  @UseInterceptors(TimingInterceptor)
  class Orders {
    @KafkaHandler('nest-orders', { groupId: 'nest-orders', retry: { attempts: 3, initialDelayMs: 20 } })
    place(
      @Payload(new ValidationPipe({ transform: true })) order: OrderDto,
      @Ctx() ctx: KafkaMessageContext,
      @KafkaKey() key: Buffer | null,
      @KafkaHeaders('source') source: string | undefined,
    ) {
      seen.attempts++;
      seen.orders.push({ orderId: order.orderId, quantity: order.quantity, isDto: order instanceof OrderDto, offset: ctx.offset, key: key?.toString(), source });
    }

    @KafkaHandler('nest-guarded', { groupId: 'nest-guarded', retry: { attempts: 3, initialDelayMs: 20 } })
    @UseGuards(TenantGuard)
    guarded(@Payload('n') n: number) {
      seen.guarded.push(n);
    }

    @KafkaHandler('nest-filtered', { groupId: 'nest-filtered', retry: { attempts: 3, initialDelayMs: 20 } })
    @UseFilters(new DuplicatesAreDone())
    filtered(@Payload('n') n: number) {
      if (n === 2) throw new DuplicateOrderError(`order ${n} seen before`);
      seen.filtered.push({ n, outcome: 'handled' });
    }

    @KafkaHandler(['nest-orders.DLT', 'nest-guarded.DLT'], { groupId: 'nest-dead', deserializer: 'buffer' })
    dead(_value: Buffer | null, ctx: KafkaMessageContext) {
      const header = (name: string) => ctx.headers[name]?.toString() ?? '';
      seen.dead.push({ topic: ctx.topic, offset: header(DEAD_LETTER_HEADERS.offset), exception: header(DEAD_LETTER_HEADERS.exception), message: header(DEAD_LETTER_HEADERS.message) });
    }

    @OnKafkaError()
    failed(failure: KafkaConsumerFailure) {
      seen.failures.push(failure);
    }
  }
  return [Orders, TimingInterceptor, TenantGuard];
}

describe('Nest-native handlers: parameter decorators, pipes, guards, interceptors', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('a DTO failing validation is dead-lettered at once with the messages; a guard refuses a record; an interceptor times each call; an exception filter answers for an error', async () => {
    kit = await KafkaTestKit.start({ topics: { 'nest-orders': 1, 'nest-guarded': 1, 'nest-filtered': 1, 'nest-orders.DLT': 1, 'nest-guarded.DLT': 1 } });
    const seen: Seen = { orders: [], attempts: 0, timings: [], guarded: [], filtered: [], dead: [], failures: [] };
    await kit.produce('nest-orders', [
      { key: 'o-1', value: JSON.stringify({ orderId: 'o-1', quantity: 2 }), headers: { source: 'web' } },
      { key: 'o-2', value: JSON.stringify({ orderId: 'o-2', quantity: 0 }) },
      { key: 'o-3', value: JSON.stringify({ orderId: 'o-3', quantity: 5 }), headers: { source: 'app' } },
    ]);
    await kit.produce('nest-guarded', [
      { value: JSON.stringify({ n: 1 }), headers: { tenant: 'acme' } },
      { value: JSON.stringify({ n: 2 }), headers: { tenant: 'other' } },
      { value: JSON.stringify({ n: 3 }), headers: { tenant: 'acme' } },
    ]);
    await kit.produce('nest-filtered', [1, 2, 3].map((n) => ({ value: JSON.stringify({ n }) })));
    await kit.startApp({}, nestHandlers(seen));
    await waitFor(() => seen.orders.length === 2 && seen.guarded.length === 2 && seen.dead.length === 2, 60_000, 'the valid records handled, the others dead-lettered');
    await waitFor(() => seen.filtered.length === 3, 30_000, 'the filtered handler');
    const committedTo = async (group: string) => (await kit.committed(group, group))[0];
    await waitFor(async () => (await committedTo('nest-orders')) === 3 && (await committedTo('nest-guarded')) === 3 && (await committedTo('nest-filtered')) === 3, 15_000, 'every partition committed to its end');

    expect(seen.orders).toEqual([
      { orderId: 'o-1', quantity: 2, isDto: true, offset: '0', key: 'o-1', source: 'web' },
      { orderId: 'o-3', quantity: 5, isDto: true, offset: '2', key: 'o-3', source: 'app' },
    ]);
    expect(seen.attempts).toBe(2); // the invalid record never reached the method, and was not retried
    expect(seen.guarded).toEqual([1, 3]);
    // The exception filter answered for record 2 once: no retry, no dead letter.
    expect(seen.filtered).toEqual([
      { n: 1, outcome: 'handled' },
      { n: 2, outcome: 'filtered: order 2 seen before' },
      { n: 3, outcome: 'handled' },
    ]);
    const dead = [...seen.dead].sort((a, b) => a.topic.localeCompare(b.topic));
    expect(dead).toEqual([
      { topic: 'nest-guarded.DLT', offset: '1', exception: 'NonRetriableError', message: 'refused by a guard: Forbidden resource' },
      { topic: 'nest-orders.DLT', offset: '1', exception: 'NonRetriableError', message: 'refused by a pipe: quantity must not be less than 1' },
    ]);
    const handlerFailures = seen.failures.filter((f) => f.kind === 'handler');
    expect(handlerFailures.map((f) => [f.topic, f.offset, f.attempts])).toEqual(expect.arrayContaining([['nest-orders', '1', 1], ['nest-guarded', '1', 1]]));
    // The class's interceptor ran around both handlers' successful calls, in the rpc context.
    expect(seen.timings.filter((t) => t.handler === 'place').length).toBe(2);
    expect(seen.timings.filter((t) => t.handler === 'guarded').length).toBe(2);
    expect(new Set(seen.timings.map((t) => t.type))).toEqual(new Set(['rpc']));
  });

  it("takes a handler's topics and group from the module options by the handler's name", async () => {
    kit = await KafkaTestKit.start({ topics: { 'cfg-orders-v2': 1 } });
    const received: string[] = [];
    @Injectable()
    class Configured {
      @KafkaHandler({ name: 'orders' })
      handle(@Payload('id') id: string, @Ctx() ctx: KafkaMessageContext) {
        received.push(`${ctx.groupId} ${ctx.topic} ${id}`);
      }
    }
    await kit.produce('cfg-orders-v2', [{ value: JSON.stringify({ id: 'a' }) }]);
    // What forRootAsync's factory would build from ConfigService.
    const fromConfig = { handlers: { orders: { topics: 'cfg-orders-v2', groupId: 'cfg-billing' } } };
    await kit.startApp(fromConfig, [Configured]);
    await waitFor(() => received.length === 1, 30_000, 'the record of the configured topic');
    await waitFor(async () => (await kit.committed('cfg-billing', 'cfg-orders-v2'))[0] === 1, 10_000, 'the commit in the configured group');
    expect(received).toEqual(['cfg-billing cfg-orders-v2 a']);
  });

  it('a handler on a request-scoped provider fails at startup, naming it', async () => {
    kit = await KafkaTestKit.start({ topics: { 'nest-scoped': 1 } });
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @KafkaHandler('nest-scoped', { groupId: 'nest-scoped' })
      handle() {}
    }
    await expect(kit.startApp({}, [PerRequest])).rejects.toThrow(/handler PerRequest\.handle: scope = "request": a Kafka handler or hook needs a provider with one instance/);
  });
});
