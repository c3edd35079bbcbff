import type { FetchedRecord } from '../engine/consumer-engine';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { DeserializationError } from '../errors/deserialization.error';
import { HandlerTimeoutError, NonRetriableError, RetryLaterError } from '../errors/handler-signals.error';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { KafkaBatchContext, KafkaMessageContext, KafkaRecord, RecordHeaders } from '../interfaces/message-context.interface';
import type { ResolvedHandler } from '../options/resolved-options';
import type { SeekPosition } from '../interfaces/seek-position.interface';
import { backoffDelay, sleep } from '../utils/backoff';
import { isThenable } from '../utils/is-thenable';

/**
 * 'acknowledged': done, and a manual-commit handler called `ctx.commit()`;
 * 'gave-up': done after failing (dead-lettered, or dropped without a dead-letter topic).
 */
export type ProcessOutcome = 'done' | 'acknowledged' | 'gave-up' | 'aborted';

/** Failure paths that tracing and metrics follow; never called for a record that succeeds first time. */
export interface ProcessingEvents {
  /** An attempt failed; `final` when no other attempt follows. */
  attemptFailed(topic: string, partition: number, error: unknown, attempt: number, final: boolean): void;
  /** The record at `offset` was given up: written to `deadLetterTopic`, or dropped by a handler without one. */
  gaveUp(topic: string, partition: number, offset: string, error: unknown, deadLetterTopic: string | undefined): void;
}

/** What the dispatchers call: the processor, or a tracer around it. */
export interface RecordProcessing {
  processRecord(topic: string, partition: number, message: FetchedRecord): ProcessOutcome | Promise<ProcessOutcome>;
  processBatch(topic: string, partition: number, messages: FetchedRecord[]): Promise<ProcessOutcome>;
}

export interface ProcessingEnvironment {
  groupId: string;
  events?: ProcessingEvents;
  /** Aborted on shutdown or revocation: stop retrying, leave the record unfinished. */
  signal: AbortSignal;
  reportFailure(failure: KafkaConsumerFailure): Promise<void>;
  /** Resolves true once published; false when `signal` aborted first. */
  publishDeadLetter(topic: string, failure: KafkaConsumerFailure): Promise<boolean>;
  /** Moves a partition's fetch position; resolves to the offset read next. */
  seek(topic: string, partition: number, position: SeekPosition): Promise<string>;
}

/**
 * What record and batch contexts share: the group, the partition, and the
 * commit and seek calls. Classes rather than object literals: a context is
 * built per record on the hot path, and its methods live on the prototype
 * instead of being closures per record.
 */
abstract class PartitionContext {
  readonly groupId: string;
  /** The current attempt's signal (set before each attempt). */
  signal: AbortSignal;
  #env: ProcessingEnvironment;
  #acknowledged = false;

  constructor(
    env: ProcessingEnvironment,
    readonly topic: string,
    readonly partition: number,
  ) {
    this.groupId = env.groupId;
    this.signal = env.signal;
    this.#env = env;
  }

  get acknowledged(): boolean {
    return this.#acknowledged;
  }

  commit(): void {
    this.#acknowledged = true;
  }

  seek(position: SeekPosition): Promise<string> {
    return this.#env.seek(this.topic, this.partition, position);
  }
}

class RecordContext extends PartitionContext implements KafkaMessageContext {
  constructor(
    env: ProcessingEnvironment,
    topic: string,
    partition: number,
    readonly offset: string,
    readonly key: unknown,
    readonly headers: RecordHeaders,
    readonly timestamp: string,
    readonly rawValue: Buffer | null,
  ) {
    super(env, topic, partition);
  }
}

class BatchContext extends PartitionContext implements KafkaBatchContext {
  constructor(
    env: ProcessingEnvironment,
    topic: string,
    partition: number,
    readonly firstOffset: string,
    readonly lastOffset: string,
  ) {
    super(env, topic, partition);
  }
}

/** The plain fields of a record handler's context (what `threads` hands to a worker thread). */
export function contextFields(context: KafkaMessageContext): Omit<KafkaMessageContext, 'commit' | 'seek' | 'rawValue' | 'signal'> {
  const { groupId, topic, partition, offset, key, headers, timestamp } = context;
  return { groupId, topic, partition, offset, key, headers, timestamp };
}

const EMPTY_HEADERS: RecordHeaders = Object.freeze({}) as RecordHeaders;

/**
 * Turns one fetched record (or batch) into handler calls: deserializes,
 * retries with backoff, and reports what finally failed. A record that cannot
 * be handled is reported, never silently dropped, and never blocks its
 * partition forever.
 *
 * processRecord answers synchronously when the handler does (no promise per
 * record on the no-op path); the caller awaits only what is a promise.
 */
export class RecordProcessor implements RecordProcessing {
  constructor(
    private readonly handler: ResolvedHandler<BoundMethod>,
    private readonly env: ProcessingEnvironment,
  ) {}

