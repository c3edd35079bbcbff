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

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new KafkaConsumerConfigError(option, value, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function requireNonEmptyString(option: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KafkaConsumerConfigError(option, value, 'must be a non-empty string');
  }
}

export function optionalIntegerAtLeast(option: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : integerAtLeast(option, value, min);
}
