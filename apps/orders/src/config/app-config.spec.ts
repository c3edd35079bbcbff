import { hostname } from 'os';
import { AppConfigError } from './app-config.error';
import { APP_ENV, APP_ENV_VARIABLES, loadConfig } from './app-config';
import { toKafkaConsumerOptions } from './kafka-consumer-options';
import { ORDERS_HANDLER } from '../orders.constants';

describe('loadConfig', () => {
  it('applies the defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.kafka).toEqual({
      brokers: ['localhost:9092'],
      clientId: 'orders-app',
      engine: 'kafkajs',
      groupId: 'orders-app',
      groupInstanceId: undefined,
      sessionTimeoutMs: 30000,
      heartbeatIntervalMs: 3000,
      fetchMaxWaitMs: 500,
    });
    expect(config.ordersTopic).toBe('orders');
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/orders.db' });
    expect(config.ordersHandler).toEqual({ commit: { mode: 'record', sync: false }, concurrency: 8 });
    expect(config.healthPort).toBe(0);
    expect(config.recordDeliveries).toBe(false);
  });

  it('reads every variable it lists, and only those', () => {
    expect(APP_ENV_VARIABLES).toEqual(Object.keys(APP_ENV));
    const env = {
      KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9093 ',
      KAFKA_CLIENT_ID: 'orders-x',
      KAFKA_ENGINE: 'confluent',
      GROUP_ID: 'orders-group',
      GROUP_INSTANCE_ID: 'orders-{hostname}',
      ORDERS_TOPIC: 'shop.orders',
      DATABASE_URL: 'postgres://orders:secret@db:5432/orders',
      ORDERS_COMMIT: 'auto',
      ORDERS_COMMIT_SYNC: 'true',
      ORDERS_COMMIT_INTERVAL_MS: '2000',
      ORDERS_CONCURRENCY: '16',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_FETCH_MAX_WAIT_MS: '100',
      HEALTH_PORT: '8080',
      HEALTH_MAX_LAG: '50000',
      RECORD_DELIVERIES: 'yes',
      UNRELATED: 'x',
    };
    const read = new Set<string>();
    const tracked = new Proxy(env, { get: (target, name: string) => (read.add(name), target[name as keyof typeof target]) });
    const config = loadConfig(tracked);
    expect([...read].sort()).toEqual([...APP_ENV_VARIABLES].sort());
    expect(config).toEqual({
      kafka: { brokers: ['kafka-1:9092', 'kafka-2:9093'], clientId: 'orders-x', engine: 'confluent', groupId: 'orders-group', groupInstanceId: `orders-${hostname()}`, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, fetchMaxWaitMs: 100 },
      ordersTopic: 'shop.orders',
      databaseUrl: 'postgres://orders:secret@db:5432/orders',
      database: { kind: 'postgres', url: 'postgres://orders:secret@db:5432/orders' },
      ordersHandler: { commit: { mode: 'auto', sync: true, intervalMs: 2000 }, concurrency: 16 },
      healthPort: 8080,
      healthMaxLag: 50_000,
      recordDeliveries: true,
    });
  });

  it.each([
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS', 'is not host:port'],
    [{ KAFKA_ENGINE: 'rdkafka' }, 'KAFKA_ENGINE', 'must be one of kafkajs, confluent'],
    [{ KAFKA_BROKERS: 'a:9092,b:70000' }, 'KAFKA_BROKERS', '"b:70000" is not host:port'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS', 'at least one'],
    [{ ORDERS_TOPIC: 'orders!' }, 'ORDERS_TOPIC', 'topic name'],
    [{ DATABASE_URL: 'mysql://db/orders' }, 'DATABASE_URL', 'must start with sqlite:'],
    [{ DATABASE_URL: 'postgres://db:5432' }, 'DATABASE_URL', 'names no database'],
    [{ ORDERS_COMMIT: 'sometimes' }, 'ORDERS_COMMIT', 'record, batch, auto, manual'],
    [{ ORDERS_COMMIT_SYNC: 'maybe' }, 'ORDERS_COMMIT_SYNC', 'true or false'],
    [{ ORDERS_CONCURRENCY: '0' }, 'ORDERS_CONCURRENCY', 'from 1 to 256'],
    [{ ORDERS_CONCURRENCY: '2.5' }, 'ORDERS_CONCURRENCY', 'whole number'],
    [{ KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '6000' }, 'KAFKA_HEARTBEAT_INTERVAL_MS', 'below KAFKA_SESSION_TIMEOUT_MS (6000)'],
    [{ HEALTH_PORT: '-1' }, 'HEALTH_PORT', 'from 0 to 65535'],
    [{ GROUP_INSTANCE_ID: 'pod 1' }, 'GROUP_INSTANCE_ID', 'must be 1-249 characters'],
  ])('rejects %j naming %s', (env, variable, rule) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).variable).toBe(variable);
    expect((error as Error).message).toContain(`Invalid environment variable ${variable}=`);
    expect((error as Error).message).toContain(rule);
  });
});

describe('toKafkaConsumerOptions', () => {
  it('passes the handler commit policy and concurrency by handler name', () => {
    const options = toKafkaConsumerOptions(loadConfig({ ORDERS_COMMIT: 'batch', ORDERS_CONCURRENCY: '3', GROUP_ID: 'g' }));
    expect(options.groupId).toBe('g');
    expect(options.autoOffsetReset).toBe('earliest');
    expect(options.handlers).toEqual({ [ORDERS_HANDLER]: { commit: { mode: 'batch', sync: false }, concurrency: 3 } });
    expect(options.groupInstanceId).toBeUndefined();
  });

  it('makes a static member of GROUP_INSTANCE_ID, with {hostname} replaced', () => {
    expect(toKafkaConsumerOptions(loadConfig({ GROUP_INSTANCE_ID: 'orders-{hostname}' })).groupInstanceId).toBe(`orders-${hostname()}`);
  });
});
