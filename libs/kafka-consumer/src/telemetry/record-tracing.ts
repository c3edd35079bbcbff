import type { Attributes, Context, Link, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import type { EngineOffset, FetchedRecord } from '../engine/consumer-engine';
import type { RecordHeaders } from '../interfaces/message-context.interface';
import type { ProcessingEvents, ProcessOutcome, RecordProcessing } from '../dispatch/record-processor';
import { isThenable } from '../utils/is-thenable';
import { OtelApiModule, otelApi, tracerProviderRegistered } from './otel-api';

/** Record headers as W3C trace-context carrier (`traceparent`, `tracestate`; bytes or strings). */
const HEADER_GETTER: TextMapGetter<RecordHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    if (value === undefined) return undefined;
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first : first.toString('utf8');
  },
};

/**
 * One group's spans, following the OpenTelemetry messaging conventions: a
 * CONSUMER span `process <topic>` per record, from hand-over to the handler
 * until the record really finished (on a worker pool too), whose parent is
 * the producer's context from the record's headers; one span per batch with
 * a link per record; retries and dead letters as events and status; one
 * `commit <group>` span per commit. The handler runs in its span's context.
 */
export class GroupTracing {
  private constructor(
    private readonly api: OtelApiModule,
    private readonly tracer: Tracer,
    private readonly groupId: string,
  ) {}

  /** Spans for a group when the application registered an OpenTelemetry SDK; undefined when @opentelemetry/api is absent or no tracer provider is registered. */
  static forGroup(groupId: string): GroupTracing | undefined {
    const api = otelApi();
    if (!api || !tracerProviderRegistered(api)) return undefined;
    return new GroupTracing(api, api.trace.getTracer('nestjs-kafka-consumer'), groupId);
  }

  /** Span events on the active record span: the failure paths of the processor. */
  readonly events: ProcessingEvents = {
    attemptFailed: (_topic, _partition, error, attempt, final) => {
      const span = this.api.trace.getActiveSpan();
      if (!span) return;
      span.addEvent(final ? 'attempt failed' : 'retry', { attempt, 'error.type': errorType(error), 'exception.message': String((error as Error)?.message ?? error) });
    },
    gaveUp: (_topic, _partition, _offset, error, deadLetterTopic) => {
      const span = this.api.trace.getActiveSpan();
      if (!span) return;
      if (deadLetterTopic) span.addEvent('dead letter', { 'messaging.destination.name': deadLetterTopic });
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
    },
  };

  /** The processor with a span around each record and batch. */
  wrap(processor: RecordProcessing): RecordProcessing {
    return {
      processRecord: (topic, partition, message) => this.processRecord(processor, topic, partition, message),
      processBatch: (topic, partition, messages) => this.processBatch(processor, topic, partition, messages),
    };
  }

  /** A commit inside a `commit <group>` span. */
  commit(offsets: EngineOffset[], send: () => Promise<void>): Promise<void> {
    const span = this.tracer.startSpan(`commit ${this.groupId}`, {
      kind: this.api.SpanKind.CLIENT,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'settle',
        'messaging.operation.name': 'commit',
        'messaging.consumer.group.name': this.groupId,
        'messaging.batch.message_count': offsets.length,
      },
    });
    return send().then(
      () => span.end(),
      (error: unknown) => {
        this.fail(span, error);
        span.end();
        throw error;
      },
    );
  }

  private processRecord(processor: RecordProcessing, topic: string, partition: number, message: FetchedRecord): ProcessOutcome | Promise<ProcessOutcome> {
    const { api } = this;
    const parent = message.headers ? api.propagation.extract(api.ROOT_CONTEXT, message.headers, HEADER_GETTER) : api.ROOT_CONTEXT;
    const attributes = this.attributes(topic, partition);
    attributes['messaging.kafka.offset'] = Number(message.offset);
    if (message.key) attributes['messaging.kafka.message.key'] = message.key.toString('utf8');
    const span = this.tracer.startSpan(`process ${topic}`, { kind: api.SpanKind.CONSUMER, attributes }, parent);
    return this.run(span, api.trace.setSpan(parent, span), () => processor.processRecord(topic, partition, message));
  }

  private processBatch(processor: RecordProcessing, topic: string, partition: number, messages: FetchedRecord[]): Promise<ProcessOutcome> {
    const { api } = this;
    const links: Link[] = [];
    for (const message of messages) {
      if (!message.headers) continue;
      const context = api.trace.getSpanContext(api.propagation.extract(api.ROOT_CONTEXT, message.headers, HEADER_GETTER));
      if (context) links.push({ context, attributes: { 'messaging.kafka.offset': Number(message.offset) } });
    }
    const attributes = this.attributes(topic, partition);
    attributes['messaging.batch.message_count'] = messages.length;
    const span = this.tracer.startSpan(`process ${topic}`, { kind: api.SpanKind.CONSUMER, attributes, links });
    return this.run(span, api.trace.setSpan(api.ROOT_CONTEXT, span), () => processor.processBatch(topic, partition, messages)) as Promise<ProcessOutcome>;
  }

  /** Runs the processing in the span's context; the span ends when the outcome is known. */
  private run(span: Span, context: Context, process: () => ProcessOutcome | Promise<ProcessOutcome>): ProcessOutcome | Promise<ProcessOutcome> {
    let outcome: ProcessOutcome | Promise<ProcessOutcome>;
    try {
      outcome = this.api.context.with(context, process);
    } catch (error) {
      this.fail(span, error);
      span.end();
      throw error;
    }
    if (!isThenable<ProcessOutcome>(outcome)) return this.end(span, outcome);
    return Promise.resolve(outcome).then(
      (result) => this.end(span, result),
      (error: unknown) => {
        this.fail(span, error);
        span.end();
        throw error;
      },
    );
  }

  private end(span: Span, outcome: ProcessOutcome): ProcessOutcome {
    // Aborted by shutdown or revocation: unfinished, delivered again later.
    if (outcome === 'aborted') span.addEvent('aborted');
    span.end();
    return outcome;
  }

  private fail(span: Span, error: unknown): void {
    span.setAttribute('error.type', errorType(error));
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
  }

  private attributes(topic: string, partition: number): Attributes {
    return {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': String(partition),
      'messaging.consumer.group.name': this.groupId,
    };
  }
}

/** The error's class name, for `error.type`. */
export function errorType(error: unknown): string {
  return (error as Error)?.name ?? typeof error;
}
