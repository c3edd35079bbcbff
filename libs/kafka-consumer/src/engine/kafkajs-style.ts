import type { RecordHeaders } from '../interfaces/message-context.interface';
import type { ClusterAdmin, RecordSender } from './kafka-client';

/**
 * Both clients offer a KafkaJS-style admin and producer (kafkajs itself, and
 * Confluent's KafkaJS layer); the module's admin calls and its dead-letter
 * sender are written once, against the part of that API they use.
 */
export interface KafkajsStyleAdmin {
  listTopics(): Promise<string[]>;
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>>;
  fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<Array<{ partition: number; offset: string }>>;
  fetchOffsets(request: { groupId: string; topics: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata?: string | null }> }>>;
}

/** One topic's metadata as both clients describe it. */
export interface KafkajsStyleTopicMetadata {
  name: string;
  partitions: Array<{ partitionId: number; leader?: number | null }>;
}

export interface KafkajsStyleProducer {
  connect(): Promise<void>;
  send(request: { topic: string; messages: Array<{ key: Buffer | null; value: Buffer | null; headers: RecordHeaders }> }): Promise<unknown>;
  disconnect(): Promise<void>;
}

/** The core's admin calls; `metadata` reads topic metadata, whose result shape differs between the two. */
export function kafkajsStyleAdmin(
  admin: KafkajsStyleAdmin,
  metadata: (topics: string[]) => Promise<KafkajsStyleTopicMetadata[]>,
  brokerConfig: (name: string) => Promise<string | undefined> = async () => undefined,
): ClusterAdmin {
  return {
    listTopics: () => admin.listTopics(),
    watermarks: async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ partition, low, high })),
    offsetsForTimes: async (topic, timestamp) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map(({ partition, offset }) => ({ partition, offset })),
    committed: async (groupId, topics) =>
      (await admin.fetchOffsets({ groupId, topics })).map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, offset, metadata }) => ({ partition, offset, metadata: metadata ?? null })),
      })),
    brokerConfig,
    partitions: async (topics) =>
      (await metadata(topics)).map((t) => ({
        topic: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader ?? -1 })),
      })),
  };
}

/**
 * Dead letters through one producer (created to wait for all in-sync
 * replicas), connected on first use and again after a failed connect.
 */
export class LazyRecordSender implements RecordSender {
  private producer: Promise<KafkajsStyleProducer> | undefined;

  constructor(private readonly create: () => KafkajsStyleProducer) {}

  async send(topic: string, record: { key: Buffer | null; value: Buffer | null; headers: RecordHeaders }): Promise<void> {
    const producer = await this.connected();
    await producer.send({ topic, messages: [record] });
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private connected(): Promise<KafkajsStyleProducer> {
    if (!this.producer) {
      const producer = this.create();
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }
}
