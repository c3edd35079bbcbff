import { ListedPartition, partitionsToAdd, planStandalone } from './standalone-partitions';

const listed = (count: number, leaderless: number[] = []): ListedPartition[] =>
  Array.from({ length: count }, (_, partition) => ({ partition, leader: leaderless.includes(partition) ? -1 : 1 }));

describe('planStandalone', () => {
  const metadata = new Map([
    ['orders', listed(4)],
    ['refunds', listed(3, [2])],
  ]);

  it('takes the given partitions of a topic and every partition of a topic read in full', () => {
    const plan = planStandalone([{ topic: 'orders', partitions: [0, 2] }, { topic: 'refunds' }], metadata, false);
    expect(plan).toEqual({ assignment: { orders: [0, 2], refunds: [0, 1, 2] }, missing: [], waiting: [] });
  });

  it('reports given partitions that do not exist, and missing topics without discovery', () => {
    const plan = planStandalone([{ topic: 'orders', partitions: [3, 7] }, { topic: 'payments' }], metadata, false);
    expect(plan).toEqual({ assignment: { orders: [3] }, missing: ['orders[7]', 'payments'], waiting: [] });
  });

  it('with discovery, waits for missing topics and for partitions without a leader', () => {
    const plan = planStandalone([{ topic: 'refunds' }, { topic: 'payments' }], metadata, true);
    expect(plan).toEqual({ assignment: { refunds: [0, 1] }, missing: [], waiting: ['refunds[2]', 'payments'] });
  });
});

describe('partitionsToAdd', () => {
  it('finds partitions added to topics read in full, once they have a leader', () => {
    const assign = [{ topic: 'orders' }, { topic: 'refunds', partitions: [0] }, { topic: 'payments' }];
    const grown = new Map([
      ['orders', listed(6, [5])],
      ['refunds', listed(8)],
      ['payments', listed(2)],
    ]);
    expect(partitionsToAdd(assign, grown, { orders: [0, 1, 2, 3], refunds: [0] })).toEqual([
      { topic: 'orders', partition: 4 },
      { topic: 'payments', partition: 0 },
      { topic: 'payments', partition: 1 },
    ]);
  });

  it('finds nothing when the topics did not change', () => {
    expect(partitionsToAdd([{ topic: 'orders' }], new Map([['orders', listed(2)]]), { orders: [0, 1] })).toEqual([]);
  });
});
