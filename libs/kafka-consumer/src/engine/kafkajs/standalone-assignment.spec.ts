import { StandaloneAssignment, StandaloneConsumerGroup } from './standalone-assignment';

/* eslint-disable @typescript-eslint/no-require-imports */
const SubscriptionState = require('kafkajs/src/consumer/subscriptionState');

/**
 * kafkajs's own SubscriptionState and OffsetManager, on a cluster whose
 * coordinators record the requests instead of sending them.
 */
function setup(options = { commitOffsets: true }) {
  const commits: Array<{ broker: number; payload: Record<string, unknown> }> = [];
  let coordinatorId = 1;
  const refuseNext: string[] = [];
  const coordinator = (id: number) => ({
    id,
    isConnected: () => true,
    offsetCommit: async (payload: Record<string, unknown>) => {
      const refusal = refuseNext.shift();
      if (refusal) throw Object.assign(new Error(refusal), { type: refusal, retriable: true });
      commits.push({ broker: id, payload });
    },
  });
  const committed = {};
  const cluster = {
    findGroupCoordinator: jest.fn(async () => coordinator(coordinatorId)),
    refreshMetadata: jest.fn(async () => undefined),
    refreshMetadataIfNecessary: jest.fn(async () => undefined),
    addMultipleTargetTopics: jest.fn(async () => undefined),
    committedOffsets: () => committed,
    fetchTopicsOffset: jest.fn(async (topics: Array<{ topic: string; partitions: Array<{ partition: number }> }>) =>
      topics.map(({ topic, partitions }) => ({ topic, partitions: partitions.map(({ partition }) => ({ partition, offset: '42' })) })),
    ),
  };
  const group = (): StandaloneConsumerGroup =>
    ({
      groupId: 'audit',
      memberId: null,
      generationId: null,
      leaderId: null,
      topics: ['orders'],
      topicConfigurations: { orders: { fromBeginning: true } },
      instrumentationEmitter: { emit: () => undefined },
      autoCommitInterval: null,
      autoCommitThreshold: null,
      coordinator: null,
      offsetManager: null,
      subscriptionState: new SubscriptionState(),
      cluster,
    }) as unknown as StandaloneConsumerGroup;
  const assignment = new StandaloneAssignment({ orders: [2, 0] }, options);
  return { assignment, group, cluster, commits, refuseNext, moveCoordinator: (id: number) => (coordinatorId = id) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const offsetsOf = (group: StandaloneConsumerGroup) => group.offsetManager as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const assignedOf = (group: StandaloneConsumerGroup) => (group.subscriptionState as any).assigned();

describe('StandaloneAssignment', () => {
  it('stands in for join and sync: the partitions, generation -1 and an empty member id, also on commits', async () => {
    const { assignment, group, commits } = setup();
    const g = group();
    expect(await assignment.apply(g)).toEqual({ memberId: '', generationId: -1, assignment: { orders: [0, 2] } });
    expect([g.memberId, g.generationId, g.topics]).toEqual(['', -1, ['orders']]);
    expect(assignedOf(g)).toEqual([{ topic: 'orders', partitions: [0, 2] }]);
    await offsetsOf(g).commitOffsets({ topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '5' }] }] });
    expect(commits).toEqual([
      { broker: 1, payload: { groupId: 'audit', memberId: '', groupGenerationId: -1, topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '5' }] }] } },
    ]);
  });

  it('adds partitions in place: the offset manager and the fetch positions of the others stay', async () => {
    const { assignment, group, cluster } = setup();
    const g = group();
    await assignment.apply(g);
    const offsets = offsetsOf(g);
    offsets.resolveOffset({ topic: 'orders', partition: 0, offset: '9' });
    await assignment.prepare(['orders', 'payments']);
    expect(cluster.addMultipleTargetTopics).toHaveBeenCalledWith(['payments']);
    expect(cluster.refreshMetadata).toHaveBeenCalled();
    assignment.add([{ topic: 'orders', partition: 1 }, { topic: 'payments', partition: 0 }], () => false);

    expect(offsetsOf(g)).toBe(offsets);
    expect(offsets.nextOffset('orders', 0).toString()).toBe('10');
    expect(offsets.memberAssignment).toEqual({ orders: [0, 1, 2], payments: [0] });
    expect(offsets.topics).toEqual(['orders', 'payments']);
    expect(assignedOf(g)).toEqual([{ topic: 'orders', partitions: [0, 1, 2] }, { topic: 'payments', partitions: [0] }]);
    expect(g.topicConfigurations).toEqual({ orders: { fromBeginning: true }, payments: { fromBeginning: false } });
    expect(assignment.partitions()).toEqual({ orders: [0, 1, 2], payments: [0] });

    // kafkajs joining again on the same consumer group (after some fetch errors) keeps the positions;
    // a new consumer group (a restarted consumer) starts over from the committed offsets.
    await assignment.apply(g);
    expect(offsetsOf(g)).toBe(offsets);
    const restarted = group();
    await assignment.apply(restarted);
    expect(offsetsOf(restarted)).not.toBe(offsets);
    expect(assignedOf(restarted)).toEqual([{ topic: 'orders', partitions: [0, 1, 2] }, { topic: 'payments', partitions: [0] }]);
  });

  it('a commit refused by a moved coordinator looks it up again, so the retry goes to the new one', async () => {
    const { assignment, group, commits, refuseNext, moveCoordinator } = setup();
    const g = group();
    await assignment.apply(g);
    moveCoordinator(2);
    refuseNext.push('NOT_COORDINATOR_FOR_GROUP');
    const offsets = { topics: [{ topic: 'orders', partitions: [{ partition: 2, offset: '3' }] }] };
    await expect(offsetsOf(g).commitOffsets(offsets)).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    await offsetsOf(g).commitOffsets(offsets);
    expect(commits.map((c) => c.broker)).toEqual([2]);
  });

  it('with commitOffsets: false, an out-of-range reset moves the position without committing it', async () => {
    const { assignment, group, commits } = setup({ commitOffsets: false });
    const g = group();
    await assignment.apply(g);
    await offsetsOf(g).setDefaultOffset({ topic: 'orders', partition: 2 });
    expect(commits).toEqual([]);
    expect(offsetsOf(g).nextOffset('orders', 2).toString()).toBe('42');
  });
});
