import { Injectable } from '@nestjs/common';
import { KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, waitFor } from './support/kafka-test-kit';
import { describeOnKafka } from './support/on-kafka';

/**
 * Leader failover on a three-node cluster (replication 3, min.insync.replicas 2): the broker that
 * leads partitions and may coordinate the group is killed with SIGKILL mid-stream and restarted.
 * Every record the producer had acknowledged (acks=all) is handled, and the committed offsets
 * reach the end offsets.
 */
describeOnKafka('three Kafka nodes and kill -9 of a leader')('leader failover (three-node Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('kill -9 of a partition leader while producing and consuming loses no acknowledged record', async () => {
    kit = await KafkaTestKit.start({ kafka: { nodes: 3 }, topics: { payments: 6 } });
    const broker = kit.kafkaBroker;
    const handled = new Set<string>();
    @Injectable()
    class Payments {
      @KafkaHandler('payments', { groupId: 'payments', deserializer: 'string', concurrency: 8, ordering: 'partition' })
      async handle(value: string, _ctx: KafkaMessageContext) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        handled.add(value);
      }
    }
    const app = await kit.startApp({}, [Payments]);

    // Not idempotent: kafkajs's idempotent producer answers a leader change with OUT_OF_ORDER_SEQUENCE
    // for good. A retried send may write a record twice; the check counts distinct values.
    // Kafka's own Java producer (acks=all): what it reports sent is what Kafka owes. (kafkajs's
    // producer was seen reporting sends whose records never reached the log while leaders moved.)
    const producer = broker.tools.verifiableProducer('payments', { throughput: 400, repeatingKeys: 60 });
    const acknowledged = producer.acknowledged;
    try {
      await waitFor(() => handled.size >= 1_000, 60_000, '1,000 records handled before the failure');
      const victim = await broker.leaderOf('payments', 0);
      await broker.kill(victim, 'SIGKILL');
      const killedAt = acknowledged.size;
      await waitFor(() => acknowledged.size >= killedAt + 1_000, 60_000, '1,000 more records acknowledged by the remaining brokers');
      const newLeader = await broker.leaderOf('payments', 0);
      expect(newLeader).not.toBe(victim);
      await broker.restart(victim);
      await waitFor(() => acknowledged.size >= killedAt + 2_000, 60_000, 'records acknowledged after the restart');
    } finally {
      await producer.stop();
    }

    await waitFor(() => [...acknowledged].every((value) => handled.has(value)), 60_000, 'every acknowledged record handled').catch(async (error) => {
      const missing = [...acknowledged].filter((value) => !handled.has(value));
      const inLog = await readAll(kit, 'payments');
      throw new Error(
        `in the log: ${missing.filter((v) => inLog.has(v)).length} of the missing; ` +
        `${(error as Error).message}: ${missing.length} of ${acknowledged.size} missing (e.g. ${missing.slice(0, 5).join(', ')}); ` +
          `committed ${JSON.stringify(await kit.committed('payments', 'payments'))}, ends ${JSON.stringify(await kit.endOffsets('payments'))}, ` +
          `metrics ${JSON.stringify(app.get(KafkaConsumerService).metrics('payments'))}, status ${JSON.stringify(app.get(KafkaConsumerService).status('payments'))}`,
      );
    });
    const lost = [...acknowledged].filter((value) => !handled.has(value));
    expect(lost).toEqual([]);
    const ends = await kit.endOffsets('payments');
    await waitFor(async () => JSON.stringify(await kit.committed('payments', 'payments')) === JSON.stringify(ends), 30_000, 'committed offsets at the end offsets').catch(async (error) => {
      throw new Error(`${(error as Error).message}: committed ${JSON.stringify(await kit.committed('payments', 'payments'))}, ends ${JSON.stringify(ends)}, metrics ${JSON.stringify(app.get(KafkaConsumerService).metrics('payments'))}`);
    });
    const endTotal = Object.values(ends).reduce((a, b) => a + b, 0);
    expect(endTotal).toBeGreaterThanOrEqual(acknowledged.size);
    console.log(
      `leader failover: ${acknowledged.size} records acknowledged, ${handled.size} distinct handled, lost ${lost.length}; ` +
        `${producer.failed.length} sends reported failed during the failover`,
    );
  }, 300_000);
});

/** Every value in the topic, read by a plain kafkajs consumer from the beginning. */
async function readAll(kit: KafkaTestKit, topic: string): Promise<Set<string>> {
  const ends = await kit.endOffsets(topic);
  const total = Object.values(ends).reduce((a, b) => a + b, 0);
  const values = new Set<string>();
  let count = 0;
  const consumer = kit.kafka.consumer({ groupId: `reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { count++; values.add(message.value!.toString()); } });
  await waitFor(() => count >= total, 30_000, 'the whole topic read');
  await consumer.disconnect();
  return values;
}
