import { hostname } from 'os';
import type { CommitMode, CommitPolicyOptions, KafkaEngineName } from '@app/kafka-consumer';
import { DatabaseTarget, parseDatabaseUrl } from '../database/database-target';
import { AppConfigError } from './app-config.error';

/**
 * Every environment variable the app reads, with its default. `loadConfig` reads
 * nothing else, so this table is also what deployment files must set (the
 * compose file is checked against it).
 */
export const APP_ENV = {
  KAFKA_BROKERS: { default: 'localhost:9092', description: 'bootstrap servers, comma-separated host:port' },
  KAFKA_CLIENT_ID: { default: 'orders-app', description: 'Kafka client.id' },
  KAFKA_ENGINE: { default: 'kafkajs', description: 'Kafka client of the consumer: kafkajs, or confluent (needs @confluentinc/kafka-javascript)' },
  GROUP_ID: { default: 'orders-app', description: 'consumer group of the orders handler' },
  GROUP_INSTANCE_ID: {
    default: '',
    description: 'static membership (group.instance.id), unique per instance; "{hostname}" is replaced by the host name (e.g. orders-{hostname}); empty: a dynamic member',
  },
  ORDERS_TOPIC: { default: 'orders', description: 'topic of the order events' },
  DATABASE_URL: { default: 'sqlite:./data/orders.db', description: 'sqlite:<path> or postgres://user:password@host:port/db' },
  ORDERS_COMMIT: { default: 'record', description: 'commit policy of the orders handler: record, batch, auto or manual' },
  ORDERS_COMMIT_SYNC: { default: 'false', description: 'wait for each commit to be acknowledged (true/false)' },
  ORDERS_COMMIT_INTERVAL_MS: { default: '5000', description: 'commit interval for ORDERS_COMMIT=auto' },
  ORDERS_CONCURRENCY: { default: '8', description: 'order events processed at once (sequential per order: ordering by key)' },
  KAFKA_SESSION_TIMEOUT_MS: { default: '30000', description: 'session.timeout.ms' },
  KAFKA_HEARTBEAT_INTERVAL_MS: { default: '3000', description: 'heartbeat.interval.ms, below the session timeout' },
  KAFKA_FETCH_MAX_WAIT_MS: { default: '500', description: 'fetch.max.wait.ms' },
  HEALTH_PORT: { default: '0', description: 'port of GET /health and GET /metrics (0: neither)' },
  HEALTH_MAX_LAG: { default: '0', description: "GET /health answers 503 while the group's lag on this instance is over this many records (0: lag is reported, not judged)" },
  RECORD_DELIVERIES: { default: 'false', description: 'also count deliveries per record (topic, partition, offset) in a table' },
} as const satisfies Record<string, { default: string; description: string }>;

export type AppEnvVariable = keyof typeof APP_ENV;

/** The names of every variable in `APP_ENV`. */
export const APP_ENV_VARIABLES = Object.keys(APP_ENV) as AppEnvVariable[];

const COMMIT_MODES = ['record', 'batch', 'auto', 'manual'] as const satisfies readonly CommitMode[];
const ENGINES = ['kafkajs', 'confluent'] as const satisfies readonly KafkaEngineName[];
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const BROKER = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

