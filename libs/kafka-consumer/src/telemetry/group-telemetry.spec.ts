import { Registry } from 'prom-client';
import { HandlerTimeoutError } from '../errors/handler-signals.error';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { RecordProcessing } from '../dispatch/record-processor';
import { GroupTelemetry } from './group-telemetry';
import { PrometheusExposition } from './prometheus-metrics';

const processor: RecordProcessing = { processRecord: () => 'done', processBatch: async () => 'done' };

describe('GroupTelemetry', () => {
  it('is absent when nothing observes: no OpenTelemetry provider registered and Prometheus off', () => {
    expect(GroupTelemetry.forGroup('g', undefined)).toBeUndefined();
  });

  it('counts retries, handler timeouts, dead letters, commits, rebalances and lost partitions in Prometheus', async () => {
    const registry = new Registry();
    const telemetry = GroupTelemetry.forGroup('g', PrometheusExposition.forRegistry(registry))!;
    // Without an OpenTelemetry SDK the processor is not wrapped: no cost per record.
    expect(telemetry.wrap(processor)).toBe(processor);
    telemetry.events.attemptFailed('t', 0, new HandlerTimeoutError(10), 1, false);
    telemetry.events.attemptFailed('t', 0, new Error('x'), 2, true);
    telemetry.events.gaveUp('t', 0, '5', new Error('x'), 't.DLT');
    telemetry.events.gaveUp('t', 0, '6', new Error('x'), undefined);
    await telemetry.commit([], async () => undefined);
    await expect(telemetry.commit([], async () => Promise.reject(new Error('rebalancing')))).rejects.toThrow('rebalancing');
    telemetry.rebalanced();
    telemetry.partitionsLost(3);
    const text = await registry.metrics();
    expect(text).toContain('kafka_consumer_retries_total{consumergroup="g",topic="t"} 1');
    expect(text).toContain('kafka_consumer_handler_timeouts_total{consumergroup="g",topic="t"} 1');
    expect(text).toContain('kafka_consumer_dead_letters_total{consumergroup="g",topic="t"} 1');
    expect(text).toContain('kafka_consumer_commit_duration_seconds_count{consumergroup="g"} 2');
    expect(text).toContain('kafka_consumer_commit_failures_total{consumergroup="g"} 1');
    expect(text).toContain('kafka_consumer_rebalances_total{consumergroup="g"} 1');
    expect(text).toContain('kafka_consumer_partitions_lost_total{consumergroup="g"} 3');
  });

  it('reports the partitions of running applications at scrape time, and forgets a stopped one', async () => {
    const registry = new Registry();
    const exposition = PrometheusExposition.forRegistry(registry);
    expect(PrometheusExposition.forRegistry(registry)).toBe(exposition);
    const partition = { topic: 't', partition: 1, handler: 'h', queued: 2, running: 1, completed: 7, pausedForBackpressure: false, committedOffset: '7', lag: 3, finishedAhead: 4, skippedOnAssignment: 0 };
    const stop = exposition.addSource(() => [{ groupId: 'g', partitions: [partition] }]);
    let text = await registry.metrics();
    expect(text).toContain('kafka_consumergroup_lag{consumergroup="g",topic="t",partition="1"} 3');
    expect(text).toContain('kafka_consumergroup_current_offset{consumergroup="g",topic="t",partition="1"} 7');
    expect(text).toContain('kafka_consumer_queued_records{consumergroup="g",topic="t",partition="1"} 2');
    expect(text).toContain('kafka_consumer_running_records{consumergroup="g",topic="t",partition="1"} 1');
    stop();
    text = await registry.metrics();
    expect(text).not.toContain('kafka_consumergroup_lag{');
  });

  it('fails at startup, naming the package, when prometheus is on and prom-client is not installed', () => {
    jest.isolateModules(() => {
      jest.doMock('prom-client', () => {
        throw new Error("Cannot find module 'prom-client'");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('./prometheus-metrics') as typeof import('./prometheus-metrics');
      let error: unknown;
      try {
        isolated.PrometheusExposition.forRegistry(undefined);
      } catch (e) {
        error = e;
      }
      expect((error as Error)?.name).toBe(KafkaConsumerConfigError.name);
      expect((error as Error).message).toMatch(/prometheus.*npm install prom-client/);
    });
  });
});
