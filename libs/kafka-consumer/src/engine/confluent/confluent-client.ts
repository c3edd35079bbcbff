import type { LoggerService } from '@nestjs/common';
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { ResolvedModuleOptions } from '../../options/resolved-options';
import type { KafkaClient } from '../kafka-client';
import { kafkajsStyleAdmin, LazyRecordSender } from '../kafkajs-style';
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
    admin: kafkajsStyleAdmin(admin, (topics) => admin.fetchTopicMetadata({ topics })),
    errors: CONFLUENT_ERRORS,
    connect: () => admin.connect(),
    createEngine: (setup) => new ConfluentConsumerEngine(library, options, setup, logger),
    deadLetters: new LazyRecordSender(() => kafka.producer({ kafkaJS: { acks: -1 } })),
    disconnect: () => admin.disconnect(),
  };
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
