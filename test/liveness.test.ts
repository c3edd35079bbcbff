import { Injectable } from '@nestjs/common';
import type { Message } from 'kafkajs';
import {
  KafkaConsumerService,
  KafkaHandler,
  KafkaMessageContext,
  OnPartitionsLost,
  OnPartitionsRevoked,
  TopicPartition,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, sleep, waitFor } from './support/kafka-test-kit';
import { itOnKafkaAndEngine } from './support/on-kafka';

/** `count` records for one partition, each `{ n, stall? }`. */
function records(partition: number, count: number, stall?: number): Message[] {
  return Array.from({ length: count }, (_, n) => ({ partition, value: JSON.stringify({ n, stall: n === 0 ? stall : undefined }) }));
}

/** A handler that sleeps `stall` ms on records asking for it (once per record), 20 ms on the rest. */
function stallingMember(groupId: string, topic: string) {
  const seen = { handled: [] as string[], hooks: [] as string[], stallStarted: 0, stallEnded: 0 };
  const stalled = new Set<string>();
  @Injectable()
  class Member {
    @KafkaHandler(topic, { groupId, commit: { mode: 'record' } })
    async handle(value: { n: number; stall?: number }, ctx: KafkaMessageContext): Promise<void> {
      const id = `${ctx.partition}:${ctx.offset}`;
      if (value.stall && !stalled.has(id)) {
        stalled.add(id);
        seen.stallStarted = Date.now();
        await sleep(value.stall);
        seen.stallEnded = Date.now();
      } else {
        await sleep(20);
      }
      seen.handled.push(id);
    }

    @OnPartitionsRevoked()
    revoked(partitions: TopicPartition[]) {
      seen.hooks.push(`revoked ${partitions.map((p) => p.partition).join(',')}`);
    }

    @OnPartitionsLost()
    lost(partitions: TopicPartition[]) {
      seen.hooks.push(`lost ${partitions.map((p) => p.partition).join(',')}`);
    }
  }
  return { seen, provider: Member };
}

describe('liveness with partitionsConsumedConcurrently > 1 (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('a record slower than the session timeout but within maxPollIntervalMs keeps the membership while other partitions finish', async () => {
    kit = await KafkaTestKit.start({ topics: { slow: 2 } });
    await kit.produce('slow', [...records(0, 1, 14_000), ...records(1, 40)]);
    const { seen, provider } = stallingMember('slow-group', 'slow');
    const app = await kit.startApp(
      { sessionTimeoutMs: 6_000, maxPollIntervalMs: 60_000, partitionsConsumedConcurrently: 2 },
      [provider],
    );
    const service = app.get(KafkaConsumerService);
    await waitFor(() => seen.stallStarted > 0, 30_000, 'the slow record to start');
    const generation = service.membership('slow-group').generationId;
    await waitFor(() => seen.stallEnded > 0 && seen.handled.length >= 41, 40_000, 'the slow record and the 40 others');
    await waitFor(async () => JSON.stringify(await kit.committed('slow-group', 'slow')) === JSON.stringify({ 0: 1, 1: 40 }), 10_000, 'commits at the end offsets');

    // The 40 fast records ended long before the slow one: nothing may have stopped its heartbeats.
    expect(seen.hooks).toEqual([]);
    expect(service.membership('slow-group').generationId).toBe(generation);
    expect(seen.handled.length).toBe(41);
  });

  itOnKafkaAndEngine("the coordinator's member list through Kafka's own tool", 'kafkajs', "kafkajs fetches per broker leader; the confluent engine's one fetch loop waits for every partition's batch, and its member leaves at librdkafka's max.poll.interval.ms, which it cannot set below the 30 s session")('a record past maxPollIntervalMs makes the member leave the group while it runs, though a partition led by another broker keeps running; it rejoins after', async () => {
    // Three brokers: kafkajs fetches per leader, so partition 1 is fetched and handled while 0 is stuck.
    kit = await KafkaTestKit.start({ kafka: { nodes: 3 }, topics: { stuck: 2 } });
    expect(await kit.kafkaBroker.leaderOf('stuck', 0)).not.toBe(await kit.kafkaBroker.leaderOf('stuck', 1));
    await kit.produce('stuck', [...records(0, 1, 16_000), ...records(1, 40)]);
    const { seen, provider } = stallingMember('stuck-group', 'stuck');
    // The session alone would keep the member for 30 s, longer than the record runs.
    await kit.startApp(
      { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 40_000, maxPollIntervalMs: 5_000, partitionsConsumedConcurrently: 2 },
      [provider],
    );
    await waitFor(() => seen.stallStarted > 0, 30_000, 'the stuck record to start');
    // Partition 1 keeps producing work for the member while partition 0 is stuck.
    const producing = (async () => {
      for (let i = 0; i < 10 && !seen.stallEnded; i++) {
        await kit.produce('stuck', records(1, 4));
        await sleep(500);
      }
    })();
    let emptyWhileStuck = false;
    while (!seen.stallEnded) {
      const group = await kit.describeGroup('stuck-group');
      if (group.members === 0 && !seen.stallEnded) emptyWhileStuck = true;
      if (emptyWhileStuck) break;
      await sleep(200);
    }
    await producing;
    const handledDuringStall = seen.handled.filter((id) => id.startsWith('1:') && Number(id.slice(2)) >= 40).length;
    await waitFor(() => seen.stallEnded > 0, 30_000, 'the stuck record to end');
    const ends = await kit.endOffsets('stuck');
    await waitFor(async () => JSON.stringify(await kit.committed('stuck-group', 'stuck')) === JSON.stringify(ends), 60_000, 'commits at the end offsets after the rejoin');

    expect(handledDuringStall).toBeGreaterThan(0);
    expect(emptyWhileStuck).toBe(true);
    expect(seen.hooks).toContain('lost 0,1');
    // Every record was handled; the ones finished after the member left were handled again.
    const distinct = new Set(seen.handled);
    expect(distinct.size).toBe(ends[0] + ends[1]);
  });
});
