import type { LoggerService } from '@nestjs/common';
import { Admin, ConfigResourceTypes, Kafka, logLevel as KafkaLogLevel, LogEntry } from 'kafkajs';
import type { KafkaClient } from '../kafka-client';
import { kafkajsStyleAdmin, LazyRecordSender } from '../kafkajs-style';
import type { ResolvedModuleOptions } from '../../options/resolved-options';
import { toKafkaConfig } from './kafkajs-config';
import { KafkajsConsumerEngine } from './kafkajs-engine';
import { KAFKAJS_ERRORS } from './kafkajs-errors';

/** The module's client on kafkajs 2.2. */
export function createKafkajsClient(options: ResolvedModuleOptions, logger: LoggerService): KafkaClient {
  const kafka = new Kafka(toKafkaConfig(options, () => (entry) => logKafka(logger, entry)));
  const admin = kafka.admin();
  return {
    admin: kafkajsStyleAdmin(admin, async (topics) => (await admin.fetchTopicMetadata({ topics })).topics, (name) => brokerConfig(admin, name)),
    errors: KAFKAJS_ERRORS,
    connect: () => admin.connect(),
    createEngine: (setup) => new KafkajsConsumerEngine(kafka, setup),
    // kafkajs sends with acks=-1 (all in-sync replicas) unless told otherwise.
    deadLetters: new LazyRecordSender(() => kafka.producer()),
    disconnect: () => admin.disconnect(),
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

/** One setting of the first broker the cluster lists (DescribeConfigs). */
async function brokerConfig(admin: Admin, name: string): Promise<string | undefined> {
  const { brokers } = await admin.describeCluster();
  if (brokers.length === 0) return undefined;
  const { resources } = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId), configNames: [name] }],
    includeSynonyms: false,
  });
  return resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue ?? undefined;
}
