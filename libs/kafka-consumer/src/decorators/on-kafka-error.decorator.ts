import { SetMetadata } from '@nestjs/common';
import { KAFKA_ERROR_HOOK_METADATA } from '../kafka-consumer.constants';

export interface KafkaErrorHookOptions {
  /** Only failures of this consumer group (default: every group). */
  groupId?: string;
}

/**
 * Marks a method that receives every `KafkaConsumerFailure`: records that could
 * not be deserialized or whose handler kept failing, and failed commits.
 */
export function OnKafkaError(options: KafkaErrorHookOptions = {}): MethodDecorator {
  return SetMetadata(KAFKA_ERROR_HOOK_METADATA, options);
}
