import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import type { ConsumerSettings, KafkaConsumerModuleOptions } from '../interfaces/module-options.interface';
import { resolveGroups, resolveModuleOptions } from './resolve-options';
import { configError } from '../../../../test/support/config-error';

const base: KafkaConsumerModuleOptions = { brokers: ['localhost:9092'], groupId: 'audit' };
const handler = (name: string, topics: KafkaHandlerMetadata['topics'], groupId = 'audit') => ({
  name,
  metadata: { topics, groupId, batch: false } as KafkaHandlerMetadata,
  source: name,
});
const resolve = (settings: ConsumerSettings, handlers = [handler('A.a', ['orders', 'refunds'])], options: Partial<KafkaConsumerModuleOptions> = {}) =>
  resolveGroups(resolveModuleOptions({ ...base, ...options, groups: { audit: settings } }), handlers);

describe('standalone option', () => {
  it('takes given partitions and topics in full, sorted, with commits on and no discovery by default', () => {
    const [group] = resolve({ standalone: { assign: [{ topic: 'orders', partitions: [2, 0] }, { topic: 'refunds' }] } });
    expect(group.settings.standalone).toEqual({
      assign: [{ topic: 'orders', partitions: [0, 2] }, { topic: 'refunds' }],
      partitionDiscoveryIntervalMs: 0,
      commitOffsets: true,
    });
  });

  it('reads every partition of every topic of the group\'s handlers when `assign` is omitted', () => {
    const [group] = resolve({ standalone: { partitionDiscoveryIntervalMs: 1000, commitOffsets: false } }, [
      handler('A.a', ['orders', 'refunds']),
      handler('B.b', 'payments'),
    ]);
    expect(group.settings.standalone).toEqual({
      assign: [{ topic: 'orders' }, { topic: 'refunds' }, { topic: 'payments' }],
      partitionDiscoveryIntervalMs: 1000,
      commitOffsets: false,
    });
  });

  it('leaves other groups as group members', () => {
    const result = resolveGroups(resolveModuleOptions({ ...base, groups: { audit: { standalone: {} } } }), [
      handler('A.a', 'orders'),
      handler('B.b', 'orders', 'billing'),
    ]);
    expect(result.find((g) => g.groupId === 'billing')?.settings.standalone).toBeUndefined();
    expect(result.find((g) => g.groupId === 'audit')?.settings.standalone?.assign).toEqual([{ topic: 'orders' }]);
  });

  it.each([
    [{ standalone: 'yes' }, 'groups.audit.standalone', /must be an object/],
    [{ standalone: { partitions: [] } }, 'groups.audit.standalone.partitions', /unknown option; a standalone consumer takes assign, partitionDiscoveryIntervalMs, commitOffsets/],
    [{ standalone: { assign: [] } }, 'groups.audit.standalone.assign', /non-empty array/],
    [{ standalone: { assign: [{ topic: 'bad topic!' }] } }, 'groups.audit.standalone.assign[0].topic', /1 to 249 characters/],
    [{ standalone: { assign: [{ topic: 'orders', partition: 1 }] } }, 'groups.audit.standalone.assign[0].partition', /unknown option/],
    [{ standalone: { assign: [{ topic: 'orders', partitions: [] }] } }, 'groups.audit.standalone.assign[0].partitions', /omit it to read every partition/],
    [{ standalone: { assign: [{ topic: 'orders', partitions: [0, -1] }] } }, 'groups.audit.standalone.assign[0].partitions', /integer ≥ 0/],
    [{ standalone: { assign: [{ topic: 'orders', partitions: [1, 1] }] } }, 'groups.audit.standalone.assign[0].partitions', /twice/],
    [{ standalone: { assign: [{ topic: 'orders' }, { topic: 'orders', partitions: [1] }] } }, 'groups.audit.standalone.assign[1].topic', /listed twice/],
    [{ standalone: { partitionDiscoveryIntervalMs: 10 } }, 'groups.audit.standalone.partitionDiscoveryIntervalMs', /integer ≥ 100/],
    [{ standalone: { commitOffsets: 'no' } }, 'groups.audit.standalone.commitOffsets', /true or false/],
  ])('rejects a malformed option %#', (settings, option, message) => {
    const error = configError(() => resolve(settings as unknown as ConsumerSettings));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('is per group only', () => {
    const error = configError(() => resolveModuleOptions({ ...base, standalone: {} } as KafkaConsumerModuleOptions));
    expect(error.option).toBe('standalone');
    expect(error.message).toMatch(/groups: \{ <groupId>: \{ standalone/);
  });

  it('rejects static membership: a standalone consumer never joins', () => {
    const own = configError(() => resolve({ standalone: {}, groupInstanceId: 'pod-1' }));
    expect(own.option).toBe('groups.audit.standalone');
    expect(own.message).toMatch(/static membership does not apply; remove groupInstanceId \("pod-1"/);
    const moduleWide = configError(() => resolve({ standalone: {} }, undefined, { groupInstanceId: 'pod-1' }));
    expect(moduleWide.option).toBe('groups.audit.standalone');
  });

  it('rejects a topic no handler of the group subscribes to', () => {
    const error = configError(() => resolve({ standalone: { assign: [{ topic: 'orders' }, { topic: 'payments' }] } }));
    expect(error.option).toBe('groups.audit.standalone.assign');
    expect(error.value).toBe('payments');
    expect(error.message).toMatch(/no handler of this group subscribes to "payments".*consume orders, refunds/);
  });

  it('rejects a handler topic the assignment does not read', () => {
    const error = configError(() => resolve({ standalone: { assign: [{ topic: 'orders', partitions: [0] }] } }));
    expect(error.option).toBe('groups.audit.standalone.assign');
    expect(error.message).toMatch(/handler A.a subscribes to "refunds", which this standalone consumer does not read; add \{ topic: 'refunds' \}/);
  });

  it('rejects pattern subscriptions in a standalone group', () => {
    const error = configError(() => resolve({ standalone: {} }, [handler('A.a', /^orders/)]));
    expect(error.option).toBe('handler A.a: topics');
    expect(error.message).toMatch(/standalone consumer, which reads fixed partitions and follows no topic pattern/);
  });

  it('rejects discovery when every topic lists its partitions', () => {
    const error = configError(() =>
      resolve({ standalone: { assign: [{ topic: 'orders', partitions: [0] }, { topic: 'refunds', partitions: [1] }], partitionDiscoveryIntervalMs: 1000 } }),
    );
    expect(error.option).toBe('groups.audit.standalone.partitionDiscoveryIntervalMs');
    expect(error.message).toMatch(/every topic of `assign` lists its partitions/);
  });
});
