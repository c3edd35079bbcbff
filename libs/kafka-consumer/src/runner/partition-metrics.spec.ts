import { partitionMetrics } from './partition-metrics';
import { freshPartitionState } from '../offsets/partition-state';
import type { ResolvedHandler } from '../options/resolved-options';
import type { BoundMethod } from '../interfaces/bound-method.interface';

const handler = { name: 'Orders.handle', commit: { mode: 'record' } } as ResolvedHandler<BoundMethod>;

describe('partitionMetrics', () => {
  it('computes lag from the committed offset, else from the committable one, and takes pool counts when there is a pool', () => {
    const a = freshPartitionState(handler);
    a.highWatermark = '100';
    for (const offset of ['0', '1', '2']) {
      a.tracker.begin(offset);
      a.tracker.finish(offset);
    }
    const b = freshPartitionState(handler);
    b.highWatermark = '10';
    b.tracker.begin('5');
    const owned = new Map([
      ['orders 0', a],
      ['orders 1', b],
    ]);
    const pool = { partitionMetrics: (key: string) => (key === 'orders 0' ? { queued: 4, running: 2, completed: 3 } : undefined) };
    const metrics = partitionMetrics(owned, () => pool, (key) => key === 'orders 1');
    expect(metrics[0]).toEqual({
      topic: 'orders', partition: 0, handler: 'Orders.handle', queued: 4, running: 2, completed: 3, pausedForBackpressure: false,
      committedOffset: undefined, committableOffset: '3', highWatermark: '100', lag: 97, finishedAhead: 0, skippedOnAssignment: 0,
    });
    // No pool counts: one record in flight shows as running; nothing finished yet, so no lag base.
    expect(metrics[1]).toMatchObject({ partition: 1, queued: 0, running: 1, completed: 0, pausedForBackpressure: true, lag: undefined });
  });
});
