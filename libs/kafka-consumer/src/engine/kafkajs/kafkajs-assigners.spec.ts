import { AssignerProtocol } from 'kafkajs';
import type { Assigner, Cluster, GroupMember, Logger, PartitionAssigner } from 'kafkajs';
import {
  CooperativeStickyAssignor,
  createCooperativeStickyAssignor,
  createStickyAssignor,
  RangeAssignor,
  RoundRobinAssignor,
  StickyAssignor,
} from './kafkajs-assigners';
import { decodeStickyUserData, encodeStickyUserData, StickyMemberState } from '../../assignors/sticky-member-state';

type Counts = Record<string, number>;

function fakeCluster(counts: Counts, extra: Partial<Cluster> = {}): Cluster {
  const findTopicPartitionMetadata = (topic: string) =>
    Array.from({ length: counts[topic] ?? 0 }, (_, partitionId) => ({ partitionId }));
  return { findTopicPartitionMetadata, ...extra } as unknown as Cluster;
}

const logger = { warn: jest.fn() } as unknown as Logger;

function create(factory: PartitionAssigner, cluster: Cluster): Assigner {
  return factory({ cluster, groupId: 'g', logger });
}

function member(memberId: string, topics: string[], userData: Buffer = Buffer.alloc(0)): GroupMember {
  return { memberId, memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData }) };
}

async function run(assigner: Assigner, members: GroupMember[], leaderTopics = ['T']) {
  const encoded = await assigner.assign({ members, topics: leaderTopics });
  return Object.fromEntries(
    encoded.map(({ memberId, memberAssignment }) => [
      memberId,
      AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment,
    ]),
  );
}

