import { BadRequestException, CallHandler, ForbiddenException, UseInterceptors } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core/helpers/external-context-creator';
import { Ctx, KafkaHeaders, KafkaKey, Payload } from '../decorators/kafka-params.decorator';
import { NonRetriableError } from '../errors/handler-signals.error';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { nestEnhancedHandler, usesNestEnhancers } from './nest-enhanced-handler';

class Plain {
  handle(value: unknown, ctx: unknown) {
    return [value, ctx];
  }
}

class Params {
  handle(@KafkaHeaders('source') source: string, @Payload('id') id: string, @KafkaKey() key: Buffer, @Ctx() ctx: object, @Payload() whole: object) {
    return { source, id, key: key.toString(), ctx, whole };
  }
}

class Intercepted {
  @UseInterceptors({ intercept: (_c: unknown, next: CallHandler) => next.handle() })
  handle(@Payload() value: unknown) {
    return value;
  }
}

const refusingCreator = { create: () => () => Promise.reject(new Error('not expected')) } as unknown as ExternalContextCreator;
const creatorThrowing = (error: Error) => ({ create: () => () => Promise.reject(error) }) as unknown as ExternalContextCreator;
const method = (instance: object) => (instance as { handle: BoundMethod }).handle;

describe('Nest-native handlers', () => {
  it('a plain (value, ctx) method binds nothing; decorated parameters or a bound enhancer do', () => {
    expect(usesNestEnhancers(new Plain(), 'handle', method(new Plain()))).toBe(false);
    expect(usesNestEnhancers(new Params(), 'handle', method(new Params()))).toBe(true);
    expect(usesNestEnhancers(new Intercepted(), 'handle', method(new Intercepted()))).toBe(true);
  });

  it('parameter decorators without pipes pick the arguments directly, synchronously, without Nest\'s pipeline', () => {
    const instance = new Params();
    const call = nestEnhancedHandler(refusingCreator, instance, 'handle', method(instance));
    const ctx = { key: Buffer.from('k-1'), headers: { source: Buffer.from('web') } };
    expect(call({ id: 'o-1', n: 2 }, ctx)).toEqual({ source: 'web', id: 'o-1', key: 'k-1', ctx, whole: { id: 'o-1', n: 2 } });
  });

  it("a pipe's BadRequestException and a guard's refusal become NonRetriableError with the messages; other errors pass", async () => {
    const instance = new Intercepted();
    const validation = new BadRequestException(['quantity must not be less than 1', 'orderId must be a string']);
    await expect(nestEnhancedHandler(creatorThrowing(validation), instance, 'handle', method(instance))({})).rejects.toEqual(
      new NonRetriableError('refused by a pipe: quantity must not be less than 1; orderId must be a string'),
    );
    await expect(nestEnhancedHandler(creatorThrowing(new ForbiddenException('Forbidden resource')), instance, 'handle', method(instance))({})).rejects.toBeInstanceOf(NonRetriableError);
    const other = new Error('database down');
    await expect(nestEnhancedHandler(creatorThrowing(other), instance, 'handle', method(instance))({})).rejects.toBe(other);
  });
});
