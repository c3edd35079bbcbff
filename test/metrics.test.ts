import { Injectable } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';
import { parsePrometheus, sampleValue as sample } from './support/prometheus-text';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('metrics', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('Prometheus: lag and committed offsets as the admin client reads them, queued and running records, commit latency, rebalances, retries, dead letters, handler timeouts', async () => {
    const PARTITIONS = 3;
    const PER_PARTITION = 30;
    const FINISHED = 20;
    kit = await KafkaTestKit.start({ topics: { metered: PARTITIONS, flaky: 1, 'flaky.DLT': 1 } });
    for (let p = 0; p < PARTITIONS; p++) {
      await kit.produce('metered', Array.from({ length: PER_PARTITION }, (_, n) => ({ partition: p, value: JSON.stringify({ n }) })));
    }
    await kit.produce('flaky', [{ value: '{"fail":true}' }, { value: '{"hang":true}' }, { value: '{}' }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));

    @Injectable()
    class Metered {
      // Records from offset 20 on wait for the gate: the group commits 20 per partition and stops there.
      @KafkaHandler('metered', { groupId: 'metered', concurrency: 4 })
      async handle(_value: unknown, ctx: KafkaMessageContext) {
        if (Number(ctx.offset) >= FINISHED) await gate;
      }

      @KafkaHandler('flaky', { groupId: 'flaky', retry: { attempts: 2, initialDelayMs: 10 }, handlerTimeoutMs: 150 })
      async flaky(value: { fail?: boolean; hang?: boolean }) {
        if (value.fail) throw new Error('bad record');
        if (value.hang) await sleep(2_000);
      }
    }
    const registry = new Registry();
    const app = await kit.startApp({ prometheus: { registry } }, [Metered]);
    const service = app.get(KafkaConsumerService);

    await waitFor(async () => Object.values(await kit.committed('metered', 'metered')).every((c) => c === FINISHED), 30_000, '20 records committed per partition');
    await waitFor(() => service.metrics('metered').every((m) => m.committedOffset === String(FINISHED)), 10_000, 'the member heard back of its commits');
    await waitFor(async () => (await kit.committed('flaky', 'flaky'))[0] === 3, 30_000, 'the flaky records committed');

    const [ends, committed] = [await kit.endOffsets('metered'), await kit.committed('metered', 'metered')];
    let samples = parsePrometheus(await registry.metrics());
    let runningNow = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const labels = { consumergroup: 'metered', topic: 'metered', partition: String(p) };
      expect({ p, lag: sample(samples, 'kafka_consumergroup_lag', labels) }).toEqual({ p, lag: ends[p] - committed[p] });
      expect({ p, offset: sample(samples, 'kafka_consumergroup_current_offset', labels) }).toEqual({ p, offset: committed[p] });
      expect(sample(samples, 'kafka_consumer_queued_records', labels)).toBeGreaterThanOrEqual(0);
      runningNow += sample(samples, 'kafka_consumer_running_records', labels)!;
    }
    expect(ends).toEqual({ 0: PER_PARTITION, 1: PER_PARTITION, 2: PER_PARTITION });
    // The gate holds records on every worker of the pool.
    expect(runningNow).toBeGreaterThanOrEqual(1);
    expect(runningNow).toBeLessThanOrEqual(4);

    const flaky = { consumergroup: 'flaky', topic: 'flaky' };
    // The failing record: 1 retry, then the dead letter; the hanging one: 2 timeouts, 1 retry, the dead letter.
    expect(sample(samples, 'kafka_consumer_retries_total', flaky)).toBe(2);
    expect(sample(samples, 'kafka_consumer_handler_timeouts_total', flaky)).toBe(2);
    expect(sample(samples, 'kafka_consumer_dead_letters_total', flaky)).toBe(2);
    expect(sample(samples, 'kafka_consumer_rebalances_total', { consumergroup: 'metered' })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, 'kafka_consumer_partitions_lost_total', { consumergroup: 'metered' })).toBe(0);
    expect(sample(samples, 'kafka_consumer_commit_duration_seconds_count', { consumergroup: 'metered' })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, 'kafka_consumer_commit_failures_total', { consumergroup: 'metered' })).toBe(0);

    release();
    await waitFor(async () => Object.values(await kit.committed('metered', 'metered')).every((c) => c === PER_PARTITION), 30_000, 'everything committed');
    await waitFor(
      async () => parsePrometheus(await registry.metrics()).filter((s) => s.name === 'kafka_consumergroup_lag' && s.labels.consumergroup === 'metered' && s.value === 0).length === PARTITIONS,
      10_000,
      'lag 0 on every partition',
    );
    samples = parsePrometheus(await registry.metrics());
    for (let p = 0; p < PARTITIONS; p++) {
      const labels = { consumergroup: 'metered', topic: 'metered', partition: String(p) };
      expect(sample(samples, 'kafka_consumergroup_current_offset', labels)).toBe(PER_PARTITION);
      expect(sample(samples, 'kafka_consumer_running_records', labels)).toBe(0);
    }

    // A stopped application's partitions leave the exposition; its counters stay.
    await app.close();
    samples = parsePrometheus(await registry.metrics());
    expect(samples.filter((s) => s.name === 'kafka_consumergroup_lag')).toEqual([]);
    expect(sample(samples, 'kafka_consumer_dead_letters_total', flaky)).toBe(2);
  });

  it('OpenTelemetry: messaging.process.duration per record until it finished (error.type when given up) and messaging.client.consumed.messages', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      kit = await KafkaTestKit.start({ topics: { measured: 2 } });
      await kit.produce('measured', [
        ...Array.from({ length: 5 }, (_, n) => ({ partition: 0, value: JSON.stringify({ n, slowMs: n === 0 ? 300 : 0 }) })),
        ...Array.from({ length: 4 }, (_, n) => ({ partition: 1, value: JSON.stringify({ n }) })),
        { partition: 1, value: '{"fail":true}' },
      ]);
      @Injectable()
      class Measured {
        @KafkaHandler('measured', { groupId: 'measured', concurrency: 4, retry: { attempts: 1 }, deadLetter: false })
        async handle(value: { slowMs?: number; fail?: boolean }) {
          if (value.slowMs) await sleep(value.slowMs);
          if (value.fail) throw new TypeError('cannot read this record');
        }
      }
      await kit.startApp({}, [Measured]);
      await waitFor(async () => Object.values(await kit.committed('measured', 'measured')).every((c) => c === 5), 30_000, 'all ten records committed');

      const { resourceMetrics } = await reader.collect();
      const points = (name: string) => collected(resourceMetrics, name);
      const durations = points('messaging.process.duration');
      const consumed = points('messaging.client.consumed.messages');
      const base = { 'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.destination.name': 'measured', 'messaging.consumer.group.name': 'measured' };
      const p0 = durations.find((d) => d.attributes['messaging.destination.partition.id'] === '0')!;
      const p1 = durations.find((d) => d.attributes['messaging.destination.partition.id'] === '1' && d.attributes['error.type'] === undefined)!;
      const failed = durations.find((d) => d.attributes['error.type'] !== undefined)!;
      expect(p0.attributes).toEqual({ ...base, 'messaging.destination.partition.id': '0' });
      expect(p0.count).toBe(5);
      // The slow record's 300 ms are in the histogram: it is timed until it finished.
      expect(p0.max).toBeGreaterThanOrEqual(0.29);
      expect(p1.count).toBe(4);
      expect(failed.attributes).toEqual({ ...base, 'messaging.destination.partition.id': '1', 'error.type': 'TypeError' });
      expect(failed.count).toBe(1);
      expect(consumed.map((c) => [c.attributes['messaging.destination.partition.id'], c.value]).sort()).toEqual([
        ['0', 5],
        ['1', 5],
      ]);
    } finally {
      await kit?.close();
      await provider.shutdown();
      metrics.disable();
    }
  });
});

interface Point {
  attributes: Record<string, unknown>;
  value?: number;
  count?: number;
  max?: number;
}

function collected(resourceMetrics: ResourceMetrics, name: string): Point[] {
  const points: Point[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          const histogram = point.value as { count: number; max?: number };
          points.push({ attributes: point.attributes, count: histogram.count, max: histogram.max });
        } else {
          points.push({ attributes: point.attributes, value: point.value as number });
        }
      }
    }
  }
  return points;
}
