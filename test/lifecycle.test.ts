import { Injectable } from '@nestjs/common';
import { join } from 'path';
import type { TestingModule } from '@nestjs/testing';
import { KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, sleep, waitFor } from './support/kafka-test-kit';
import { itOnKafka, itOnKafkaAndEngine } from './support/on-kafka';

/* eslint-disable @typescript-eslint/no-require-imports */
const Cluster = require('kafkajs/src/cluster') as { prototype: { disconnect(): Promise<void> } };

/** Uncaught exceptions while `run` runs; jest's own handler is set aside meanwhile and put back after. */
async function collectingUncaught(run: (uncaught: unknown[]) => Promise<void>): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const listener = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', listener);
  try {
    await run(uncaught);
  } finally {
    process.removeListener('uncaughtException', listener);
    for (const l of previous) process.on('uncaughtException', l);
  }
  return uncaught;
}

function recorder(topic: string, groupId: string, options: Record<string, unknown> = {}, gate?: () => Promise<void>) {
  const handled: string[] = [];
  @Injectable()
  class Recorder {
    @KafkaHandler(topic, { groupId, ...options })
    async handle(_value: unknown, ctx: KafkaMessageContext): Promise<void> {
      if (gate) await gate();
      handled.push(`${ctx.partition}:${ctx.offset}`);
    }
  }
  return { handled, provider: Recorder };
}

describe('lifecycle edges (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  itOnKafka('DescribeGroups (state and members), which the mock does not serve')('a start that fails half-way (one group fails while another joins) leaves nothing running after app.close()', async () => {
    kit = await KafkaTestKit.start({ topics: { life: 2, other: 1 } });
    await kit.produce('life', numbered(10));
    const good = recorder('life', 'life-good');
    @Injectable()
    class Bad {
      @KafkaHandler('other', { groupId: 'life-bad', threads: { filename: join(__dirname, '../libs/kafka-consumer/src/dispatch/__fixtures__/throws-on-load.js') } })
      handle() {}
    }
    const app = await kit.buildApp({}, [good.provider, Bad]);
    await expect(app.init()).rejects.toThrow(/Bad.handle|throws-on-load/);
    // Nest's close() after a failed init rethrows that failure and runs no shutdown hook: the
    // module must already have stopped whatever it started.
    await expect(app.close()).rejects.toThrow(/Bad.handle|throws-on-load/);

    // Anything left running would join the group and read what is produced now.
    await kit.produce('life', numbered(10, 'k', 10));
    const counts: number[] = [];
    for (let i = 0; i < 8; i++) {
      counts.push((await kit.describeGroup('life-good')).members);
      await sleep(1_000);
    }
    const handledAfterClose = good.handled.length;
    expect(counts).toEqual(counts.map(() => 0));
    await sleep(1_000);
    expect(good.handled.length).toBe(handledAfterClose);
    expect(Object.values(await kit.committed('life-good', 'life')).every((o) => o <= 10)).toBe(true);
  });

  itOnKafkaAndEngine('a broker process stopped and started again', 'kafkajs', 'kafkajs crashes and restarts its consumer when its broker dies; librdkafka reconnects without a crash')('a consumer crash while a partition is paused for backpressure never ends the process; the group recovers', async () => {
    kit = await KafkaTestKit.start({ topics: { squeeze: 1 } });
    await kit.produce('squeeze', numbered(200, 'same-key').map((m) => ({ ...m, key: 'one' })));
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const { handled, provider } = recorder('squeeze', 'squeeze', { concurrency: 4, maxQueuedRecords: 16, ordering: 'key' }, () => opened);
    const disconnect = Cluster.prototype.disconnect;
    // A crash tears kafkajs's consumer down (consumerGroup = null) before the module hears of it; a
    // slow disconnect (a broker that is gone) holds that window open while the pool drains.
    Cluster.prototype.disconnect = async function (this: unknown) {
      if (new Error().stack?.includes('kafkajs/src/consumer/')) {
        open();
        await sleep(1_500);
      }
      return disconnect.call(this);
    };
    let app: TestingModule | undefined;
    try {
      const uncaught = await collectingUncaught(async () => {
        app = await kit.startApp({}, [provider]);
        const service = app.get(KafkaConsumerService);
        await waitFor(() => service.metrics('squeeze').some((m) => m.pausedForBackpressure), 30_000, 'the partition to be paused for backpressure');
        await kit.kafkaBroker.kill(1, 'SIGKILL');
        await waitFor(() => service.status('squeeze').state === 'restarting', 60_000, 'the consumer to crash and restart');
        await sleep(2_000);
        await kit.kafkaBroker.restart(1);
        await waitFor(() => new Set(handled).size === 200, 90_000, 'every record after the broker came back');
      });
      expect(uncaught).toEqual([]);
      await waitFor(async () => (await kit.committed('squeeze', 'squeeze'))[0] === 200, 30_000, 'commits at the end offset');
    } finally {
      Cluster.prototype.disconnect = disconnect;
    }
  });

  itOnKafkaAndEngine('a broker process stopped and started again', 'kafkajs', 'kafkajs crashes and restarts its consumer when its broker dies; librdkafka reconnects without a crash')('app.close() while kafkajs restarts a crashed consumer leaves no consumer behind', async () => {
    kit = await KafkaTestKit.start({ topics: { restart: 2 } });
    const { handled, provider } = recorder('restart', 'restart');
    const app = await kit.startApp({}, [provider]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => service.membership('restart').assignment.length === 2, 30_000, 'the assignment');
    await kit.kafkaBroker.kill(1, 'SIGKILL');
    await waitFor(() => service.status('restart').state === 'restarting', 60_000, 'the consumer to crash and restart');
    // Past kafkajs's restart delay: its restarted consumer is connecting (to a broker that is down).
    await sleep(2_500);
    await app.close();
    await kit.kafkaBroker.restart(1);
    await kit.produce('restart', numbered(20));
    const counts: number[] = [];
    for (let i = 0; i < 10; i++) {
      counts.push((await kit.describeGroup('restart')).members);
      await sleep(1_000);
    }
    expect(counts).toEqual(counts.map(() => 0));
    expect(handled).toEqual([]);
  });
});
