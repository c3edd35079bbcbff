import { Injectable } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { KafkaBatchHandler, KafkaHandler, KafkaMessageContext, KafkaRecord } from '../libs/kafka-consumer/src';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';

const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer('test-producer');
const ms = (span: ReadableSpan) => span.duration[0] * 1_000 + span.duration[1] / 1e6;
const endMs = (span: ReadableSpan) => span.endTime[0] * 1_000 + span.endTime[1] / 1e6;

/** A record produced inside a PRODUCER span: its trace context travels in the headers (W3C traceparent). */
function producedInSpan(name: string, value: object, key?: string) {
  const span = tracer().startSpan(`send ${name}`, { kind: SpanKind.PRODUCER });
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
  span.end();
  return { producer: span.spanContext(), message: { key, value: JSON.stringify(value), headers } };
}

describe('OpenTelemetry tracing (an SDK registered, in-memory exporter)', () => {
  let kit: KafkaTestKit;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  });

  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  afterEach(async () => {
    await kit?.close();
    exporter.reset();
  });

  it('one span per record from hand-over to real completion on the worker pool, child of the producer span; retries and the dead letter as events; commit spans', async () => {
    kit = await KafkaTestKit.start({ topics: { traced: 1, 'traced.DLT': 1 } });
    const produced = [
      producedInSpan('traced', { n: 0, slowMs: 600 }, 'a'),
      producedInSpan('traced', { n: 1 }, 'b'),
      producedInSpan('traced', { n: 2, fail: true }, 'c'),
      producedInSpan('traced', { n: 3 }, 'd'),
    ];
    const activeInHandler = new Map<string, string | undefined>();
    @Injectable()
    class Traced {
      @KafkaHandler('traced', { groupId: 'traced-group', concurrency: 4, ordering: 'key', retry: { attempts: 2, initialDelayMs: 20 } })
      async handle(value: { n: number; slowMs?: number; fail?: boolean }, ctx: KafkaMessageContext) {
        activeInHandler.set(ctx.offset, trace.getActiveSpan()?.spanContext().spanId);
        // Work the handler traces itself (a database call, say): a child of the record's span.
        if (value.slowMs) await tracer().startActiveSpan('slow work', async (span) => {
          await sleep(value.slowMs!);
          span.end();
        });
        if (value.fail) throw new Error(`record ${value.n} is bad`);
      }
    }
    await kit.produce('traced', produced.map((p) => p.message));
    await kit.startApp({}, [Traced]);
    await waitFor(async () => (await kit.committed('traced-group', 'traced'))[0] === 4, 30_000, 'all four records committed');
    await waitFor(() => exporter.getFinishedSpans().filter((s) => s.name === 'process traced').length === 4, 10_000, 'four process spans');
    // Kafka may store the commit a moment before the client hears back and ends the commit's span.
    await waitFor(() => exporter.getFinishedSpans().some((s) => s.name === 'commit traced-group'), 10_000, 'a commit span');

    const spans = exporter.getFinishedSpans();
    const process = new Map(spans.filter((s) => s.name === 'process traced').map((s) => [String(s.attributes['messaging.kafka.offset']), s]));
    for (const [offset, { producer }] of produced.entries()) {
      const span = process.get(String(offset))!;
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().traceId).toBe(producer.traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer.spanId);
      expect(span.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'traced',
        'messaging.destination.partition.id': '0',
        'messaging.consumer.group.name': 'traced-group',
        'messaging.kafka.offset': offset,
        'messaging.kafka.message.key': ['a', 'b', 'c', 'd'][offset],
      });
      // The handler ran inside its record's span: its own spans and logs carry this trace.
      expect(activeInHandler.get(String(offset))).toBe(span.spanContext().spanId);
    }
    // The slow record's span lasts as long as the record ran, and ends after the records the
    // other workers finished meanwhile: not when the batch was handed over.
    const slow = process.get('0')!;
    expect(ms(slow)).toBeGreaterThanOrEqual(590);
    expect(endMs(slow)).toBeGreaterThan(endMs(process.get('1')!));
    expect(endMs(slow)).toBeGreaterThan(endMs(process.get('3')!));
    expect(ms(process.get('1')!)).toBeLessThan(ms(slow));
    // The failing record: one retry, the last attempt, the dead letter, an error status.
    const failed = process.get('2')!;
    expect(failed.events.map((e) => e.name)).toEqual(['retry', 'attempt failed', 'dead letter']);
    expect(failed.events[2].attributes).toEqual({ 'messaging.destination.name': 'traced.DLT' });
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'record 2 is bad' });
    expect(failed.attributes['error.type']).toBe('Error');
    expect(process.get('1')!.status.code).toBe(SpanStatusCode.UNSET);
    // Commits as their own spans.
    const commits = spans.filter((s) => s.name === 'commit traced-group');
    expect(commits.length).toBeGreaterThan(0);
    expect(commits[0].kind).toBe(SpanKind.CLIENT);
    expect(commits[0].attributes).toMatchObject({ 'messaging.operation.type': 'settle', 'messaging.consumer.group.name': 'traced-group' });
    // The handler's own span is a child of the record's span, in the producer's trace.
    const work = spans.find((s) => s.name === 'slow work')!;
    expect(work.parentSpanContext?.spanId).toBe(slow.spanContext().spanId);
    expect(work.spanContext().traceId).toBe(produced[0].producer.traceId);
    // Within a millisecond: the SDK times a span with a remote parent and its children on anchored clocks that can differ by a few µs.
    expect(endMs(work)).toBeLessThanOrEqual(endMs(slow) + 1);
    const outline = [...process.values()].map((s) => `process traced offset ${s.attributes['messaging.kafka.offset']}: parent ${s.parentSpanContext?.spanId} (producer), ${ms(s).toFixed(1)} ms`);
    const commit = commits[0];
    const tree = [
      `trace ${slow.spanContext().traceId}`,
      `send traced                 PRODUCER  span ${produced[0].producer.spanId} (the producing test)`,
      `└─ process traced           CONSUMER  span ${slow.spanContext().spanId}  ${ms(slow).toFixed(1)} ms  partition 0, offset 0, key a`,
      `   └─ slow work             INTERNAL  span ${work.spanContext().spanId}  ${ms(work).toFixed(1)} ms  (started by the handler)`,
      `trace ${commit.spanContext().traceId}`,
      `commit traced-group         CLIENT    span ${commit.spanContext().spanId}  ${ms(commit).toFixed(1)} ms  ${commit.attributes['messaging.batch.message_count']} partition(s)`,
    ];
    console.log(`trace of the records:\n${outline.join('\n')}\none record:\n${tree.join('\n')}`);
  });

  it('a batch handler gets one span with a link to each record\'s producer span', async () => {
    kit = await KafkaTestKit.start({ topics: { 'traced-batch': 1 } });
    const produced = [0, 1, 2].map((n) => producedInSpan('traced-batch', { n }));
    const batches: number[] = [];
    @Injectable()
    class Batch {
      @KafkaBatchHandler('traced-batch', { groupId: 'traced-batch' })
      handle(records: KafkaRecord[]) {
        batches.push(records.length);
      }
    }
    await kit.produce('traced-batch', produced.map((p) => p.message));
    await kit.startApp({}, [Batch]);
    await waitFor(() => batches.reduce((a, b) => a + b, 0) === 3, 30_000, 'the three records');
    await waitFor(() => exporter.getFinishedSpans().filter((s) => s.name === 'process traced-batch').length === batches.length, 10_000, 'a span per batch');
    const spans = exporter.getFinishedSpans().filter((s) => s.name === 'process traced-batch');
    const links = spans.flatMap((s) => s.links.map((l) => l.context.spanId));
    expect(links).toEqual(produced.map((p) => p.producer.spanId));
    expect(spans.map((s) => s.attributes['messaging.batch.message_count'])).toEqual(batches);
    // A batch span starts a trace of its own; the records' producers are links, not parents.
    expect(spans.every((s) => s.parentSpanContext === undefined)).toBe(true);
  });
});
