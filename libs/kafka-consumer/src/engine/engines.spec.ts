import { resolveGroups, resolveModuleOptions } from '../options/resolve-options';
import type { KafkaConsumerModuleOptions } from '../interfaces/module-options.interface';
import { checkGroupEngine } from './engines';

const group = (options: Partial<KafkaConsumerModuleOptions>) =>
  resolveGroups(resolveModuleOptions({ brokers: 'a:9092', groupId: 'billing', ...options }), [{ name: 'H.h', metadata: { topics: 't', batch: false }, source: undefined }])[0];

describe('checkGroupEngine', () => {
  it('takes the engine module-wide or per group, kafkajs by default, and refuses an unknown one', () => {
    expect(group({}).settings.engine).toBe('kafkajs');
    expect(group({ engine: 'confluent' }).settings.engine).toBe('confluent');
    expect(group({ groups: { billing: { engine: 'confluent' } } }).settings.engine).toBe('confluent');
    expect(() => group({ engine: 'rdkafka' as 'confluent' })).toThrow(/engine = "rdkafka": must be one of kafkajs, confluent/);
  });

  it('accepts on confluent what librdkafka does natively; refuses the rest naming option, group and engine', () => {
    expect(() => checkGroupEngine(group({ engine: 'confluent', groupInstanceId: 'pod-1' }))).not.toThrow();
    expect(() => checkGroupEngine(group({ engine: 'confluent', assignmentStrategy: 'range', shutdownTimeoutMs: 5_000 }))).not.toThrow();
    expect(() => checkGroupEngine(group({ engine: 'confluent', assignmentStrategy: 'sticky', shutdownTimeoutMs: 5_000 }))).toThrow(
      /groups\.billing\.assignmentStrategy = "sticky": needs an assignor this client lacks .* which the confluent engine does not support/,
    );
    const standalone = group({ engine: 'confluent', groups: { billing: { standalone: { assign: [{ topic: 't' }] } } } });
    expect(() => checkGroupEngine(standalone)).not.toThrow();
    expect(() => checkGroupEngine(group({ groupProtocol: 'consumer' }))).toThrow(/groups\.billing\.groupProtocol = "consumer": needs the KIP-848 consumer group protocol, which the kafkajs engine does not support/);
    expect(() => checkGroupEngine(group({ engine: 'confluent', groupProtocol: 'consumer' }))).not.toThrow();
    expect(() => checkGroupEngine(group({ assignmentStrategy: 'sticky', shutdownTimeoutMs: 5_000 }))).not.toThrow();
  });
});