  processRecord(topic: string, partition: number, message: FetchedRecord): ProcessOutcome | Promise<ProcessOutcome> {
    if (this.env.signal.aborted) return 'aborted';
    const headers = message.headers ?? EMPTY_HEADERS;
    const rawValue = message.value ?? null;
    let key: unknown;
    let value: unknown;
    try {
      const source = { topic, headers }; // one per record, shared by both deserializers
      key = this.deserialize('key', message.key ?? null, source);
      value = this.deserialize('value', rawValue, source);
    } catch (error) {
      return this.giveUp('deserialization', error, topic, partition, message, 0);
    }
    const context = new RecordContext(this.env, topic, partition, message.offset, key, headers, message.timestamp, rawValue);
    let result: unknown;
    try {
      result = this.attempt(value, context);
    } catch (error) {
      return this.retry(value, context, error, this.recordGiveUp(topic, partition, message));
    }
    if (!isThenable(result)) return context.acknowledged ? 'acknowledged' : 'done';
    return Promise.resolve(result).then(
      () => (context.acknowledged ? 'acknowledged' : 'done'),
      (error: unknown) => this.retry(value, context, error, this.recordGiveUp(topic, partition, message)),
    );
  }

  async processBatch(topic: string, partition: number, messages: FetchedRecord[]): Promise<ProcessOutcome> {
    const records: KafkaRecord[] = [];
    const sources: FetchedRecord[] = [];
    for (const message of messages) {
      const headers = message.headers ?? EMPTY_HEADERS;
      let key: unknown;
      let value: unknown;
      try {
        const source = { topic, headers };
        key = this.deserialize('key', message.key ?? null, source);
        value = this.deserialize('value', message.value ?? null, source);
      } catch (error) {
        if ((await this.giveUp('deserialization', error, topic, partition, message, 0)) === 'aborted') return 'aborted';
        continue;
      }
      records.push({ topic, partition, offset: message.offset, key, value, headers, timestamp: message.timestamp });
      sources.push(message);
    }
    if (records.length === 0) return 'done';
    const context = new BatchContext(this.env, topic, partition, records[0].offset, records[records.length - 1].offset);
    const giveUp = async (error: unknown, attempts: number): Promise<ProcessOutcome> => {
      for (const message of sources) {
        if ((await this.giveUp('handler', error, topic, partition, message, attempts)) === 'aborted') return 'aborted';
      }
      return 'gave-up';
    };
    if (this.env.signal.aborted) return 'aborted';
    try {
      await this.attempt(records, context);
    } catch (error) {
      return this.retry(records, context, error, giveUp);
    }
    return context.acknowledged ? 'acknowledged' : 'done';
  }

  /**
   * One call of the handler. Without handlerTimeoutMs: the call itself, with the
   * shutdown signal (no allocation on the hot path). With it: an async result
   * races a timer; past it the attempt fails with HandlerTimeoutError and the
   * attempt's signal aborts. The call's own promise is left to settle unobserved.
   */
  private attempt(input: unknown, context: RecordContext | BatchContext): unknown {
    const timeoutMs = this.handler.handlerTimeoutMs;
    if (timeoutMs === undefined) return this.handler.source(input, context);
    const shutdown = this.env.signal;
    const controller = new AbortController();
    const onShutdown = () => controller.abort(shutdown.reason);
    shutdown.addEventListener('abort', onShutdown, { once: true });
    context.signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
    };
    let result: unknown;
    try {
      result = this.handler.source(input, context);
    } catch (error) {
      done();
      throw error;
    }
    if (!isThenable(result)) {
      done();
      return result;
    }
    return new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(timeoutMs);
        done();
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      (result as PromiseLike<unknown>).then(
        (value) => {
          done();
          resolve(value);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  /** The handler's key or value deserializer; a failure is a DeserializationError naming the part. */
  private deserialize(part: 'key' | 'value', bytes: Buffer | null, source: { topic: string; headers: RecordHeaders }): unknown {
    const deserializer = part === 'key' ? this.handler.keyDeserializer : this.handler.valueDeserializer;
    try {
      return deserializer.deserialize(bytes, source);
    } catch (error) {
      throw new DeserializationError(part, error);
    }
  }

  /** Built only once a record has failed: the hot path allocates no closure for it. */
  private recordGiveUp(topic: string, partition: number, message: FetchedRecord) {
    return (error: unknown, attempts: number) => this.giveUp('handler', error, topic, partition, message, attempts);
  }

  /** Attempts after the first failed one, with backoff, until success, give-up or abort. */
  private async retry(
    input: unknown,
    context: RecordContext | BatchContext,
    firstError: unknown,
    giveUp: (error: unknown, attempts: number) => Promise<ProcessOutcome>,
  ): Promise<ProcessOutcome> {
    const { retry } = this.handler;
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      const final = attempt >= retry.attempts || error instanceof NonRetriableError;
      this.env.events?.attemptFailed(context.topic, context.partition, error, attempt, final);
      if (final) return giveUp(error, attempt);
      await sleep(error instanceof RetryLaterError ? error.delayMs : backoffDelay(retry, attempt), this.env.signal);
      if (this.env.signal.aborted) return 'aborted';
      try {
        await this.attempt(input, context);
        return context.acknowledged ? 'acknowledged' : 'done';
      } catch (next) {
        error = next;
      }
    }
  }

  /** Reports the record, then dead-letters it; 'aborted' if shutdown came first. */
  private async giveUp(
    kind: 'deserialization' | 'handler',
    error: unknown,
    topic: string,
    partition: number,
    message: FetchedRecord,
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
    if (deadLetter === false) {
      this.env.events?.gaveUp(topic, partition, message.offset, error, undefined);
      return 'gave-up';
    }
    const deadLetterTopic = deadLetter.topic ?? `${topic}.DLT`;
    const published = await this.env.publishDeadLetter(deadLetterTopic, failure);
    if (published) this.env.events?.gaveUp(topic, partition, message.offset, error, deadLetterTopic);
    return published ? 'gave-up' : 'aborted';
  }
}
