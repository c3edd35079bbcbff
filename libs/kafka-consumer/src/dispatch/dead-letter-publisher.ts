import type { RecordSender } from '../engine/kafka-client';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { RecordHeaders } from '../interfaces/message-context.interface';
import { backoffDelay, sleep } from '../utils/backoff';

/** Headers added to a dead-lettered record, beside its original headers. */
export const DEAD_LETTER_HEADERS = {
  kind: 'dlt-kind',
  exception: 'dlt-exception',
  message: 'dlt-exception-message',
  topic: 'dlt-original-topic',
  partition: 'dlt-original-partition',
  offset: 'dlt-original-offset',
  attempts: 'dlt-attempts',
  group: 'dlt-group',
  handler: 'dlt-handler',
} as const;

export function deadLetterHeaders(failure: KafkaConsumerFailure): RecordHeaders {
  const error = failure.error as Error | undefined;
  return {
    ...failure.headers,
    [DEAD_LETTER_HEADERS.kind]: failure.kind,
    [DEAD_LETTER_HEADERS.exception]: error?.name ?? typeof failure.error,
    [DEAD_LETTER_HEADERS.message]: error?.message ?? String(failure.error),
    [DEAD_LETTER_HEADERS.topic]: failure.topic ?? '',
    [DEAD_LETTER_HEADERS.partition]: String(failure.partition ?? ''),
    [DEAD_LETTER_HEADERS.offset]: failure.offset ?? '',
    [DEAD_LETTER_HEADERS.attempts]: String(failure.attempts ?? 0),
    [DEAD_LETTER_HEADERS.group]: failure.groupId,
    [DEAD_LETTER_HEADERS.handler]: failure.handler ?? '',
  };
}

const PUBLISH_BACKOFF = { initialDelayMs: 200, maxDelayMs: 10_000 };

/** Hears how one record's dead-letter write goes (the group's outage bookkeeping). */
export interface PublishObserver {
  attemptFailed(error: unknown, attempt: number): void;
  published(): void;
}

/**
 * Writes records that could not be handled to a dead-letter topic: original
 * key and value bytes, original headers plus the error headers above.
 */
export class DeadLetterPublisher {
  constructor(private readonly sender: RecordSender) {}

  /**
   * Publishes and resolves true once the broker has it. Keeps retrying while
   * the dead-letter topic is unreachable (moving on would lose the record);
   * resolves false only when `signal` aborts (shutdown), leaving the record
   * uncommitted so it is delivered again. `observer` hears every attempt (the
   * group logs and reports an outage once, see DeadLetterPath).
   */
  async publish(topic: string, failure: KafkaConsumerFailure, signal: AbortSignal, observer: PublishObserver): Promise<boolean> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await this.sender.send(topic, { key: failure.key ?? null, value: failure.value ?? null, headers: deadLetterHeaders(failure) });
        observer.published();
        return true;
      } catch (error) {
        observer.attemptFailed(error, attempt);
        await sleep(backoffDelay(PUBLISH_BACKOFF, attempt), signal);
      }
    }
    return false;
  }

  close(): Promise<void> {
    return this.sender.close();
  }
}
