import { rangeAssign } from './range';

describe('rangeAssign', () => {
  const all = (topics: string[]) => ['C1', 'C2', 'C3'].map((memberId) => ({ memberId, topics }));

  it('A: splits one topic into contiguous ranges, extras first', () => {
    expect(rangeAssign(all(['T']), { T: 5 })).toEqual({ C1: { T: [0, 1] }, C2: { T: [2, 3] }, C3: { T: [4] } });
  });

  it('B: ranges per topic over that topic’s subscribers', () => {
    const members = [
      { memberId: 'C1', topics: ['T1', 'T2'] },
      { memberId: 'C2', topics: ['T1', 'T2'] },
      { memberId: 'C3', topics: ['T1'] },
    ];
    expect(rangeAssign(members, { T1: 6, T2: 2 })).toEqual({
      C1: { T1: [0, 1], T2: [0] },
      C2: { T1: [2, 3], T2: [1] },
      C3: { T1: [4, 5] },
    });
  });

  it('D: disjoint subscriptions', () => {
    const members = [
      { memberId: 'C1', topics: ['T1'] },
      { memberId: 'C2', topics: ['T2'] },
      { memberId: 'C3', topics: ['T1', 'T2'] },
    ];
    expect(rangeAssign(members, { T1: 5, T2: 5 })).toEqual({
      C1: { T1: [0, 1, 2] },
      C2: { T2: [0, 1, 2] },
      C3: { T1: [3, 4], T2: [3, 4] },
    });
  });

  it('does not depend on member or topic input order', () => {
    const members = [
      { memberId: 'C3', topics: ['T2', 'T1'] },
      { memberId: 'C1', topics: ['T1'] },
      { memberId: 'C2', topics: ['T2'] },
    ];
    expect(rangeAssign(members, { T2: 5, T1: 5 })).toEqual(rangeAssign([...members].reverse(), { T1: 5, T2: 5 }));
  });

  it('keeps members without partitions and ignores topics without partitions', () => {
    expect(rangeAssign(all(['T', 'missing', 'empty']), { T: 2, empty: 0 })).toEqual({
      C1: { T: [0] },
      C2: { T: [1] },
      C3: {},
    });
  });

  it('treats a topic named __proto__ as data', () => {
    const result = rangeAssign([{ memberId: 'C1', topics: ['__proto__'] }], { ['__proto__']: 1 });
    expect(Object.keys(result.C1)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.C1)).toBe(Object.prototype);
  });
});
