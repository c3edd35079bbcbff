import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { AssignmentStrategy, KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, waitFor } from './support/kafka-test-kit';
import { describeOnKafka, itOnEngine } from './support/on-kafka';

const JAVA_ASSIGNORS: Partial<Record<AssignmentStrategy, string>> = {
  range: 'org.apache.kafka.clients.consumer.RangeAssignor',
  roundrobin: 'org.apache.kafka.clients.consumer.RoundRobinAssignor',
};

/**
 * A group of one module member and one Java consumer (Kafka's own VerifiableConsumer): with
 * `range` and `roundrobin` they speak Java's protocol names and the standard ConsumerProtocol
 * encoding, split the topic, and read every record once between them.
 */
describeOnKafka('Java consumers in the same group')('groups shared with Java consumers (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  for (const strategy of ['range', 'roundrobin'] as const) {
    it(`${strategy}: a module member and a Java member split the topic; every record is read once`, async () => {
      kit = await KafkaTestKit.start({ topics: { shared: 4 } });
      const groupId = `shared-${strategy}`;
      const handled: string[] = [];
      const owned = new Set<number>();
      @Injectable()
      class Member {
        @KafkaHandler('shared', { groupId, deserializer: 'string' })
        handle(_value: string, ctx: KafkaMessageContext) {
          handled.push(`${ctx.partition}/${ctx.offset}`);
        }
      }
      const produce = (from: number, count: number) =>
        kit.produce('shared', Array.from({ length: count }, (_, i) => ({ partition: (from + i) % 4, value: String(from + i) })));

      await produce(0, 200);
      const app: TestingModule = await kit.startApp({ assignmentStrategy: strategy }, [Member]);
      await waitFor(() => handled.length === 200, 30_000, 'the module member alone reads the first 200');

      const java = kit.kafkaBroker.tools.verifiableConsumer('shared', groupId, { assignmentStrategy: JAVA_ASSIGNORS[strategy]! });
      try {
        await waitFor(() => java.assignment().length === 2, 60_000, 'the Java member assigned two partitions');
        const service = app.get(KafkaConsumerService);
        await waitFor(() => (service.assignments()[groupId] ?? []).length === 2, 30_000, 'the module member keeping two');
        for (const entry of service.assignments()[groupId]) owned.add(Number(entry.split(' ')[1]));
        // The two members own disjoint halves of the topic.
        expect([...owned, ...java.assignment()].sort()).toEqual([0, 1, 2, 3]);

        await produce(200, 200);
        const everything = () => new Set([...handled, ...java.records]).size;
        await waitFor(() => everything() === 400, 60_000, 'all 400 records read by one member or the other');
        const javaOwned = java.assignment();
        // Records after the split went to the owner of their partition, and nothing was read twice.
        expect(java.records.every((r) => javaOwned.includes(Number(r.split('/')[0])))).toBe(true);
        expect(java.records.length).toBe(100);
        const all = [...handled, ...java.records];
        expect(all.length - new Set(all).size).toBe(0);
      } finally {
        await java.stop();
      }
    });
  }

  itOnEngine('kafkajs', "the module's own cooperative assignor; the confluent engine's is librdkafka's, the same protocol as Java's")("cooperative-sticky: the module's assignor is not Java's, so a Java cooperative-sticky member is refused, not mixed in", async () => {
    // Before: the module named its own two-round assignor 'cooperative-sticky', so a Java member
    // would have joined and the two leaders' algorithms (and user data) mixed under one name.
    kit = await KafkaTestKit.start({ topics: { mixed: 4 } });
    const handled: string[] = [];
    @Injectable()
    class Member {
      @KafkaHandler('mixed', { groupId: 'mixed', deserializer: 'string' })
      handle(_value: string, ctx: KafkaMessageContext) {
        handled.push(`${ctx.partition}/${ctx.offset}`);
      }
    }
    const app = await kit.startApp({ assignmentStrategy: 'cooperative-sticky' }, [Member]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => (service.assignments().mixed ?? []).length === 4, 30_000, 'the module member owning the topic');
    const generation = service.membership('mixed').generationId;

    const java = kit.kafkaBroker.tools.verifiableConsumer('mixed', 'mixed', { assignmentStrategy: 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor' });
    try {
      // The coordinator finds no protocol both support (INCONSISTENT_GROUP_PROTOCOL): the Java
      // consumer fails and exits; the module member keeps everything, without a rebalance.
      const exit = await Promise.race([java.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 30_000))]);
      expect(exit).not.toBe('running');
      expect(java.assignment()).toEqual([]);
      expect(java.stderr).toMatch(/InconsistentGroupProtocol|inconsistent/i);
      expect(service.assignments().mixed).toHaveLength(4);
      expect(service.membership('mixed').generationId).toBe(generation);
      await kit.produce('mixed', Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: String(i) })));
      await waitFor(() => handled.length === 40, 30_000, 'the module member reading on');
    } finally {
      await java.stop();
    }
  });
});
