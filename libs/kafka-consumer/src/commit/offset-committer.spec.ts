import { PartitionOffsetTracker } from '../offsets/partition-offset-tracker';
import { topicPartitionKey } from '../offsets/topic-partition-key';
import { CommittablePartition, OffsetCommitter, OffsetToCommit } from './offset-committer';

function setup(send: (offsets: OffsetToCommit[]) => Promise<void>, retriable = () => true) {
  const partitions = new Map<string, CommittablePartition>();
  const failures: unknown[] = [];
  const committer = new OffsetCommitter({
    partitions: () => partitions,
    send,
    retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
    isRetriable: retriable,
    onFailure: (error) => failures.push(error),
  });
  const track = (topic: string, partition: number, finished: number, limit?: bigint) => {
    const tracker = new PartitionOffsetTracker();
    for (let o = 0; o < finished; o++) {
      tracker.begin(String(o));
      tracker.finish(String(o));
    }
    partitions.set(topicPartitionKey(topic, partition), { tracker, limit });
    return tracker;
  };
  return { committer, partitions, failures, track };
}

/** A send that records every commit and holds the first one in flight until `release()`. */
function firstSendHeld() {
  const sent: OffsetToCommit[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const send = async (offsets: OffsetToCommit[]) => {
    sent.push(offsets);
    if (sent.length === 1) await gate;
  };
  return { sent, release, send };
}

describe('OffsetCommitter', () => {
  it('commits each partition\'s next offset and records it', async () => {
    const sent: OffsetToCommit[][] = [];
    const { committer, track } = setup(async (o) => void sent.push(o));
    const a = track('t', 0, 3);
    track('t', 1, 0);
    await committer.commit();
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: '3' }]]);
    expect(a.committedOffset).toBe(3n);
    await committer.commit();
    expect(sent).toHaveLength(1); // nothing new
  });

  it('joins requests made while one is queued, and reads offsets when it starts', async () => {
    const { sent, release, send } = firstSendHeld();
    const { committer, track } = setup(send);
    const t = track('t', 0, 1);
    const first = committer.commit();
    await Promise.resolve();
    t.begin('1');
    t.finish('1');
    const second = committer.commit();
    t.begin('2');
    t.finish('2');
    const third = committer.commit();
    expect(third).toBe(second);
    release();
    await Promise.all([first, second, third]);
    expect(sent.map((o) => o[0].offset)).toEqual(['1', '3']);
  });

  it('joinQueued adds a partition to the queued commit only when one is queued', async () => {
    const { sent, release, send } = firstSendHeld();
    const { committer, track } = setup(send);
    track('t', 0, 1);
    track('t', 1, 2);
    expect(committer.joinQueued(topicPartitionKey('t', 0))).toBe(false); // nothing queued: the caller commits
    const first = committer.commit([topicPartitionKey('t', 0)]);
    await Promise.resolve();
    const second = committer.commit([topicPartitionKey('t', 0)]);
    expect(committer.joinQueued(topicPartitionKey('t', 1))).toBe(true);
    release();
    await Promise.all([first, second]);
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: '1' }], [{ topic: 't', partition: 1, offset: '2' }]]);
  });

  it('never sends an offset below the last acknowledged one, even when the tracker is ahead later', async () => {
    const sent: string[] = [];
    const { committer, track } = setup(async (o) => void sent.push(o[0].offset));
    const t = track('t', 0, 5);
    t.markCommitted('7'); // acknowledged by a newer commit already
    await committer.commit();
    expect(sent).toEqual([]);
  });

  it('respects a manual limit', async () => {
    const sent: string[] = [];
    const { committer, track } = setup(async (o) => void sent.push(o[0].offset));
    track('t', 0, 5, 2n);
    await committer.commit();
    expect(sent).toEqual(['2']);
  });

  it('retries retriable failures with backoff, then succeeds', async () => {
    let calls = 0;
    const { committer, track, failures } = setup(async () => {
      calls += 1;
      if (calls < 3) throw Object.assign(new Error('coordinator not available'), { retriable: true });
    });
    const t = track('t', 0, 2);
    await committer.commit();
    expect(calls).toBe(3);
    expect(failures).toEqual([]);
    expect(t.committedOffset).toBe(2n);
  });

  it('surfaces a failure for good and keeps the offsets pending', async () => {
    const { committer, track, failures } = setup(
      async () => {
        throw new Error('rebalance');
      },
      () => false,
    );
    const t = track('t', 0, 2);
    await expect(committer.commit()).rejects.toThrow('rebalance');
    expect(failures).toHaveLength(1);
    expect(t.pendingCommit()).toBe(2n);
  });

  it('commits only the partitions asked for', async () => {
    const sent: OffsetToCommit[][] = [];
    const { committer, track } = setup(async (o) => void sent.push(o));
    track('t', 0, 1);
    track('t', 1, 1);
    await committer.commit([topicPartitionKey('t', 1)]);
    expect(sent).toEqual([[{ topic: 't', partition: 1, offset: '1' }]]);
  });

  it('commits a finished-ahead partition again when only its finished-ahead set grew, with the map as metadata', async () => {
    const sent: OffsetToCommit[][] = [];
    const partitions = new Map<string, CommittablePartition>();
    const committer = new OffsetCommitter({
      partitions: () => partitions,
      send: async (offsets) => void sent.push(offsets),
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
      isRetriable: () => false,
      onFailure: () => undefined,
      finishedAheadMetadata: (_key, offset, tracker) => `${offset}:${tracker.finishedAboveWatermark().join(',')}`,
    });
    const tracker = new PartitionOffsetTracker();
    partitions.set(topicPartitionKey('t', 0), { tracker, finishedAhead: true });
    for (let o = 0; o < 5; o++) tracker.begin(String(o));
    tracker.finish('0');
    await committer.commit();
    expect(sent.pop()).toEqual([{ topic: 't', partition: 0, offset: '1', metadata: '1:' }]);
    await committer.commit();
    expect(sent).toEqual([]); // nothing new
    tracker.finish('3');
    await committer.commit();
    expect(sent.pop()).toEqual([{ topic: 't', partition: 0, offset: '1', metadata: '1:3' }]);
    tracker.finish('1');
    tracker.finish('2');
    await committer.commit();
    expect(sent.pop()).toEqual([{ topic: 't', partition: 0, offset: '4', metadata: '4:' }]);
  });
});
