import { Injectable } from '@nestjs/common';
import {
  DEAD_LETTER_HEADERS,
  KafkaConsumerFailure,
  KafkaConsumerService,
  KafkaHandler,
  KafkaMessageContext,
  OnKafkaError,
  OnPartitionsLost,
  TopicPartition,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';
import { itOnKafka } from './support/on-kafka';

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

const values = (count: number) => Array.from({ length: count }, (_, n) => ({ key: `k${n % 10}`, value: JSON.stringify({ n }) }));

describe('handlerTimeoutMs and maxPollIntervalMs with a worker pool (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('a pooled record that never returns and ignores its signal fails by timeout, is dead-lettered, and its partition and key lane move on', async () => {
    kit = await KafkaTestKit.start({ topics: { hang: 2, 'hang.DLT': 1 } });
    const handled: number[] = [];
    const aborts: string[] = [];
    const failures: KafkaConsumerFailure[] = [];
    const dead: Array<{ exception?: string; offset?: string }> = [];
    const lost: string[] = [];
    let hangingReturned = 0;
    @Injectable()
    class Hanging {
      @KafkaHandler('hang', { groupId: 'hang', concurrency: 4, ordering: 'key', handlerTimeoutMs: 400, retry: { attempts: 2, initialDelayMs: 20 } })
      async handle(value: { n: number }, ctx: KafkaMessageContext): Promise<void> {
        if (value.n === 7) {
          ctx.signal.addEventListener('abort', () => aborts.push((ctx.signal.reason as Error).name));
          await new Promise(() => undefined); // never settles, whatever the signal says
          hangingReturned += 1;
        }
        await sleep(5);
        handled.push(value.n);
      }
      @KafkaHandler('hang.DLT', { groupId: 'hang-dlt', deserializer: 'buffer' })
      onDead(_value: Buffer | null, ctx: KafkaMessageContext) {
        dead.push({ exception: ctx.headers[DEAD_LETTER_HEADERS.exception]?.toString(), offset: ctx.headers[DEAD_LETTER_HEADERS.offset]?.toString() });
      }
      @OnKafkaError({ groupId: 'hang' })
      onError(failure: KafkaConsumerFailure) {
        failures.push(failure);
      }
      @OnPartitionsLost()
      onLost(partitions: TopicPartition[]) {
        lost.push(...partitions.map((p) => `${p.topic}[${p.partition}]`));
      }
    }
    await kit.produce('hang', values(60));
    // maxPollIntervalMs far below how long the ignored call lives on: only the attempt counts.
    const app = await kit.startApp({ maxPollIntervalMs: 3_000 }, [Hanging]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => handled.length === 59 && dead.length === 1, 30_000, 'the 59 other records and the dead letter');
    const ends = await kit.endOffsets('hang');
    await waitFor(async () => JSON.stringify(await kit.committed('hang', 'hang')) === JSON.stringify(ends), 10_000, 'commits at the end offsets');
    const generation = service.membership('hang').generationId;
    await sleep(4_000); // past maxPollIntervalMs while the ignored calls still hang

    expect(aborts).toEqual(['HandlerTimeoutError', 'HandlerTimeoutError']);
    expect(hangingReturned).toBe(0);
    expect(dead[0].exception).toBe('HandlerTimeoutError');
    expect(failures.map((f) => [f.kind, f.attempts, (f.error as Error).name])).toEqual([['handler', 2, 'HandlerTimeoutError']]);
    // Same key as the hung record, later offsets: the lane went on without it.
    expect(handled.filter((n) => n % 10 === 7).sort((a, b) => a - b)).toEqual([17, 27, 37, 47, 57]);
    expect(lost).toEqual([]);
    expect(service.membership('hang').generationId).toBe(generation);
  });

  it('a sequential handler that honours ctx.signal stops at the timeout and succeeds on its retry', async () => {
    kit = await KafkaTestKit.start({ topics: { honour: 1 } });
    const attempts: number[] = [];
    const handled: number[] = [];
    const failures: KafkaConsumerFailure[] = [];
    const firstAttempt: string[] = [];
    @Injectable()
    class Honouring {
      @KafkaHandler('honour', { groupId: 'honour', handlerTimeoutMs: 300, retry: { attempts: 3, initialDelayMs: 20 } })
      async handle(value: { n: number }, ctx: KafkaMessageContext): Promise<void> {
        attempts.push(value.n);
        if (value.n === 2 && attempts.filter((n) => n === 2).length === 1) {
          await sleepUnless(10_000, ctx.signal).catch((reason: Error) => {
            firstAttempt.push(`stopped by ${reason.name}`);
            throw reason;
          });
        }
        handled.push(value.n);
      }
      @OnKafkaError({ groupId: 'honour' })
      onError(failure: KafkaConsumerFailure) {
        failures.push(failure);
      }
    }
    await kit.produce('honour', values(5));
    await kit.startApp({}, [Honouring]);
    await waitFor(() => handled.length === 5, 30_000, 'every record');
    await waitFor(async () => (await kit.committed('honour', 'honour'))[0] === 5, 10_000, 'the commit');

    expect(firstAttempt).toEqual(['stopped by HandlerTimeoutError']);
    expect(attempts).toEqual([0, 1, 2, 2, 3, 4]);
    expect(handled).toEqual([0, 1, 2, 3, 4]);
    expect(failures).toEqual([]);
  });

  itOnKafka('DescribeGroups (state and members), which the mock does not serve')('with a pool and no handlerTimeoutMs, one record past maxPollIntervalMs makes the member leave while the other workers finish; it rejoins after', async () => {
    kit = await KafkaTestKit.start({ topics: { long: 1 } });
    const handled = new Set<number>();
    const lost: string[] = [];
    let slowEnded = false;
    @Injectable()
    class Long {
      @KafkaHandler('long', { groupId: 'long', concurrency: 4, ordering: 'key' })
      async handle(value: { n: number }): Promise<void> {
        if (value.n === 3 && !handled.has(3)) {
          await sleep(12_000);
          slowEnded = true;
        } else {
          await sleep(20);
        }
        handled.add(value.n);
      }
      @OnPartitionsLost()
      onLost(partitions: TopicPartition[]) {
        lost.push(...partitions.map((p) => `${p.topic}[${p.partition}]`));
      }
    }
    await kit.produce('long', values(40));
    await kit.startApp({ maxPollIntervalMs: 4_000, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 40_000 }, [Long]);
    let emptyWhileRunning = false;
    let othersDoneBeforeLeave = 0;
    while (!slowEnded && !emptyWhileRunning) {
      const group = await kit.describeGroup('long');
      if (group.state !== 'Empty' || group.members > 0) othersDoneBeforeLeave = handled.size;
      if (group.members === 0 && group.state === 'Empty' && !slowEnded && othersDoneBeforeLeave > 0) emptyWhileRunning = true;
      await sleep(200);
    }
    await waitFor(() => slowEnded, 20_000, 'the long record to end');
    await waitFor(async () => (await kit.committed('long', 'long'))[0] === 40, 60_000, 'commits at the end offset after the rejoin');

    expect(emptyWhileRunning).toBe(true);
    expect(othersDoneBeforeLeave).toBe(36); // every record outside its key lane (k3: 3, 13, 23, 33) finished meanwhile
    expect(lost).toEqual(['long[0]']);
    expect(handled.size).toBe(40);
  });
});
