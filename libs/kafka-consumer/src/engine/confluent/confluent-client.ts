import type { LoggerService } from '@nestjs/common';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { RecordHeaders } from '../../interfaces/message-context.interface';
import type { ResolvedModuleOptions } from '../../options/resolved-options';
import type { ClusterAdmin, KafkaClient, RecordSender } from '../kafka-client';
import { connectionConfig } from './confluent-config';
import { ConfluentConsumerEngine } from './confluent-engine';
import { CONFLUENT_ERRORS } from './confluent-errors';
import { loadConfluent } from './confluent-library';

/**
 * The module's client on @confluentinc/kafka-javascript, loaded only here:
 * consumers on its lower-level KafkaConsumer (the faster of its two APIs,
 * see the benchmark), admin calls and dead letters through its KafkaJS-style
 * admin and producer (acks=all), all on librdkafka.
 */
export function createConfluentClient(options: ResolvedModuleOptions, logger: LoggerService): KafkaClient {
  const library = loadConfluent();
  const kafka = new library.KafkaJS.Kafka({
    ...(connectionConfig(options) as Record<string, string | number | boolean>),
    kafkaJS: { brokers: options.brokers, clientId: options.clientId, logger: nestLogger(logger) },
  });
  const admin = kafka.admin();
  return {
    admin: clusterAdmin(admin),
    errors: CONFLUENT_ERRORS,
    connect: () => admin.connect(),
    createEngine: (setup) => new ConfluentConsumerEngine(library, options, setup, logger),
    deadLetters: new ConfluentRecordSender(kafka),
    disconnect: () => admin.disconnect(),
  };
}

function clusterAdmin(admin: KafkaJS.Admin): ClusterAdmin {
  return {
    listTopics: () => admin.listTopics(),
    watermarks: async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ partition, low, high })),
    offsetsForTimes: async (topic, timestamp) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map(({ partition, offset }) => ({ partition, offset })),
    committed: async (groupId, topics) =>
      (await admin.fetchOffsets({ groupId, topics })).map(({ topic, partitions }) => ({ topic, partitions: partitions.map(({ partition, offset }) => ({ partition, offset })) })),
    partitions: async (topics) =>
      (await admin.fetchTopicMetadata({ topics })).map((t) => ({
        topic: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader ?? -1 })),
      })),
  };
}

/** Dead letters through one producer (acks=all), connected on first use and again after a failed connect. */
class ConfluentRecordSender implements RecordSender {
  private producer: Promise<KafkaJS.Producer> | undefined;

  constructor(private readonly kafka: KafkaJS.Kafka) {}

  async send(topic: string, record: { key: Buffer | null; value: Buffer | null; headers: RecordHeaders }): Promise<void> {
    const producer = await this.connected();
    await producer.send({ topic, messages: [record as KafkaJS.Message] });
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private connected(): Promise<KafkaJS.Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({ kafkaJS: { acks: -1 } });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }
}

/** The KafkaJS-style layer's log calls → the Nest logger. */
function nestLogger(logger: LoggerService): KafkaJS.Logger {
  const line = (message: string, extra?: object) => (extra && Object.keys(extra).length > 0 ? `${message} ${JSON.stringify(extra)}` : message);
  const self: KafkaJS.Logger = {
    info: (message, extra) => logger.log(line(message, extra)),
    warn: (message, extra) => logger.warn?.(line(message, extra)),
    error: (message, extra) => logger.error(line(message, extra)),
    debug: (message, extra) => logger.debug?.(line(message, extra)),
    namespace: () => self,
    setLogLevel: () => undefined,
  };
  return self;
}
