import { KafkaConsumerConfigError } from '../../libs/kafka-consumer/src/errors/kafka-consumer-config.error';

/** Runs `fn` and returns the KafkaConsumerConfigError it throws; fails on any other outcome. */
export function configError(fn: () => unknown): KafkaConsumerConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KafkaConsumerConfigError) return error;
    throw error;
  }
  throw new Error('expected a KafkaConsumerConfigError');
}
