import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';

/** Checks shared by the option resolvers. Pure. */

/** A Kafka topic name (also used for ids with the same alphabet). */
export const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new KafkaConsumerConfigError(option, value, `must be an integer ≥ ${min}`);
  }
  return value;
}
