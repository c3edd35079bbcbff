import { revokedPartitions, withholdMovingPartitions } from './cooperative';
import { stickyAssign } from './sticky';

describe('withholdMovingPartitions', () => {
  it('withholds the partitions that move from A to a joining B, keeps the rest', () => {
    const members = [
      { memberId: 'A', topics: ['t'], previous: { t: [0, 1, 2, 3] }, generation: 1 },
      { memberId: 'B', topics: ['t'] },
    ];
    const target = stickyAssign(members, { t: 4 });
    const first = withholdMovingPartitions(members, target);
    const moving = target.B.t;
    expect(moving).toHaveLength(2);
    expect(first.A.t).toEqual(target.A.t);
    expect(first.B.t).toEqual([]);

    // Second round: A now claims only what it kept, so B gets the rest.
    const second = [
      { memberId: 'A', topics: ['t'], previous: first.A, generation: 2 },
      { memberId: 'B', topics: ['t'], previous: first.B, generation: 2 },
    ];
    const final = withholdMovingPartitions(second, stickyAssign(second, { t: 4 }));
    expect(final.A.t).toEqual(target.A.t);
    expect(final.B.t).toEqual(moving);
  });

  it('gives the partitions of a member that left straight to their new owners', () => {
    const members = [
      { memberId: 'A', topics: ['t'], previous: { t: [0, 1] }, generation: 3 },
      { memberId: 'B', topics: ['t'], previous: { t: [2, 3] }, generation: 3 },
    ];
    // C owned 4 and 5 and is gone: no claim, nothing withheld.
    const target = stickyAssign(members, { t: 6 });
    expect(withholdMovingPartitions(members, target)).toEqual(target);
  });

  it('lists revoked partitions per topic', () => {
    expect(revokedPartitions({ t: [0, 1, 2], u: [0] }, { t: [1] })).toEqual({ t: [0, 2], u: [0] });
    expect(revokedPartitions({ t: [0] }, { t: [0] })).toEqual({});
  });
});
