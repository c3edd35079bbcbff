import { SetMetadata } from '@nestjs/common';
import { KAFKA_HANDLER_METADATA } from '../kafka-consumer.constants';
import type { KafkaHandlerMetadata, KafkaHandlerOptions, TopicSubscription } from '../interfaces/handler-options.interface';

/** A handler whose topics come from the module options (`handlers[name].topics`): it needs a name. */
export type NamedHandlerOptions = KafkaHandlerOptions & { name: string };

const isNamedOnly = (value: unknown): value is NamedHandlerOptions =>
  typeof value === 'object' && value !== null && !(value instanceof RegExp) && !Array.isArray(value);

/**
 * Marks a method as the consumer of a topic, a list of topics, or every topic
 * matching a RegExp (including topics created later). The method receives
 * `(value, context)`. Only writes metadata; discovery happens at bootstrap.
 */
export function KafkaHandler(topics: TopicSubscription, options?: KafkaHandlerOptions): MethodDecorator;
/** Topics (and optionally the group) from configuration: `handlers[options.name]` in the module options. */
export function KafkaHandler(options: NamedHandlerOptions): MethodDecorator;
export function KafkaHandler(topics: TopicSubscription | NamedHandlerOptions, options: KafkaHandlerOptions = {}): MethodDecorator {
  return handlerMetadata(topics, options, false);
}

/**
 * Like `@KafkaHandler`, but the method receives the records of one fetch from
 * one partition at once: `(records, context)`, at most `maxPollRecords` per call.
 */
export function KafkaBatchHandler(topics: TopicSubscription, options?: KafkaHandlerOptions): MethodDecorator;
export function KafkaBatchHandler(options: NamedHandlerOptions): MethodDecorator;
export function KafkaBatchHandler(topics: TopicSubscription | NamedHandlerOptions, options: KafkaHandlerOptions = {}): MethodDecorator {
  return handlerMetadata(topics, options, true);
}

function handlerMetadata(topics: TopicSubscription | NamedHandlerOptions, options: KafkaHandlerOptions, batch: boolean): MethodDecorator {
  if (isNamedOnly(topics)) return SetMetadata<string, KafkaHandlerMetadata>(KAFKA_HANDLER_METADATA, { ...topics, topics: undefined, batch });
  return SetMetadata<string, KafkaHandlerMetadata>(KAFKA_HANDLER_METADATA, { ...options, topics, batch });
}
