import type { IHeaders } from 'kafkajs';

export type KafkaFailureKind = 'deserialization' | 'handler' | 'commit' | 'consumer' | 'rebalance-hook';

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
  headers?: IHeaders;
  /** How many times the handler ran. */
  attempts?: number;
}
