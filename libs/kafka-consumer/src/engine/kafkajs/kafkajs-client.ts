import type { LoggerService } from '@nestjs/common';
import { Admin, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { ClusterAdmin, KafkaClient } from '../kafka-client';
import type { ResolvedModuleOptions } from '../../options/resolved-options';
import { toKafkaConfig } from './kafkajs-config';
import { KafkajsConsumerEngine } from './kafkajs-engine';
import { KAFKAJS_ERRORS } from './kafkajs-errors';
import { KafkajsRecordSender } from './kafkajs-record-sender';

/** The module's client on kafkajs 2.2. */
export function createKafkajsClient(options: ResolvedModuleOptions, logger: LoggerService): KafkaClient {
  const kafka = new Kafka(toKafkaConfig(options, () => (entry) => logKafka(logger, entry)));
  const admin = kafka.admin();
  return {
    admin: clusterAdmin(admin),
    errors: KAFKAJS_ERRORS,
    connect: () => admin.connect(),
    createEngine: (setup) => new KafkajsConsumerEngine(kafka, setup),
    deadLetters: new KafkajsRecordSender(kafka),
    disconnect: () => admin.disconnect(),
  };
}

function clusterAdmin(admin: Admin): ClusterAdmin {
  return {
    listTopics: () => admin.listTopics(),
    watermarks: async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ partition, low, high })),
    offsetsForTimes: (topic, timestamp) => admin.fetchTopicOffsetsByTimestamp(topic, timestamp),
    committed: async (groupId, topics) =>
      (await admin.fetchOffsets({ groupId, topics })).map(({ topic, partitions }) => ({ topic, partitions: partitions.map(({ partition, offset }) => ({ partition, offset })) })),
    partitions: async (topics) =>
      (await admin.fetchTopicMetadata({ topics })).topics.map((t) => ({
        topic: t.name,
        partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader ?? -1 })),
      })),
  };
}

/**
 * kafkajs logs every refused request as an error; a rebalance in progress is routine (the module
 * reports the commits it affects itself), and so is the join refused to a consumer being stopped.
 */
function logKafka(logger: LoggerService, { level, log }: LogEntry): void {
  const { message, ...extra } = log;
  const text = `${message} ${JSON.stringify(extra)}`;
  const routine = /rebalancing|rejoin is needed|the consumer is stopping/i.test(`${String(extra.error ?? '')} ${message}`);
  if (level === KafkaLogLevel.ERROR && !routine) logger.error(text);
  else if (level === KafkaLogLevel.ERROR) logger.debug?.(text);
  else if (level === KafkaLogLevel.WARN) logger.warn?.(text);
  else if (level === KafkaLogLevel.INFO) logger.log(text);
  else logger.debug?.(text);
}
