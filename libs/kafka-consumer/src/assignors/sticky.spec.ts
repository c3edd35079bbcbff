import type { GroupMemberSubscription } from './assignment.types';
import { roundRobinAssign } from './round-robin';
import { stickyAssign } from './sticky';

describe('stickyAssign', () => {
  const onT = (previous: Record<string, number[] | undefined>, generation?: number) =>
    Object.entries(previous).map(([memberId, partitions]) => ({
      memberId,
      topics: ['T'],
      previous: partitions && { T: partitions },
      generation,
    }));

  it('A: without previous data equals round-robin', () => {
    const members = onT({ C1: undefined, C2: undefined, C3: undefined });
    expect(stickyAssign(members, { T: 5 })).toEqual({ C1: { T: [0, 3] }, C2: { T: [1, 4] }, C3: { T: [2] } });
    expect(stickyAssign(members, { T: 5 })).toEqual(roundRobinAssign(members, { T: 5 }));
  });

  it('C: a leaving member’s partition moves, nothing else does', () => {
    expect(stickyAssign(onT({ C1: [0, 3], C2: [1, 4] }), { T: 5 })).toEqual({ C1: { T: [0, 3] }, C2: { T: [1, 2, 4] } });
  });

  it('a joining member takes exactly one partition from an over-quota member', () => {
    const result = stickyAssign(onT({ C1: [0, 3], C2: [1, 4], C3: [2], C4: undefined }), { T: 5 });
    expect(result).toEqual({ C1: { T: [0] }, C2: { T: [1, 4] }, C3: { T: [2] }, C4: { T: [3] } });
  });

  it('is stable: its own output fed back changes nothing', () => {
    const first = stickyAssign(onT({ C1: [4], C2: [0, 1, 2, 3, 5, 6], C3: undefined }), { T: 7 });
    const again = stickyAssign(onT(Object.fromEntries(Object.entries(first).map(([m, a]) => [m, a.T]))), { T: 7 });
    expect(again).toEqual(first);
  });

  it('gives a doubly claimed partition to the higher generation, else the first member by id', () => {
    const members = (g1: number, g2: number) => [
      { memberId: 'C2', topics: ['T'], previous: { T: [1] }, generation: g2 },
      { memberId: 'C1', topics: ['T'], previous: { T: [1] }, generation: g1 },
    ];
    expect(stickyAssign(members(3, 3), { T: 3 })).toEqual({ C1: { T: [1, 2] }, C2: { T: [0] } });
    expect(stickyAssign(members(3, 4), { T: 3 })).toEqual({ C1: { T: [0] }, C2: { T: [1, 2] } });
  });

  it('ignores previous partitions that vanished or are no longer subscribed', () => {
    const members: GroupMemberSubscription[] = [
      { memberId: 'C1', topics: ['T'], previous: { T: [0, 7, -1, 1.5], Gone: [0], U: [0] } },
      { memberId: 'C2', topics: ['T', 'U'], previous: { T: [1] } },
    ];
    expect(stickyAssign(members, { T: 2, U: 1 })).toEqual({ C1: { T: [0] }, C2: { T: [1], U: [0] } });
  });

  it('balances unequal subscriptions', () => {
    const members: GroupMemberSubscription[] = [
      { memberId: 'C1', topics: ['T1', 'T2'] },
      { memberId: 'C2', topics: ['T1'] },
    ];
    expect(stickyAssign(members, { T1: 2, T2: 2 })).toEqual({ C1: { T2: [0, 1] }, C2: { T1: [0, 1] } });
  });

  it('balances through a chain when the heavy member cannot reach the light one directly', () => {
    const members: GroupMemberSubscription[] = [
      { memberId: 'C1', topics: ['A'], previous: { A: [0, 1, 2] } },
      { memberId: 'C2', topics: ['A', 'B'], previous: { B: [0, 1] } },
      { memberId: 'C3', topics: ['B'], previous: { B: [2] } },
    ];
    expect(stickyAssign(members, { A: 3, B: 3 })).toEqual({
      C1: { A: [0, 1] },
      C2: { A: [2], B: [0] },
      C3: { B: [1, 2] },
    });
  });

  it('passes on a partition that is moving anyway before a kept one', () => {
    // B1 and B2 are unowned: B2 lands on C2 (ties to the keeper of B0), then C2 relays for C1.
    const members: GroupMemberSubscription[] = [
      { memberId: 'C1', topics: ['A'], previous: { A: [0, 1, 2] } },
      { memberId: 'C2', topics: ['A', 'B'], previous: { B: [0] } },
      { memberId: 'C3', topics: ['B'] },
    ];
    expect(stickyAssign(members, { A: 3, B: 3 })).toEqual({
      C1: { A: [0, 1] },
      C2: { A: [2], B: [0] },
      C3: { B: [1, 2] },
    });
  });

  it('returns an empty assignment for no members', () => {
    expect(stickyAssign([], { T: 3 })).toEqual({});
  });
});
