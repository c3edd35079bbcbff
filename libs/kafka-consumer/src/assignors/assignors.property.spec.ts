import type { Assignment, GroupMemberSubscription, TopicPartitionCounts } from './assignment.types';
import { rangeAssign } from './range';
import { roundRobinAssign } from './round-robin';
import { stickyAssign } from './sticky';
import { seededRandom as prng } from '../../../../test/support/seeded-random';

const int = (rng: () => number, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const shuffle = <T>(rng: () => number, xs: T[]) => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(rng, 0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

interface Group {
  members: GroupMemberSubscription[];
  counts: TopicPartitionCounts;
}

function randomGroup(rng: () => number, equalSubscriptions: boolean, memberIds?: string[]): Group {
  const topics = Array.from({ length: int(rng, 1, 4) }, (_, i) => `T${i}`);
  const counts = Object.fromEntries(topics.map((t) => [t, int(rng, 0, 9)]));
  const ids = memberIds ?? Array.from({ length: int(rng, 1, 6) }, (_, i) => `M${i}`);
  const subscription = () => (equalSubscriptions ? topics : topics.filter(() => rng() < 0.6));
  return { counts, members: shuffle(rng, ids).map((memberId) => ({ memberId, topics: subscription() })) };
}

/** Every partition of every subscribed topic exactly once, to a subscriber; every member present. */
function expectValid(result: Assignment, { members, counts }: Group): void {
  expect(Object.keys(result).sort()).toEqual([...new Set(members.map((m) => m.memberId))].sort());
  const owners = new Map<string, number>();
  for (const m of members) {
    for (const [topic, partitions] of Object.entries(result[m.memberId])) {
      expect(m.topics).toContain(topic);
      for (const p of partitions) {
        expect(p >= 0 && p < counts[topic]).toBe(true);
        owners.set(`${topic} ${p}`, (owners.get(`${topic} ${p}`) ?? 0) + 1);
      }
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics));
  const expected = [...subscribed].reduce((n, t) => n + counts[t], 0);
  expect(owners.size).toBe(expected);
  expect([...owners.values()].every((n) => n === 1)).toBe(true);
}

const loads = (result: Assignment) =>
  Object.values(result).map((a) => Object.values(a).reduce((n, ps) => n + ps.length, 0));
const spread = (result: Assignment) => Math.max(...loads(result)) - Math.min(...loads(result));

/** Smallest achievable maximum load, by max-flow source -> topic -> subscriber -> sink(cap L). */
function optimalMaxLoad({ members, counts }: Group): number {
  const topics = [...new Set(members.flatMap((m) => m.topics))];
  const total = topics.reduce((n, t) => n + counts[t], 0);
  const size = 2 + topics.length + members.length;
  for (let limit = 0; ; limit++) {
    const cap = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    topics.forEach((t, i) => {
      cap[0][2 + i] = counts[t];
      members.forEach((m, j) => {
        if (m.topics.includes(t)) cap[2 + i][2 + topics.length + j] = total;
      });
    });
    members.forEach((_, j) => (cap[2 + topics.length + j][1] = limit));
    let flow = 0;
    for (;;) {
      const parent = new Array<number>(size).fill(-1);
      parent[0] = 0;
      const queue = [0];
      while (queue.length > 0 && parent[1] < 0) {
        const u = queue.shift() as number;
        for (let v = 0; v < size; v++) if (parent[v] < 0 && cap[u][v] > 0) (parent[v] = u), queue.push(v);
      }
      if (parent[1] < 0) break;
      let push = Infinity;
      for (let v = 1; v !== 0; v = parent[v]) push = Math.min(push, cap[parent[v]][v]);
      for (let v = 1; v !== 0; v = parent[v]) (cap[parent[v]][v] -= push), (cap[v][parent[v]] += push);
      flow += push;
    }
    if (flow === total) return limit;
  }
}

/** Fewest moves any balanced result needs when subscriptions are equal (see expectation below). */
function minimalMoves(previous: Assignment, group: Group): number {
  const present = new Set(group.members.map((m) => m.memberId));
  const total = Object.values(group.counts).reduce((a, b) => a + b, 0);
  const n = group.members.length;
  const [minQuota, extras] = [Math.floor(total / n), total % n];
  let gone = 0;
  const kept: number[] = [];
  for (const [memberId, topics] of Object.entries(previous)) {
    const owned = Object.values(topics).reduce((k, ps) => k + ps.length, 0);
    if (present.has(memberId)) kept.push(owned);
    else gone += owned;
  }
  // Quota minQuota each, plus one for the `extras` members that previously owned the most.
  kept.sort((a, b) => b - a);
  return gone + kept.reduce((moves, owned, i) => moves + Math.max(0, owned - minQuota - (i < extras ? 1 : 0)), 0);
}

function movedCount(previous: Assignment, next: Assignment): number {
  const owner = new Map<string, string>();
  for (const [m, topics] of Object.entries(next)) {
    for (const [t, ps] of Object.entries(topics)) for (const p of ps) owner.set(`${t} ${p}`, m);
  }
  let moved = 0;
  for (const [m, topics] of Object.entries(previous)) {
    for (const [t, ps] of Object.entries(topics)) for (const p of ps) if (owner.get(`${t} ${p}`) !== m) moved++;
  }
  return moved;
}

/** Random valid (usually unbalanced) previous ownership, as if left by some earlier rebalance. */
function randomPrevious(rng: () => number, group: Group): Assignment {
  const previous: Assignment = Object.fromEntries(group.members.map((m) => [m.memberId, {}]));
  for (const [topic, count] of Object.entries(group.counts)) {
    const owners = group.members.filter((m) => m.topics.includes(topic));
    for (let p = 0; p < count && owners.length > 0; p++) {
      if (rng() < 0.2) continue; // unowned, e.g. added since
      const owner = owners[int(rng, 0, Math.min(owners.length - 1, int(rng, 0, owners.length)))].memberId;
      (previous[owner][topic] ??= []).push(p);
    }
  }
  return previous;
}

/** Removes some members, adds new ones without previous data, feeds previous ownership back. */
function changeMembership(rng: () => number, group: Group, previous: Assignment, equalSubscriptions: boolean): Group {
  const staying = group.members.filter(() => rng() < 0.7);
  const joining = Array.from({ length: int(rng, staying.length === 0 ? 1 : 0, 3) }, (_, i) => `N${i}`);
  const topics = Object.keys(group.counts);
  const fresh = joining.map((memberId) => ({
    memberId,
    topics: equalSubscriptions ? topics : topics.filter(() => rng() < 0.6),
  }));
  const members = shuffle(rng, [
    ...staying.map((m) => ({ ...m, previous: previous[m.memberId] })),
    ...fresh,
  ]);
  return { members, counts: group.counts };
}

const CASES = 200;

/** Runs `check` for seeds 1..CASES; a failure names its seed so it can be replayed alone. */
function forEachSeed(check: (seed: number) => void): void {
  for (let seed = 1; seed <= CASES; seed++) {
    try {
      check(seed);
    } catch (error) {
      throw new Error(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

describe.each([
  ['range', rangeAssign],
  ['round-robin', roundRobinAssign],
  ['sticky', stickyAssign],
])('%s properties', (_name, assign) => {
  it('valid for random subscriptions, whatever the input order', () => forEachSeed((seed) => {
    const rng = prng(seed);
    const group = randomGroup(rng, false);
    const previous = randomPrevious(rng, group);
    const members = group.members.map((m) => ({ ...m, previous: previous[m.memberId] }));
    const result = assign(members, group.counts);
    expectValid(result, group);
    const reordered = shuffle(rng, members).map((m) => ({
      ...m,
      topics: shuffle(rng, m.topics),
      previous: Object.fromEntries(shuffle(rng, Object.entries(m.previous)).map(([t, ps]) => [t, shuffle(rng, ps)])),
    }));
    expect(assign(reordered, group.counts)).toEqual(result);
  }));
});

describe('round-robin and sticky balance', () => {
  it('equal subscriptions differ by at most 1, and sticky starts as round-robin', () => forEachSeed((seed) => {
    const group = randomGroup(prng(seed), true);
    const roundRobin = roundRobinAssign(group.members, group.counts);
    expect(spread(roundRobin)).toBeLessThanOrEqual(1);
    expect(stickyAssign(group.members, group.counts)).toEqual(roundRobin);
  }));

  it('sticky reaches the optimal maximum load for unequal subscriptions', () => forEachSeed((seed) => {
    const rng = prng(seed);
    const group = randomGroup(rng, false);
    const previous = randomPrevious(rng, group);
    const withPrevious = { ...group, members: group.members.map((m) => ({ ...m, previous: previous[m.memberId] })) };
    for (const g of [group, withPrevious]) {
      const result = stickyAssign(g.members, g.counts);
      expectValid(result, g);
      expect(Math.max(...loads(result))).toBe(optimalMaxLoad(g));
    }
  }));
});

describe('sticky after a membership change', () => {
  it('equal subscriptions move exactly the unavoidable partitions', () => forEachSeed((seed) => {
    const rng = prng(seed);
    const before = randomGroup(rng, true);
    const previous = rng() < 0.5 ? stickyAssign(before.members, before.counts) : randomPrevious(rng, before);
    const after = changeMembership(rng, before, previous, true);
    const result = stickyAssign(after.members, after.counts);
    expectValid(result, after);
    expect(spread(result)).toBeLessThanOrEqual(1);
    expect(movedCount(previous, result)).toBe(minimalMoves(previous, after));
  }));

  it('unequal subscriptions stay valid, optimal and stable', () => forEachSeed((seed) => {
    const rng = prng(seed);
    const before = randomGroup(rng, false);
    const previous = rng() < 0.5 ? stickyAssign(before.members, before.counts) : randomPrevious(rng, before);
    const after = changeMembership(rng, before, previous, false);
    const result = stickyAssign(after.members, after.counts);
    expectValid(result, after);
    expect(Math.max(...loads(result))).toBe(optimalMaxLoad(after));
    // Fed its own result back, nothing moves.
    const again = stickyAssign(
      after.members.map((m) => ({ ...m, previous: result[m.memberId] })),
      after.counts,
    );
    expect(again).toEqual(result);
  }));
});
