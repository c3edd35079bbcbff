import type { ConsumerGroupStatus, KafkaConsumerService } from '@app/kafka-consumer';
import type { OrdersAppConfig } from '../config/app-config';
import { ConsumerStats } from '../consumer/consumer-stats';
import type { OrdersStore } from '../database/orders-store';
import { HealthServer } from './health.server';

const config = { healthPort: 0, ordersTopic: 'orders', kafka: { groupId: 'orders-app' } } as OrdersAppConfig;

function healthWith(status: Omit<ConsumerGroupStatus, 'groupId'>, ping: () => Promise<void> = async () => undefined): HealthServer {
  const consumers = {
    status: (groupId: string) => ({ groupId, ...status }),
    assignments: () => ({ 'orders-app': ['orders 0'] }),
    metrics: (groupId: string) => (groupId === 'orders-app' ? [{ topic: 'orders', partition: 0, queued: 2, running: 1, pausedForBackpressure: false, lag: 3 }] : []),
  } as unknown as KafkaConsumerService;
  return new HealthServer(config, { ping } as OrdersStore, consumers, new ConsumerStats());
}

describe('HealthServer.report', () => {
  it('is ok while the group runs or kafkajs restarts it, and the database answers', async () => {
    expect(await healthWith({ state: 'running' }).report()).toMatchObject({
      status: 'ok',
      consumer: 'running',
      assignment: ['orders 0'],
      partitions: [{ topic: 'orders', partition: 0, queued: 2, running: 1, pausedForBackpressure: false, lag: 3 }],
    });
    expect(await healthWith({ state: 'restarting', error: 'broker gone' }).report()).toMatchObject({ status: 'ok', consumer: 'restarting' });
    expect(await healthWith({ state: 'degraded', error: 'dead-letter topic orders.DLT cannot be written' }).report()).toMatchObject({
      status: 'ok',
      consumer: 'degraded',
      warning: 'dead-letter topic orders.DLT cannot be written',
    });
  });

  it('is an error, naming the cause, when the group failed for good or stopped', async () => {
    expect(await healthWith({ state: 'failed', error: 'fenced' }).report()).toMatchObject({ status: 'error', consumer: 'failed', error: 'consumer: failed (fenced)' });
    expect(await healthWith({ state: 'stopped' }).report()).toMatchObject({ status: 'error', error: 'consumer: stopped' });
  });

  it('is an error when the database does not answer', async () => {
    const report = await healthWith({ state: 'running' }, async () => Promise.reject(new Error('connection refused'))).report();
    expect(report).toMatchObject({ status: 'error', error: 'database: connection refused' });
  });
});
