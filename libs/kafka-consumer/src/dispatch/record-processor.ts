import type { KafkaMessage } from 'kafkajs';
import type { BoundMethod } from '../discovery/kafka-handler.explorer';
import { DeserializationError } from '../errors/deserialization.error';
import { NonRetriableError, RetryLaterError } from '../errors/handler-signals.error';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { KafkaBatchContext, KafkaMessageContext, KafkaRecord } from '../interfaces/message-context.interface';
import type { ResolvedHandler } from '../options/resolve-options';
import type { SeekPosition } from '../runner/seek-position';
import { backoffDelay, sleep } from '../utils/backoff';

export type ProcessOutcome = 'done' | 'aborted';

export interface ProcessingEnvironment {
  groupId: string;
  /** Aborted on shutdown or revocation: stop retrying, leave the record unfinished. */
  signal: AbortSignal;
  reportFailure(failure: KafkaConsumerFailure): Promise<void>;
  /** Resolves true once published; false when `signal` aborted first. */
  publishDeadLetter(topic: string, failure: KafkaConsumerFailure): Promise<boolean>;
  /** Moves a partition's fetch position; resolves to the offset read next. */
  seek(topic: string, partition: number, position: SeekPosition): Promise<string>;
}

/** Runs user code; the caller keeps heartbeats flowing meanwhile. */
export type UserCodeRunner = <T>(work: () => Promise<T>) => Promise<T>;

type Decoded = { ok: true; record: KafkaRecord } | { ok: false; error: DeserializationError };

/**
 * Turns one fetched record (or batch) into handler calls: deserializes,
 * retries with backoff, and reports what finally failed. A record that cannot
 * be handled is reported, never silently dropped, and never blocks its
 * partition forever.
 */
export class RecordProcessor {
  constructor(
    private readonly handler: ResolvedHandler<BoundMethod>,
    private readonly env: ProcessingEnvironment,
  ) {}

  async processRecord(
    topic: string,
    partition: number,
    message: KafkaMessage,
    acknowledge: () => void,
    runUserCode: UserCodeRunner,
  ): Promise<ProcessOutcome> {
    const decoded = this.decode(topic, partition, message);
    if (!decoded.ok) return this.giveUp('deserialization', decoded.error, topic, partition, message, 0);
    const { value, ...meta } = decoded.record;
    const context: KafkaMessageContext = {
      ...meta,
      groupId: this.env.groupId,
      rawValue: message.value,
      commit: acknowledge,
      seek: (position) => this.env.seek(topic, partition, position),
    };
    return this.invoke(runUserCode, [value, context], (error, attempts) => this.giveUp('handler', error, topic, partition, message, attempts));
  }

  async processBatch(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    acknowledge: () => void,
    runUserCode: UserCodeRunner,
  ): Promise<ProcessOutcome> {
    const records: KafkaRecord[] = [];
    const sources: KafkaMessage[] = [];
    for (const message of messages) {
      const decoded = this.decode(topic, partition, message);
      if (decoded.ok) {
        records.push(decoded.record);
        sources.push(message);
      } else if ((await this.giveUp('deserialization', decoded.error, topic, partition, message, 0)) === 'aborted') {
        return 'aborted';
      }
    }
    if (records.length === 0) return 'done';
    const context: KafkaBatchContext = {
      groupId: this.env.groupId,
      topic,
      partition,
      firstOffset: records[0].offset,
      lastOffset: records[records.length - 1].offset,
      commit: acknowledge,
      seek: (position) => this.env.seek(topic, partition, position),
    };
    return this.invoke(runUserCode, [records, context], async (error, attempts) => {
      for (const message of sources) {
        if ((await this.giveUp('handler', error, topic, partition, message, attempts)) === 'aborted') return 'aborted';
      }
      return 'done';
    });
  }

  private async invoke(
    runUserCode: UserCodeRunner,
    args: unknown[],
    onGiveUp: (error: unknown, attempts: number) => Promise<ProcessOutcome>,
  ): Promise<ProcessOutcome> {
    const { retry } = this.handler;
    for (let attempt = 1; ; attempt++) {
      if (this.env.signal.aborted) return 'aborted';
      try {
        await runUserCode(async () => this.handler.source(...args));
        return 'done';
      } catch (error) {
        if (attempt >= retry.attempts || error instanceof NonRetriableError) return onGiveUp(error, attempt);
        const delay = error instanceof RetryLaterError ? error.delayMs : backoffDelay(retry, attempt);
        await sleep(delay, this.env.signal);
      }
    }
  }

  private decode(topic: string, partition: number, message: KafkaMessage): Decoded {
    const headers = message.headers ?? {};
    let key: unknown;
    try {
      key = this.handler.keyDeserializer.deserialize(message.key ?? null, { topic, headers });
    } catch (error) {
      return { ok: false, error: new DeserializationError('key', error) };
    }
    try {
      const value = this.handler.valueDeserializer.deserialize(message.value ?? null, { topic, headers });
      return {
        ok: true,
        record: { topic, partition, offset: message.offset, key, value, headers, timestamp: message.timestamp },
      };
    } catch (error) {
      return { ok: false, error: new DeserializationError('value', error) };
    }
  }

  /** Reports the record, then dead-letters it; 'aborted' if shutdown came first. */
  private async giveUp(
    kind: 'deserialization' | 'handler',
    error: unknown,
    topic: string,
    partition: number,
    message: KafkaMessage,
    attempts: number,
  ): Promise<ProcessOutcome> {
    const failure: KafkaConsumerFailure = {
      kind,
      error,
      groupId: this.env.groupId,
      handler: this.handler.name,
      topic,
      partition,
      offset: message.offset,
      key: message.key ?? null,
      value: message.value ?? null,
      headers: message.headers ?? {},
      attempts,
    };
    await this.env.reportFailure(failure);
    const { deadLetter } = this.handler;
    if (deadLetter === false) return 'done';
    return (await this.env.publishDeadLetter(deadLetter.topic ?? `${topic}.DLT`, failure)) ? 'done' : 'aborted';
  }
}