export interface OrdersAppConfig {
  kafka: {
    brokers: string[];
    clientId: string;
    engine: KafkaEngineName;
    groupId: string;
    /** Static membership; undefined: a dynamic member. */
    groupInstanceId?: string;
    sessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    fetchMaxWaitMs: number;
  };
  ordersTopic: string;
  /** As given, for logs (redact it first). */
  databaseUrl: string;
  database: DatabaseTarget;
  /** Overrides for the orders handler, passed to the module by handler name. */
  ordersHandler: { commit: CommitPolicyOptions; concurrency: number };
  /** 0: no health endpoint. */
  healthPort: number;
  /** 0: lag is not judged by the health check. */
  healthMaxLag: number;
  recordDeliveries: boolean;
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the app's configuration. Unset or blank variables take
 * their default; a bad value throws an `AppConfigError` naming the variable.
 */
export function loadConfig(env: Env = process.env): OrdersAppConfig {
  const read = (name: AppEnvVariable): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? APP_ENV[name].default : value;
  };
  const fail = (name: AppEnvVariable, rule: string): never => {
    throw new AppConfigError(name, env[name], rule);
  };
  const integer = (name: AppEnvVariable, min: number, max: number): number => {
    const text = read(name);
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) fail(name, `must be a whole number from ${min} to ${max}`);
    return value;
  };
  const boolean = (name: AppEnvVariable): boolean => {
    const text = read(name).toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    return fail(name, 'must be true or false');
  };
  const nonEmpty = (name: AppEnvVariable, max = 255): string => {
    const text = read(name);
    if (text.length > max) fail(name, `must be at most ${max} characters`);
    return text;
  };

  const brokers = read('KAFKA_BROKERS')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  for (const broker of brokers) {
    const port = Number(BROKER.exec(broker)?.[2]);
    if (!(port >= 1 && port <= 65_535)) fail('KAFKA_BROKERS', `"${broker}" is not host:port; expected a comma-separated list such as kafka-1:9092,kafka-2:9092`);
  }
  if (brokers.length === 0) fail('KAFKA_BROKERS', 'must list at least one host:port');

  const ordersTopic = read('ORDERS_TOPIC');
  if (!TOPIC_NAME.test(ordersTopic)) fail('ORDERS_TOPIC', 'a Kafka topic name has 1 to 249 characters among a-z, A-Z, 0-9, ".", "_" and "-"');

  const databaseUrl = read('DATABASE_URL');
  let database: DatabaseTarget | undefined;
  try {
    database = parseDatabaseUrl(databaseUrl);
  } catch (error) {
    fail('DATABASE_URL', (error as Error).message);
  }

  const mode = read('ORDERS_COMMIT') as CommitMode;
  if (!COMMIT_MODES.includes(mode)) fail('ORDERS_COMMIT', `must be one of ${COMMIT_MODES.join(', ')}`);
  const commit: CommitPolicyOptions = { mode, sync: boolean('ORDERS_COMMIT_SYNC') };
  const intervalMs = integer('ORDERS_COMMIT_INTERVAL_MS', 10, 3_600_000);
  if (mode === 'auto') commit.intervalMs = intervalMs;

  const groupInstanceId = (): string | undefined => {
    const value = read('GROUP_INSTANCE_ID').replaceAll('{hostname}', hostname());
    if (value === '') return undefined;
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(value)) fail('GROUP_INSTANCE_ID', `"${value}" must be 1-249 characters of a-z, A-Z, 0-9, ".", "_" or "-"`);
    return value;
  };

  const engine = read('KAFKA_ENGINE') as KafkaEngineName;
  if (!ENGINES.includes(engine)) fail('KAFKA_ENGINE', `must be one of ${ENGINES.join(', ')}`);

  const sessionTimeoutMs = integer('KAFKA_SESSION_TIMEOUT_MS', 1_000, 3_600_000);
  const heartbeatIntervalMs = integer('KAFKA_HEARTBEAT_INTERVAL_MS', 100, 3_600_000);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    fail('KAFKA_HEARTBEAT_INTERVAL_MS', `must be below KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}); about a third of it is usual`);
  }

  return {
    kafka: {
      brokers,
      clientId: nonEmpty('KAFKA_CLIENT_ID'),
      engine,
      groupId: nonEmpty('GROUP_ID'),
      groupInstanceId: groupInstanceId(),
      sessionTimeoutMs,
      heartbeatIntervalMs,
      fetchMaxWaitMs: integer('KAFKA_FETCH_MAX_WAIT_MS', 0, 60_000),
    },
    ordersTopic,
    databaseUrl,
    database: database!,
    ordersHandler: { commit, concurrency: integer('ORDERS_CONCURRENCY', 1, 256) },
    healthPort: integer('HEALTH_PORT', 0, 65_535),
    healthMaxLag: integer('HEALTH_MAX_LAG', 0, Number.MAX_SAFE_INTEGER),
    recordDeliveries: boolean('RECORD_DELIVERIES'),
  };
}
