import { SetMetadata } from '@nestjs/common';
import { KAFKA_HANDLER_METADATA } from '../kafka-consumer.constants';
import type { KafkaHandlerMetadata, KafkaHandlerOptions, TopicSubscription } from '../interfaces/handler-options.interface';

/**
 * Marks a method as the consumer of a topic, a list of topics, or every topic
 * matching a RegExp (including topics created later). The method receives
 * `(value, context)`. Only writes metadata; discovery happens at bootstrap.
 */
export function KafkaHandler(topics: TopicSubscription, options: KafkaHandlerOptions = {}): MethodDecorator {
  return SetMetadata<string, KafkaHandlerMetadata>(KAFKA_HANDLER_METADATA, { ...options, topics, batch: false });
}

/**
 * Like `@KafkaHandler`, but the method receives the records of one fetch from
 * one partition at once: `(records, context)`, at most `maxPollRecords` per call.
 */
export function KafkaBatchHandler(topics: TopicSubscription, options: KafkaHandlerOptions = {}): MethodDecorator {
  return SetMetadata<string, KafkaHandlerMetadata>(KAFKA_HANDLER_METADATA, { ...options, topics, batch: true });
}
