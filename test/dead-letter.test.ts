import { Injectable } from '@nestjs/common';
import {
  DEAD_LETTER_HEADERS,
  KafkaConsumerFailure,
  KafkaConsumerService,
  KafkaHandler,
  KafkaMessageContext,
  NonRetriableError,
  OnKafkaError,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';
import { itOnKafka } from './support/on-kafka';

describe('a dead-letter topic that cannot be written (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  itOnKafka('auto.create.topics.enable=false; the mock creates every topic')('holds the partition, says degraded, reports once per outage, counts it, and resumes by itself once the topic exists', async () => {
    // No auto-creation: the dead-letter topic stays missing until the test creates it.
    kit = await KafkaTestKit.start({ topics: { ship: 1 }, kafka: { properties: { 'auto.create.topics.enable': false } } });
    const handled: number[] = [];
    const failures: KafkaConsumerFailure[] = [];
    const dead: string[] = [];
    @Injectable()
    class Shipping {
      @KafkaHandler('ship', { groupId: 'ship', retry: { attempts: 2, initialDelayMs: 20 } })
      handle(value: { n: number }) {
        if (value.n === 1) throw new NonRetriableError('address does not exist');
        handled.push(value.n);
      }
      @KafkaHandler('ship.DLT', { groupId: 'ship-dlt', deserializer: 'buffer' })
      onDead(_value: Buffer | null, ctx: KafkaMessageContext) {
        dead.push(ctx.headers[DEAD_LETTER_HEADERS.offset]?.toString() ?? '');
      }
      @OnKafkaError({ groupId: 'ship' })
      onError(failure: KafkaConsumerFailure) {
        failures.push(failure);
      }
    }
    await kit.produce('ship', [0, 1, 2, 3, 4].map((n) => ({ value: JSON.stringify({ n }) })));
    const app = await kit.startApp({}, [Shipping]);
    const service = app.get(KafkaConsumerService);

    await waitFor(() => service.status('ship').state === 'degraded', 60_000, 'the group to say degraded');
    const degraded = service.status('ship');
    // Several write attempts fail meanwhile; the outage is still reported once.
    await waitFor(() => (service.status('ship').deadLetters?.failedAttempts ?? 0) >= 3, 60_000, 'three failed write attempts');
    const during = service.status('ship');
    const committedDuring = (await kit.committed('ship', 'ship'))[0];

    expect(degraded.error).toMatch(/ship\.DLT/);
    expect(handled).toEqual([0]); // the partition waits: nothing after the record is lost or skipped
    expect(committedDuring).toBeLessThanOrEqual(1);
    expect(during.deadLetters).toMatchObject({ published: 0, outages: 1, waiting: 1 });
    expect(failures.map((f) => f.kind)).toEqual(['handler', 'dead-letter']);
    expect(failures[1]).toMatchObject({ topic: 'ship', partition: 0, offset: '1', deadLetterTopic: 'ship.DLT' });

    await kit.createTopic('ship.DLT', 1);
    await waitFor(() => handled.length === 4 && dead.length === 1, 60_000, 'the rest of the partition and the dead letter');
    await waitFor(async () => (await kit.committed('ship', 'ship'))[0] === 5, 10_000, 'the commit past the dead-lettered record');
    await sleep(500);

    expect(service.status('ship')).toMatchObject({ state: 'running', deadLetters: { published: 1, outages: 1, waiting: 0 } });
    expect(service.status('ship').deadLetters!.failedAttempts).toBeGreaterThanOrEqual(3);
    expect(handled).toEqual([0, 2, 3, 4]);
    expect(dead).toEqual(['1']);
    expect(failures.filter((f) => f.kind === 'dead-letter')).toHaveLength(1);
  });
});
