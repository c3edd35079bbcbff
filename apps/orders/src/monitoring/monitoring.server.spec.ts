import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { ConsumerGroupStatus, KafkaConsumerHealthIndicator, KafkaConsumerService } from '@app/kafka-consumer';
import type { OrdersAppConfig } from '../config/app-config';
import { ConsumerStats } from '../consumer/consumer-stats';
import type { OrdersStore } from '../database/orders-store';
import { MonitoringServer } from './monitoring.server';

const config = { healthPort: 0, healthMaxLag: 0, ordersTopic: 'orders', kafka: { groupId: 'orders-app' } } as OrdersAppConfig;

/** The server with terminus and the library's indicator as the app has them; the consumer and database are stand-ins. */
async function healthWith(status: Omit<ConsumerGroupStatus, 'groupId'>, ping: () => Promise<void> = async () => undefined, overrides: Partial<OrdersAppConfig> = {}): Promise<MonitoringServer> {
  const consumers = {
    groupIds: () => ['orders-app'],
    status: (groupId: string) => ({ groupId, ...status }),
    assignments: () => ({ 'orders-app': ['orders 0'] }),
    metrics: (groupId: string) => (groupId === 'orders-app' ? [{ topic: 'orders', partition: 0, queued: 2, running: 1, pausedForBackpressure: false, lag: 3 }] : []),
  } as unknown as KafkaConsumerService;
  const app = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    providers: [KafkaConsumerHealthIndicator, { provide: KafkaConsumerService, useValue: consumers }],
  }).compile();
  return new MonitoringServer({ ...config, ...overrides }, { ping } as OrdersStore, consumers, new ConsumerStats(), app.get(HealthCheckService), app.get(KafkaConsumerHealthIndicator));
}

const reportOf = async (...args: Parameters<typeof healthWith>) => (await healthWith(...args)).report();

describe('MonitoringServer.report', () => {
  it('is ok while the group runs or kafkajs restarts it, and the database answers', async () => {
    expect(await reportOf({ state: 'running' })).toMatchObject({
      status: 'ok',
      consumer: 'running',
      assignment: ['orders 0'],
      partitions: [{ topic: 'orders', partition: 0, queued: 2, running: 1, pausedForBackpressure: false, lag: 3 }],
    });
    expect(await reportOf({ state: 'restarting', error: 'broker gone' })).toMatchObject({ status: 'ok', consumer: 'restarting' });
    expect(await reportOf({ state: 'degraded', error: 'dead-letter topic orders.DLT cannot be written' })).toMatchObject({
      status: 'ok',
      consumer: 'degraded',
      warning: 'dead-letter topic orders.DLT cannot be written',
    });
  });

  it('is an error, naming the cause, when the group failed for good or stopped', async () => {
    expect(await reportOf({ state: 'failed', error: 'fenced' })).toMatchObject({ status: 'error', consumer: 'failed', error: 'consumer: failed (fenced)' });
    expect(await reportOf({ state: 'stopped' })).toMatchObject({ status: 'error', error: 'consumer: stopped' });
  });

  it('is an error when the lag is over HEALTH_MAX_LAG, with the figures; the checks show what terminus made of it', async () => {
    const report = await reportOf({ state: 'running' }, undefined, { healthMaxLag: 2 });
    expect(report).toMatchObject({ status: 'error', error: 'kafka: lag 3 is over maxLag 2' });
    expect(report.checks).toMatchObject({ status: 'error', error: { kafka: { status: 'down', groups: { 'orders-app': { lag: 3 } } } }, info: { database: { status: 'up' } } });
    expect((await reportOf({ state: 'running' }, undefined, { healthMaxLag: 3 })).status).toBe('ok');
  });

  it('is an error when the database does not answer', async () => {
    const report = await reportOf({ state: 'running' }, async () => Promise.reject(new Error('connection refused')));
    expect(report).toMatchObject({ status: 'error', error: 'database: connection refused' });
  });
});
