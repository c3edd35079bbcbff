import { Injectable } from '@nestjs/common';
import { KafkaConsumerModuleOptions, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, waitFor } from './support/kafka-test-kit';
import { describeOnKafkaAndEngine } from './support/on-kafka';

/* eslint-disable @typescript-eslint/no-require-imports */
const Broker = require('kafkajs/src/broker') as { prototype: { fetch(args: FetchArgs): Promise<FetchResponse> } };

interface FetchArgs {
  maxBytes: number;
}
interface FetchResponse {
  responses: Array<{ partitions: Array<{ messages: Array<{ value: Buffer | null }> }> }>;
}
/** One Fetch request the consumer sent: the bytes it asked for and the record bytes it got. */
interface SeenFetch {
  maxBytes: number;
  recordBytes: number;
}

const PARTITIONS = 12;
const PER_PARTITION = 150;
const VALUE_BYTES = 2_000;
const KiB = 1024;

/** Records every Fetch request sent through kafkajs's Broker while `run` runs. */
async function watchingFetches<T>(run: (seen: SeenFetch[]) => Promise<T>): Promise<T> {
  const original = Broker.prototype.fetch;
  const seen: SeenFetch[] = [];
  Broker.prototype.fetch = async function (this: unknown, args: FetchArgs) {
    const response = await original.call(this, args);
    let recordBytes = 0;
    for (const topic of response.responses) for (const partition of topic.partitions) for (const message of partition.messages) recordBytes += message.value?.length ?? 0;
    seen.push({ maxBytes: args.maxBytes, recordBytes });
    return response;
  };
  try {
    return await run(seen);
  } finally {
    Broker.prototype.fetch = original;
  }
}

function recorder(groupId: string) {
  const offsets: string[] = [];
  @Injectable()
  class Recorder {
    @KafkaHandler('backlog', { groupId, deserializer: 'buffer' })
    handle(_value: Buffer, ctx: KafkaMessageContext) {
      offsets.push(`${ctx.partition} ${ctx.offset}`);
    }
  }
  return { offsets, provider: Recorder };
}

describeOnKafkaAndEngine('three Kafka nodes with placed leaders', 'kafkajs', "it sizes kafkajs's Fetch requests and reads them inside its Broker")('fetch budget (three-node Kafka)', () => {
  let kit: KafkaTestKit;
  const value = Buffer.alloc(VALUE_BYTES, 7);

  beforeEach(async () => {
    // Three brokers, each leading a third of the partitions: the split under test depends on how many lead.
    kit = await KafkaTestKit.start({ kafka: { nodes: 3 } });
    const replicaAssignment = Array.from({ length: PARTITIONS }, (_, partition) => {
      const leader = (partition % 3) + 1;
      return { partition, replicas: [leader, (leader % 3) + 1, ((leader + 1) % 3) + 1] };
    });
    await kit.kafkaBroker.createTopic('backlog', PARTITIONS, { replicaAssignment });
    const messages = Array.from({ length: PER_PARTITION }, () => Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value }))).flat();
    await kit.produce('backlog', messages);
  });

  afterEach(async () => {
    await kit?.close();
  });

  async function drain(groupId: string, options: Partial<KafkaConsumerModuleOptions>): Promise<SeenFetch[]> {
    return watchingFetches(async (seen) => {
      const { offsets, provider } = recorder(groupId);
      await kit.startApp(options, [provider]);
      await waitFor(() => offsets.length >= PARTITIONS * PER_PARTITION, 30_000, 'the backlog drained');
      expect(new Set(offsets).size).toBe(PARTITIONS * PER_PARTITION);
      const ends = await kit.endOffsets('backlog');
      await waitFor(async () => {
        const committed = await kit.committed(groupId, 'backlog');
        return Object.keys(ends).every((p) => committed[Number(p)] === ends[Number(p)]);
      }, 10_000, 'every partition committed to its end');
      return seen.filter((fetch) => fetch.recordBytes > 0);
    });
  }

  it('splits maxBufferedBytes over the three leaders: no response carries much more than its share', async () => {
    const budget = 3 * 96 * KiB;
    const fetches = await drain('bounded', { maxBufferedBytes: budget });
    expect(fetches.length).toBeGreaterThan(0);
    for (const fetch of fetches) expect(fetch.maxBytes).toBe(96 * KiB);
    // A response may go over by one record batch (KIP-74); the producer's batches here are below 100 KiB.
    const largest = Math.max(...fetches.map((f) => f.recordBytes));
    expect(largest).toBeLessThanOrEqual(96 * KiB + 100 * KiB);
  });

  it('with the budget off, each request asks for fetchMaxBytes and responses carry several partitions at once', async () => {
    const fetches = await drain('unbounded', { maxBufferedBytes: 0, fetchMaxBytes: 8 * 1024 * KiB });
    for (const fetch of fetches) expect(fetch.maxBytes).toBe(8 * 1024 * KiB);
    expect(Math.max(...fetches.map((f) => f.recordBytes))).toBeGreaterThan(96 * KiB + 100 * KiB);
  });
});
