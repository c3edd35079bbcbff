import type { IHeaders } from 'kafkajs';

/** One consumed record, deserialized. Offsets are strings: Kafka offsets are int64. */
export interface KafkaRecord<V = unknown, K = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: K;
  value: V;
  headers: IHeaders;
  /** Record timestamp, milliseconds since the epoch, as Kafka sends it (a string). */
  timestamp: string;
}

/** Second argument of a record handler. */
export interface KafkaMessageContext<K = unknown> extends Omit<KafkaRecord<unknown, K>, 'value'> {
  groupId: string;
  /** The raw value bytes as fetched. */
  rawValue: Buffer | null;
  /**
   * Manual commit mode: marks this record (and every finished record before it)
   * for commit; the commit is sent as soon as the handler returns.
   */
  commit(): void;
}

/** Second argument of a batch handler: the records of one fetch from one partition. */
export interface KafkaBatchContext {
  groupId: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  /** Manual commit mode: commit the whole batch as soon as the handler returns. */
  commit(): void;
}
