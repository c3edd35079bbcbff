import { resolveGroups, resolveModuleOptions } from '../../options/resolve-options';
import type { KafkaConsumerModuleOptions } from '../../interfaces/module-options.interface';
import { connectionConfig, consumerConfig } from './confluent-config';
import { CONFLUENT_ERRORS, RD } from './confluent-errors';

const options = (extra: Partial<KafkaConsumerModuleOptions> = {}) => resolveModuleOptions({ brokers: 'a:9092,b:9092', engine: 'confluent', ...extra });

describe('confluent config', () => {
  it('maps the consumer settings to librdkafka names; the module commits, librdkafka never does', () => {
    const resolved = options({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, autoOffsetReset: 'earliest', clientRack: 'az-1', groups: { g: { groupInstanceId: 'pod-1' } } });
    const [group] = resolveGroups(resolved, [{ name: 'H.h', metadata: { topics: 't', batch: false, groupId: 'g' }, source: undefined }]);
    const config = consumerConfig(resolved, 'g', group.settings);
    expect(config).toMatchObject({
      'bootstrap.servers': 'a:9092,b:9092',
      'group.id': 'g',
      'group.instance.id': 'pod-1',
      'client.rack': 'az-1',
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'auto.offset.reset': 'earliest',
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': 1_000,
      'partition.assignment.strategy': 'cooperative-sticky',
      'queued.max.messages.kbytes': 2048,
      'fetch.queue.backoff.ms': 10,
      'security.protocol': 'plaintext',
    });
  });

  it("leaves librdkafka's own prefetch bound and backoff when maxBufferedBytes is 0", () => {
    const resolved = options({ maxBufferedBytes: 0 });
    const [group] = resolveGroups(resolved, [{ name: 'H.h', metadata: { topics: 't', batch: false, groupId: 'g' }, source: undefined }]);
    const config = consumerConfig(resolved, 'g', group.settings);
    expect(config['queued.max.messages.kbytes']).toBeUndefined();
    expect(config['fetch.queue.backoff.ms']).toBeUndefined();
  });

  it('maps TLS and SASL, and refuses what it cannot map, naming the option', () => {
    const scram = connectionConfig(options({ ssl: { ca: 'PEM-CA' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } }));
    expect(scram).toMatchObject({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'u', 'sasl.password': 'p', 'ssl.ca.pem': 'PEM-CA' });
    expect(() => connectionConfig(options({ sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 't' }) } }))).toThrow(/sasl\.mechanism = "oauthbearer"/);
    expect(() => connectionConfig(options({ ssl: { ca: ['a', 'b'] as never } }))).toThrow(/ssl\.ca/);
  });

  it("classes librdkafka's error codes", () => {
    expect(CONFLUENT_ERRORS.isGeneration({ code: RD.ILLEGAL_GENERATION })).toBe(true);
    expect(CONFLUENT_ERRORS.isGeneration({ code: RD.REBALANCE_IN_PROGRESS })).toBe(true);
    expect(CONFLUENT_ERRORS.isRetriableCommit({ code: RD.COORDINATOR_NOT_AVAILABLE })).toBe(true);
    expect(CONFLUENT_ERRORS.isRetriableCommit({ code: RD.ILLEGAL_GENERATION })).toBe(false);
    expect(CONFLUENT_ERRORS.isFenced({ code: RD.FENCED_INSTANCE_ID })).toBe(true);
    expect(CONFLUENT_ERRORS.isFenced(new Error('x'))).toBe(false);
  });
});
