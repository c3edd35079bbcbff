import { resolveGroups, resolveModuleOptions } from '../options/resolve-options';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { TopicSubscriptions } from './topic-subscriptions';

const logger = { log: jest.fn(), error: jest.fn(), warn: jest.fn() };

function subscriptions(topics: string[], handlers: Array<Partial<KafkaHandlerMetadata> & { name: string }>, autoOffsetReset?: 'earliest' | 'latest') {
  const [group] = resolveGroups(
    resolveModuleOptions({ brokers: ['b:9092'], groupId: 'g', autoOffsetReset }),
    handlers.map(({ name, ...metadata }) => ({ name, metadata: { batch: false, ...metadata } as KafkaHandlerMetadata, source: name })),
  );
  const existing = [...topics];
  return { subs: new TopicSubscriptions(group, { listTopics: async () => existing }, logger), existing };
}

describe('TopicSubscriptions', () => {
  it('subscribes explicit topics that exist and pattern matches, skipping internal topics, and names the missing', async () => {
    const { subs } = subscriptions(['orders', '__consumer_offsets', 'metrics.cpu', 'logs'], [
      { name: 'A.a', topics: ['orders', 'refunds'] },
      { name: 'B.b', topics: /^metrics\./ },
    ]);
    expect(await subs.resolve()).toEqual({ topics: ['orders', 'metrics.cpu'], missing: ['refunds'] });
    expect(subs.needsRefresh(['refunds'])).toBe(true);
  });

  it('groups topics by where they start: the handler first, then autoOffsetReset', () => {
    const { subs } = subscriptions([], [
      { name: 'A.a', topics: ['orders'], fromBeginning: true },
      { name: 'B.b', topics: ['audit'] },
    ], 'latest');
    expect(subs.byStart(['orders', 'audit'])).toEqual(new Map([[true, ['orders']], [false, ['audit']]]));
    expect(subs.all()).toEqual(['orders', 'audit']);
  });

  it('adds topics that appear later as pending, from their beginning, once each', async () => {
    const { subs, existing } = subscriptions(['metrics.cpu'], [{ name: 'B.b', topics: /^metrics\./ }], 'latest');
    subs.byStart((await subs.resolve()).topics);
    expect(await subs.refresh()).toEqual([]);
    existing.push('metrics.disk', 'other');
    expect(await subs.refresh()).toEqual(['metrics.disk']);
    expect(await subs.refresh()).toEqual([]);
    expect(subs.pending).toEqual(new Map([['metrics.disk', true]]));
  });

  it('does not route a topic two patterns claim, and says why', () => {
    const { subs } = subscriptions([], [
      { name: 'A.a', topics: /^a/ },
      { name: 'B.b', topics: /b$/ },
    ]);
    expect(subs.route('ab')).toBeUndefined();
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/topic ab is not consumed/));
  });
});
