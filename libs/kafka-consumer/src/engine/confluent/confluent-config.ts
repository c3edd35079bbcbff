import type { LoggerService } from '@nestjs/common';
import type { ConnectionOptions } from 'tls';
import { KafkaConsumerConfigError } from '../../errors/kafka-consumer-config.error';
import type { KafkaLogLevel } from '../../interfaces/module-options.interface';
import type { ResolvedConsumerSettings, ResolvedModuleOptions } from '../../options/resolved-options';

type RdConfig = Record<string, string | number | boolean | ((...args: never[]) => unknown)>;

/** See consumerConfig: how soon a partition fetches again after the prefetch queue was full. */
const FETCH_QUEUE_BACKOFF_MS = 10;

/** librdkafka's syslog levels. */
// 'nothing' still lets fatal errors through: their cause is only in librdkafka's log (see the engine's onFatal).
const LOG_LEVELS: Record<KafkaLogLevel, number> = { nothing: 2, error: 3, warn: 4, info: 6, debug: 7 };

/** librdkafka's assignors for the module's strategy names; eager `sticky` has none. */
const STRATEGIES: Partial<Record<ResolvedConsumerSettings['assignmentStrategy'], string>> = {
  range: 'range',
  roundrobin: 'roundrobin',
  'cooperative-sticky': 'cooperative-sticky',
};

/** Connection, TLS and SASL settings shared by the consumer, the admin client and the producer. */
export function connectionConfig(options: ResolvedModuleOptions): RdConfig {
  const config: RdConfig = {
    'bootstrap.servers': options.brokers.join(','),
    'client.id': options.clientId,
    'socket.connection.setup.timeout.ms': Math.max(1000, options.connectionTimeoutMs),
    'log_level': LOG_LEVELS[options.logLevel ?? 'warn'],
  };
  const ssl = options.ssl;
  const sasl = options.sasl;
  if (sasl?.mechanism === 'oauthbearer') {
    throw new KafkaConsumerConfigError('sasl.mechanism', 'oauthbearer', 'the confluent engine takes OAUTHBEARER through librdkafka settings the module does not map yet; use the kafkajs engine for it');
  }
  config['security.protocol'] = sasl ? (ssl ? 'sasl_ssl' : 'sasl_plaintext') : ssl ? 'ssl' : 'plaintext';
  if (sasl) {
    config['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    config['sasl.username'] = sasl.username;
    config['sasl.password'] = sasl.password;
  }
  if (ssl && typeof ssl === 'object') Object.assign(config, tlsConfig(ssl));
  return config;
}

/** Node's TLS options → librdkafka's PEM settings (strings or Buffers of PEM text). */
function tlsConfig(tls: ConnectionOptions): RdConfig {
  const pem = (value: unknown, option: string): string => {
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    throw new KafkaConsumerConfigError(`ssl.${option}`, typeof value, 'the confluent engine takes one PEM string or Buffer here');
  };
  const config: RdConfig = {};
  if (tls.ca !== undefined) config['ssl.ca.pem'] = pem(tls.ca, 'ca');
  if (tls.cert !== undefined) config['ssl.certificate.pem'] = pem(tls.cert, 'cert');
  if (tls.key !== undefined) config['ssl.key.pem'] = pem(tls.key, 'key');
  if (tls.passphrase !== undefined) config['ssl.key.password'] = tls.passphrase;
  if (tls.rejectUnauthorized === false) config['enable.ssl.certificate.verification'] = false;
  return config;
}

/**
 * Consumer settings → librdkafka. Offsets are committed by the module only
 * (no auto commit, no offset store). max.poll.interval.ms is librdkafka's
 * own: a fetch loop held by a record (or stalled by the module's liveness
 * monitor) past it makes the member leave the group and join again after.
 */
export function consumerConfig(options: ResolvedModuleOptions, groupId: string, settings: ResolvedConsumerSettings): RdConfig {
  const config: RdConfig = {
    ...connectionConfig(options),
    'group.id': groupId,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'auto.offset.reset': settings.autoOffsetReset,
    'session.timeout.ms': settings.sessionTimeoutMs,
    'heartbeat.interval.ms': settings.heartbeatIntervalMs,
    // librdkafka refuses a poll interval below the session timeout.
    'max.poll.interval.ms': Math.max(settings.maxPollIntervalMs, settings.sessionTimeoutMs),
    'fetch.min.bytes': settings.fetchMinBytes,
    'fetch.max.bytes': settings.fetchMaxBytes,
    'fetch.wait.max.ms': settings.fetchMaxWaitMs,
    'max.partition.fetch.bytes': settings.maxPartitionFetchBytes,
    'partition.assignment.strategy': STRATEGIES[settings.assignmentStrategy] ?? settings.assignmentStrategy,
  };
  if (settings.groupProtocol === 'consumer') {
    // KIP-848: the broker owns the session, heartbeats and assignment.
    config['group.protocol'] = 'consumer';
    for (const key of ['session.timeout.ms', 'heartbeat.interval.ms', 'partition.assignment.strategy']) delete config[key];
  }
  if (settings.maxBufferedBytes > 0) {
    config['queued.max.messages.kbytes'] = Math.max(1, Math.ceil(settings.maxBufferedBytes / 1024));
    // A partition whose fetch finds the queue over that bound waits this long before it fetches
    // again; librdkafka's 1 s suits its 64 MiB default, not a bound the loop drains in milliseconds.
    config['fetch.queue.backoff.ms'] = FETCH_QUEUE_BACKOFF_MS;
  }
  if (options.clientRack) config['client.rack'] = options.clientRack;
  if (settings.groupInstanceId !== undefined) config['group.instance.id'] = settings.groupInstanceId;
  return config;
}

/** librdkafka's log lines → the Nest logger. */
export function logRdkafka(logger: LoggerService, groupId: string | undefined, event: { severity: number; fac: string; message: string }): void {
  const text = `librdkafka${groupId ? ` (group ${groupId})` : ''} ${event.fac}: ${event.message}`;
  if (event.severity <= 3) logger.error(text);
  else if (event.severity === 4) logger.warn?.(text);
  else if (event.severity <= 6) logger.log(text);
  else logger.debug?.(text);
}
