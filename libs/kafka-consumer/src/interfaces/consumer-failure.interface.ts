import type { RecordHeaders } from './message-context.interface';

/**
 * `dead-letter`: a dead-letter topic cannot be written; reported once per outage, with the
 * first record that waits for it (its partition waits too, see ConsumerGroupStatus).
 */
export type KafkaFailureKind = 'deserialization' | 'handler' | 'commit' | 'consumer' | 'rebalance-hook' | 'dead-letter';

/** Something the module could not do, with what is needed to find or replay it. */
export interface KafkaConsumerFailure {
  kind: KafkaFailureKind;
  error: unknown;
  groupId: string;
  /** Handler name, for record failures. */
  handler?: string;
  topic?: string;
  partition?: number;
  offset?: string;
  /** The original bytes, for record failures. */
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: RecordHeaders;
  /** How many times the handler ran. */
  attempts?: number;
  /** For `dead-letter`: the topic that cannot be written. */
  deadLetterTopic?: string;
}
