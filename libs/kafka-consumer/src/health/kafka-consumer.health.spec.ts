import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import type { ConsumerGroupStatus } from '../interfaces/rebalance.interface';
import { KafkaConsumerService } from '../runner/kafka-consumer.service';
import { groupHealth } from './group-health';
import { KafkaConsumerHealthIndicator } from './kafka-consumer.health';

const partition = (lag: number | undefined): PartitionMetrics => ({ topic: 't', partition: 0, handler: 'H.h', queued: 0, running: 0, completed: 0, pausedForBackpressure: false, finishedAhead: 0, skippedOnAssignment: 0, lag });

describe('groupHealth', () => {
  it('is down when the consumer failed or stopped, or its lag is over maxLag; degraded and restarting are up', () => {
    expect(groupHealth({ groupId: 'g', state: 'running' }, [partition(5), partition(undefined)], 10)).toEqual({ status: 'up', state: 'running', lag: 5, partitions: 2 });
    expect(groupHealth({ groupId: 'g', state: 'running' }, [partition(7), partition(6)], 10)).toMatchObject({ status: 'down', lag: 13, reason: 'lag 13 is over maxLag 10' });
    expect(groupHealth({ groupId: 'g', state: 'failed', error: 'fenced' }, [], undefined)).toMatchObject({ status: 'down', reason: 'consumer failed: fenced' });
    expect(groupHealth({ groupId: 'g', state: 'degraded', error: 'orders.DLT cannot be written' }, [], undefined)).toMatchObject({ status: 'up', reason: 'orders.DLT cannot be written' });
    expect(groupHealth({ groupId: 'g', state: 'restarting' }, [partition(1_000_000)], undefined).status).toBe('up');
  });
});

describe('KafkaConsumerHealthIndicator with @nestjs/terminus', () => {
  async function check(states: Record<string, ConsumerGroupStatus['state']>, lag: number, maxLag?: number) {
    const consumers = {
      groupIds: () => Object.keys(states),
      status: (groupId: string): ConsumerGroupStatus => ({ groupId, state: states[groupId] }),
      metrics: () => [partition(lag)],
    };
    const app = await Test.createTestingModule({
      imports: [TerminusModule],
      providers: [KafkaConsumerHealthIndicator, { provide: KafkaConsumerService, useValue: consumers }],
    }).compile();
    const indicator = app.get(KafkaConsumerHealthIndicator);
    return app.get(HealthCheckService).check([() => indicator.isHealthy('kafka', { maxLag })]);
  }

  it('reports every group, and terminus answers ok while all are up', async () => {
    const result = await check({ billing: 'running', audit: 'degraded' }, 3, 100);
    expect(result.status).toBe('ok');
    expect(result.details.kafka).toEqual({
      status: 'up',
      groups: { billing: { status: 'up', state: 'running', lag: 3, partitions: 1 }, audit: { status: 'up', state: 'degraded', lag: 3, partitions: 1 } },
    });
  });

  it('a failed group or lag over maxLag makes terminus answer 503 with the reason', async () => {
    const failed = await check({ billing: 'failed' }, 0).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ServiceUnavailableException);
    expect((failed as ServiceUnavailableException).getResponse()).toMatchObject({ status: 'error', error: { kafka: { status: 'down', groups: { billing: { reason: 'consumer failed' } } } } });
    const lagging = await check({ billing: 'running' }, 500, 100).catch((error: unknown) => error);
    expect((lagging as ServiceUnavailableException).getResponse()).toMatchObject({ error: { kafka: { groups: { billing: { status: 'down', reason: 'lag 500 is over maxLag 100' } } } } });
  });
});
