import { StickyMemberState } from '../assignors/sticky-member-state';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { PartitionRegistry } from '../offsets/partition-registry';
import type { RebalanceHookKind } from '../interfaces/rebalance.interface';
import type { ResolvedHandler } from '../options/resolved-options';
import { RebalanceCoordinator, RebalanceMember } from './rebalance-coordinator';

const handler = { name: 'H.h', commit: { mode: 'record' } } as ResolvedHandler<BoundMethod>;

/** An in-memory member: records, in order, every call the coordinator makes. */
function member(owned: string[] = [], options: { idle?: Promise<void> } = {}) {
  const calls: string[] = [];
  const map = new PartitionRegistry();
  for (const key of owned) map.track(key, handler);
  let stopping = false;
  const fake: RebalanceMember = {
    owned: map,
    route: (topic) => (topic === 'unrouted' ? undefined : handler),
    stopping: () => stopping,
    dropQueued: (keys) => void calls.push(`drop ${keys?.join(',') ?? 'all'}`),
    whenIdle: async (keys) => {
      calls.push(`idle ${keys?.join(',') ?? 'all'}`);
      await options.idle;
    },
    commit: async (keys) => void calls.push(`commit ${keys?.join(',') ?? 'all'}`),
    releasePauses: (keys) => void calls.push(`release ${keys.join(',')}`),
    runHooks: async (kind: RebalanceHookKind, keys) => void calls.push(`${kind} ${keys.join(',')}`),
  };
  return { fake, calls, stop: () => (stopping = true) };
}

function coordinator(fake: RebalanceMember, cooperative: boolean, sticky = new StickyMemberState(), drainTimeoutMs = 1_000) {
  return new RebalanceCoordinator({ groupId: 'g', cooperative, drainTimeoutMs, logger: { log: () => undefined, error: () => undefined, warn: () => undefined }, sticky }, fake);
}

describe('RebalanceCoordinator', () => {
  it('cooperative: before a join commits everything without draining; after it, only moved partitions reach drain, commit, state and hooks', async () => {
    const { fake, calls } = member(['t 0', 't 1']);
    const retained = fake.owned.get('t 0');
    const rebalance = coordinator(fake, true);
    await rebalance.beforeJoin(false, 1);
    await rebalance.afterJoin({ memberId: 'm', generationId: 2, assignment: { t: [0, 2] } });
    expect(calls).toEqual(['commit all', 'release t 1', 'drop t 1', 'idle t 1', 'commit t 1', 'revoked t 1', 'assigned t 2']);
    expect([...fake.owned.keys()]).toEqual(['t 0', 't 2']);
    expect(fake.owned.get('t 0')).toBe(retained); // records begun on it are not run again
  });

  it('eager: drains everything before the join and commits nothing for revoked partitions after it', async () => {
    const { fake, calls } = member(['t 0', 't 1']);
    const rebalance = coordinator(fake, false);
    await rebalance.beforeJoin(false, 1);
    await rebalance.afterJoin({ memberId: 'm', generationId: 2, assignment: { t: [0] } });
    expect(calls).toEqual(['idle all', 'commit all', 'release t 1', 'drop t 1', 'idle t 1', 'revoked t 1']);
  });

  it('a member the coordinator forgot loses everything: no commit, the lost hook, state cleared', async () => {
    const { fake, calls } = member(['t 0', 't 1']);
    const sticky = new StickyMemberState();
    sticky.update({ t: [0, 1] }, 3);
    await coordinator(fake, true, sticky).beforeJoin(true, 3);
    expect(calls).toEqual(['release t 0,t 1', 'drop all', 'lost t 0,t 1']);
    expect(fake.owned.size).toBe(0);
    expect(sticky.current).toEqual({});
  });

  it('asks to join again when a partition it claimed was withheld (cooperative hand-over), not when stopping', async () => {
    const sticky = new StickyMemberState();
    sticky.update({ t: [0, 1] }, 1);
    const { fake, stop } = member(['t 0', 't 1']);
    expect(await coordinator(fake, true, sticky).afterJoin({ memberId: 'm', generationId: 2, assignment: { t: [0] } })).toBe(true);
    expect(await coordinator(fake, true, sticky).afterJoin({ memberId: 'm', generationId: 3, assignment: { t: [0] } })).toBe(false);
    const eager = member(['t 0', 't 1']);
    const eagerSticky = new StickyMemberState();
    eagerSticky.update({ t: [0, 1] }, 1);
    expect(await coordinator(eager.fake, false, eagerSticky).afterJoin({ memberId: 'm', generationId: 2, assignment: { t: [0] } })).toBe(false);
    stop();
    sticky.update({ t: [0, 1] }, 4);
    fake.owned.track('t 1', handler);
    expect(await coordinator(fake, true, sticky).afterJoin({ memberId: 'm', generationId: 5, assignment: { t: [0] } })).toBe(false);
  });

  it('bounds the drain of revoked partitions by drainTimeoutMs, then gives them up anyway', async () => {
    const { fake, calls } = member(['t 0'], { idle: new Promise(() => undefined) });
    await coordinator(fake, true, new StickyMemberState(), 20).afterJoin({ memberId: 'm', generationId: 2, assignment: {} });
    expect(calls).toEqual(['release t 0', 'drop t 0', 'idle t 0', 'commit t 0', 'revoked t 0']);
    expect(fake.owned.size).toBe(0);
  });

  it('skips topics no handler routes', async () => {
    const { fake, calls } = member();
    await coordinator(fake, true).afterJoin({ memberId: 'm', generationId: 1, assignment: { unrouted: [0], t: [1] } });
    expect(calls).toEqual(['release ', 'assigned t 1']);
  });
});
