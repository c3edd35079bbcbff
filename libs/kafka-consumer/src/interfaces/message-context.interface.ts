import type { SeekPosition } from '../interfaces/seek-position.interface';

/** Record headers as fetched: a value is bytes, or several when a key repeats. */
export interface RecordHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** One consumed record, deserialized. Offsets are strings: Kafka offsets are int64. */
export interface KafkaRecord<V = unknown, K = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: K;
  value: V;
  headers: RecordHeaders;
  /** Record timestamp, milliseconds since the epoch, as Kafka sends it (a string). */
  timestamp: string;
}

/** Second argument of a record handler. */
export interface KafkaMessageContext<K = unknown> extends Omit<KafkaRecord<unknown, K>, 'value'> {
  groupId: string;
  /** The raw value bytes as fetched. */
  rawValue: Buffer | null;
  /**
   * Aborted when this attempt passes the handler's `handlerTimeoutMs` (reason:
   * a HandlerTimeoutError), or when shutdown stops waiting for running
   * handlers. Pass it to what the handler awaits (fetch, database drivers,
   * timers) so the work stops with it.
   */
  signal: AbortSignal;
  /**
   * Manual commit mode: marks this record (and every finished record before it)
   * for commit; the commit is sent as soon as the handler returns.
   */
  commit(): void;
  /**
   * Moves this partition's fetch position (§4.8): the records after this one in
   * the current fetch are dropped and reading goes on from the new position.
   * Resolves to the offset read next.
   */
  seek(position: SeekPosition): Promise<string>;
}

/** Second argument of a batch handler: the records of one fetch from one partition. */
export interface KafkaBatchContext {
  groupId: string;
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  /** As KafkaMessageContext.signal, for the batch. */
  signal: AbortSignal;
  /** Manual commit mode: commit the whole batch as soon as the handler returns. */
  commit(): void;
  /** Moves this partition's fetch position, as KafkaMessageContext.seek. */
  seek(position: SeekPosition): Promise<string>;
}