describe('kafkajs assigners', () => {
  it("use Java's protocol names for range and roundrobin, names of their own for the module's sticky assignors", () => {
    const cluster = fakeCluster({});
    const factories = [RangeAssignor, RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor];
    expect(factories.map((f) => create(f, cluster).name)).toEqual(['range', 'roundrobin', 'nestjs-sticky', 'nestjs-cooperative-sticky']);
  });

  it('range: each member’s own subscription decides (example D)', async () => {
    const members = [member('C3', ['T1', 'T2']), member('C1', ['T1']), member('C2', ['T2'])];
    // The leader passes only its own topics; the other members' topics must still be assigned.
    expect(await run(create(RangeAssignor, fakeCluster({ T1: 5, T2: 5 })), members, ['T1'])).toEqual({
      C1: { T1: [0, 1, 2] },
      C2: { T2: [0, 1, 2] },
      C3: { T1: [3, 4], T2: [3, 4] },
    });
  });

  it('roundrobin: never assigns a topic the member did not subscribe to (example B)', async () => {
    const members = [member('C1', ['T1', 'T2']), member('C2', ['T1', 'T2']), member('C3', ['T1'])];
    const result = await run(create(RoundRobinAssignor, fakeCluster({ T1: 6, T2: 2 })), members);
    expect(result).toEqual({ C1: { T1: [0, 3], T2: [0] }, C2: { T1: [1, 4], T2: [1] }, C3: { T1: [2, 5] } });
  });

  it('answers every member, including one with unreadable metadata', async () => {
    const members = [member('C1', ['T']), { memberId: 'C2', memberMetadata: Buffer.from([1]) }];
    expect(await run(create(RangeAssignor, fakeCluster({ T: 2 })), members)).toEqual({ C1: { T: [0, 1] }, C2: {} });
  });

  it('fetches metadata for topics only other members subscribe to', async () => {
    const counts: Counts = { T: 1 };
    const addMultipleTargetTopics = jest.fn(async (topics: string[]) => {
      for (const t of topics) counts[t] = 2;
    });
    const assigner = create(RangeAssignor, fakeCluster(counts, { addMultipleTargetTopics }));
    const result = await run(assigner, [member('C1', ['T']), member('C2', ['U'])]);
    expect(addMultipleTargetTopics).toHaveBeenCalledWith(['U']);
    expect(result).toEqual({ C1: { T: [0] }, C2: { U: [0, 1] } });
  });

  describe('sticky', () => {
    const userData = (assignment: Record<string, number[]>, generation = 1) =>
      encodeStickyUserData({ assignment, generation });

    it('protocol() reports the state’s current assignment in userData', () => {
      const state = new StickyMemberState();
      const assigner = create(createStickyAssignor(state), fakeCluster({}));
      const empty = AssignerProtocol.MemberMetadata.decode(assigner.protocol({ topics: ['T'] }).metadata);
      expect(empty?.userData).toHaveLength(0);

      state.update({ T: [3, 0] }, 5);
      const { name, metadata } = assigner.protocol({ topics: ['T'] });
      const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
      expect(name).toBe('nestjs-sticky');
      expect(decoded?.topics).toEqual(['T']);
      expect(decodeStickyUserData(decoded?.userData)).toEqual({ assignment: { T: [0, 3] }, generation: 5 });
    });

    it('initial assignment equals round-robin (example A), also for cooperative-sticky', async () => {
      const members = ['C1', 'C2', 'C3'].map((id) => member(id, ['T']));
      const expected = { C1: { T: [0, 3] }, C2: { T: [1, 4] }, C3: { T: [2] } };
      expect(await run(create(StickyAssignor, fakeCluster({ T: 5 })), members)).toEqual(expected);
      expect(await run(create(createCooperativeStickyAssignor(), fakeCluster({ T: 5 })), members)).toEqual(expected);
    });

    it('keeps owners from userData when a member leaves (example C)', async () => {
      const members = [member('C1', ['T'], userData({ T: [0, 3] })), member('C2', ['T'], userData({ T: [1, 4] }))];
      expect(await run(create(StickyAssignor, fakeCluster({ T: 5 })), members)).toEqual({
        C1: { T: [0, 3] },
        C2: { T: [1, 2, 4] },
      });
    });

    it('treats garbage userData as no previous assignment', async () => {
      const members = ['C1', 'C2', 'C3'].map((id) => member(id, ['T'], Buffer.from('not json')));
      expect(await run(create(StickyAssignor, fakeCluster({ T: 5 })), members)).toEqual({
        C1: { T: [0, 3] },
        C2: { T: [1, 4] },
        C3: { T: [2] },
      });
    });

    it('a stable leader stays sticky for members that send no userData', async () => {
      const assigner = create(StickyAssignor, fakeCluster({ T: 6 }));
      await run(assigner, ['C1', 'C2', 'C3'].map((id) => member(id, ['T'])));
      expect(await run(assigner, ['C1', 'C3'].map((id) => member(id, ['T'])))).toEqual({
        C1: { T: [0, 1, 3] },
        C3: { T: [2, 4, 5] },
      });
    });

    it('cooperative-sticky withholds only what a member itself claims, never what the leader merely remembers assigning', async () => {
      // Seen on Kafka: the leader assigned all of T to C1, whose SyncGroup then lost to C2's join,
      // so C1 never owned anything and sends no userData. Withholding on the leader's memory gave
      // C2 nothing while C1, revoking nothing, never joined a second round: half of T unread.
      const assigner = create(createCooperativeStickyAssignor(), fakeCluster({ T: 8 }));
      expect(await run(assigner, [member('C1', ['T'])])).toEqual({ C1: { T: [0, 1, 2, 3, 4, 5, 6, 7] } });
      const next = await run(assigner, [member('C1', ['T']), member('C2', ['T'])]);
      expect(Object.values(next).flatMap((a) => a?.T ?? []).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(next.C2?.T?.length).toBe(4);
      // A real claim still withholds: C1 owns all of T and says so, so C2 waits for the second round.
      const claimed = await run(assigner, [member('C1', ['T'], userData({ T: [0, 1, 2, 3, 4, 5, 6, 7] })), member('C2', ['T'])]);
      expect(claimed.C2).toEqual({ T: [] });
    });

    it('gives each factory call its own state', () => {
      const state = new StickyMemberState();
      state.update({ T: [0] }, 1);
      create(createStickyAssignor(state), fakeCluster({}));
      const fresh = create(StickyAssignor, fakeCluster({}));
      const decoded = AssignerProtocol.MemberMetadata.decode(fresh.protocol({ topics: ['T'] }).metadata);
      expect(decoded?.userData).toHaveLength(0);
    });
  });
});
