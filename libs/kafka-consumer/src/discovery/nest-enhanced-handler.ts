import { BadRequestException, ForbiddenException, HttpException } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA, GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA } from '@nestjs/common/constants';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core/helpers/external-context-creator';
import { KafkaParamType } from '../decorators/kafka-params.decorator';
import { NonRetriableError } from '../errors/handler-signals.error';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { KafkaMessageContext } from '../interfaces/message-context.interface';
import { KAFKA_ARGS_METADATA } from '../kafka-consumer.constants';

/** Handler arguments (value, context) → what each parameter decorator asks for. */
const PARAMS: ParamsFactory = {
  exchangeKeyForValue(type, data, args: [unknown, KafkaMessageContext]) {
    const [value, ctx] = args;
    switch (type as KafkaParamType) {
      case KafkaParamType.PAYLOAD:
        return data && value && typeof value === 'object' ? (value as Record<string, unknown>)[String(data)] : value;
      case KafkaParamType.CONTEXT:
        return ctx;
      case KafkaParamType.KEY:
        return ctx?.key;
      case KafkaParamType.HEADERS: {
        if (!data) return ctx?.headers;
        const header = ctx?.headers?.[String(data)];
        return Buffer.isBuffer(header) ? header.toString('utf8') : header;
      }
      default:
        return undefined;
    }
  },
};

const ENHANCERS = [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA, EXCEPTION_FILTERS_METADATA];

const boundOn = (key: string, target: object): boolean => {
  const value: unknown = Reflect.getMetadata(key, target);
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
};

/** An enhancer of this kind bound to the method or to its class. */
const bound = (key: string, method: object, type: object): boolean => boundOn(key, method) || boundOn(key, type);
const anyEnhancerBound = (method: object, type: object): boolean => ENHANCERS.some((key) => bound(key, method, type));

/** Whether the method or its class binds a guard, interceptor, pipe, exception filter, or takes decorated parameters. */
export function usesNestEnhancers(instance: object, methodName: string, method: object): boolean {
  const type = instance.constructor;
  return anyEnhancerBound(method, type) || Reflect.getMetadata(KAFKA_ARGS_METADATA, type, methodName) !== undefined;
}

/**
 * A handler with Nest enhancers, called as @nestjs/microservices calls a message
 * handler: an 'rpc' execution context (switchToRpc().getData() is the value,
 * getContext() the KafkaMessageContext), then guards, interceptors, pipes on
 * the decorated parameters, the method, and its exception filters. A handler
 * without any keeps its plain call (no cost). A pipe's BadRequestException
 * (ValidationPipe) and a guard's refusal cannot be retried away: they become
 * NonRetriableError (dead-lettered at once) with the messages.
 */
export function nestEnhancedHandler(creator: ExternalContextCreator, instance: object, methodName: string, method: BoundMethod): BoundMethod {
  const type = instance.constructor;
  const direct = directArguments(instance, methodName, method);
  if (direct) return direct;
  const filters = bound(EXCEPTION_FILTERS_METADATA, method, type);
  // Without a filter of its own, Nest's default one would log every failure the module already reports.
  const call = creator.create(instance, method, methodName, KAFKA_ARGS_METADATA, PARAMS, undefined, undefined, { guards: true, interceptors: true, filters }, 'rpc');
  return async (...args: unknown[]) => {
    try {
      return await call(...args);
    } catch (error) {
      throw refusal(error) ?? error;
    }
  };
}

/**
 * Parameter decorators without pipes, and nothing else bound: the arguments
 * are picked synchronously, without Nest's asynchronous pipeline (which costs
 * about 40 % of a no-op handler's throughput; see the benchmark).
 */
function directArguments(instance: object, methodName: string, method: BoundMethod): BoundMethod | undefined {
  const type = instance.constructor;
  if (anyEnhancerBound(method, type)) return undefined;
  const metadata: Record<string, { index: number; data?: unknown; pipes?: unknown[] }> = Reflect.getMetadata(KAFKA_ARGS_METADATA, type, methodName) ?? {};
  const params = Object.entries(metadata).map(([key, { index, data, pipes }]) => ({ type: Number(key.split(':')[0]), index, data, pipes: pipes ?? [] }));
  if (params.some((param) => param.pipes.length > 0 || Number.isNaN(param.type))) return undefined;
  const arity = Math.max(0, ...params.map((param) => param.index + 1));
  const call = method.bind(instance);
  return (...args: unknown[]) => {
    const values = new Array<unknown>(arity);
    for (const param of params) values[param.index] = PARAMS.exchangeKeyForValue(param.type, param.data as string, args);
    return call(...values);
  };
}

function refusal(error: unknown): NonRetriableError | undefined {
  if (!(error instanceof BadRequestException) && !(error instanceof ForbiddenException)) return undefined;
  const response = (error as HttpException).getResponse();
  const messages = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  const text = Array.isArray(messages) ? messages.join('; ') : String(messages ?? error.message);
  const what = error instanceof ForbiddenException ? 'refused by a guard' : 'refused by a pipe';
  return Object.assign(new NonRetriableError(`${what}: ${text}`), { cause: error });
}
