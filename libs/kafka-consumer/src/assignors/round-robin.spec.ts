import { roundRobinAssign } from './round-robin';

describe('roundRobinAssign', () => {
  it('A: deals partitions over sorted members', () => {
    const members = ['C3', 'C1', 'C2'].map((memberId) => ({ memberId, topics: ['T'] }));
    expect(roundRobinAssign(members, { T: 5 })).toEqual({ C1: { T: [0, 3] }, C2: { T: [1, 4] }, C3: { T: [2] } });
  });

  it('B: skips members not subscribed to the topic', () => {
    const members = [
      { memberId: 'C1', topics: ['T1', 'T2'] },
      { memberId: 'C2', topics: ['T1', 'T2'] },
      { memberId: 'C3', topics: ['T1'] },
    ];
    const result = roundRobinAssign(members, { T1: 6, T2: 2 });
    expect(result).toEqual({
      C1: { T1: [0, 3], T2: [0] },
      C2: { T1: [1, 4], T2: [1] },
      C3: { T1: [2, 5] },
    });
    expect(result.C3.T2).toBeUndefined();
  });

  it('D: circular order with skips over disjoint subscriptions', () => {
    const members = [
      { memberId: 'C1', topics: ['T1'] },
      { memberId: 'C2', topics: ['T2'] },
      { memberId: 'C3', topics: ['T1', 'T2'] },
    ];
    expect(roundRobinAssign(members, { T1: 5, T2: 5 })).toEqual({
      C1: { T1: [0, 2, 4] },
      C2: { T2: [0, 2, 4] },
      C3: { T1: [1, 3], T2: [1, 3] },
    });
  });

  it('returns an empty assignment for no members', () => {
    expect(roundRobinAssign([], { T: 3 })).toEqual({});
  });
});
