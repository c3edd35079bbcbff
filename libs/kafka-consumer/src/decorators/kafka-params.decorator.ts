import { assignMetadata, PipeTransform, Type } from '@nestjs/common';
import { KAFKA_ARGS_METADATA } from '../kafka-consumer.constants';

/** What a handler parameter receives (see the decorators below). */
export enum KafkaParamType {
  PAYLOAD = 3, // as @nestjs/microservices' RpcParamtype.PAYLOAD, so ValidationPipe treats it alike
  CONTEXT = 6,
  KEY = 20,
  HEADERS = 21,
}

type PipeArg = Type<PipeTransform> | PipeTransform;

function kafkaParam(type: KafkaParamType, data: string | undefined, pipes: PipeArg[]): ParameterDecorator {
  return (target, method, index) => {
    if (method === undefined) return;
    const args = Reflect.getMetadata(KAFKA_ARGS_METADATA, target.constructor, method) ?? {};
    Reflect.defineMetadata(KAFKA_ARGS_METADATA, assignMetadata(args, type, index, data, ...pipes), target.constructor, method);
  };
}

/**
 * The deserialized value (a batch handler: its records), or one property of it;
 * pipes run on it first (a `ValidationPipe` with a DTO: a value that fails is
 * dead-lettered at once, with the validation messages).
 */
export function Payload(property?: string | PipeArg, ...pipes: PipeArg[]): ParameterDecorator {
  return typeof property === 'string' || property === undefined
    ? kafkaParam(KafkaParamType.PAYLOAD, property, pipes)
    : kafkaParam(KafkaParamType.PAYLOAD, undefined, [property, ...pipes]);
}

/** The record's KafkaMessageContext (a batch handler: its KafkaBatchContext). */
export function Ctx(): ParameterDecorator {
  return kafkaParam(KafkaParamType.CONTEXT, undefined, []);
}

/** The record's key as the handler's keyDeserializer gives it (a string by default; null when absent), through the given pipes. */
export function KafkaKey(...pipes: PipeArg[]): ParameterDecorator {
  return kafkaParam(KafkaParamType.KEY, undefined, pipes);
}

/** The record's headers, or the one named (as a string). Not @nestjs/common's HTTP `@Headers()`. */
export function KafkaHeaders(name?: string): ParameterDecorator {
  return kafkaParam(KafkaParamType.HEADERS, name, []);
}
