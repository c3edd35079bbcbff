import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { ResolvedHandler } from '../options/resolved-options';
import { PartitionRegistry } from './partition-registry';

const handler = (name: string, mode: 'record' | 'manual') => ({ name, commit: { mode } }) as unknown as ResolvedHandler<BoundMethod>;

describe('PartitionRegistry', () => {
  it('starts a new epoch on track: the old state no longer matches, and progress restarts', () => {
    const registry = new PartitionRegistry();
    const orders = handler('orders', 'record');
    const first = registry.track('orders 0', orders);
    first.tracker.begin('5');
    first.tracker.finish('5');
    expect(first.tracker.pendingCommit()).toBe(6n);
    const second = registry.track('orders 0', orders);
    expect(registry.get('orders 0')).toBe(second);
    expect(registry.get('orders 0')).not.toBe(first);
    expect(second.tracker.pendingCommit()).toBeUndefined();
  });

  it('gives a manual handler a commit limit of 0 until it acknowledges, and lists keys per handler', () => {
    const registry = new PartitionRegistry();
    const manual = handler('audit', 'manual');
    const record = handler('orders', 'record');
    expect(registry.track('audit 0', manual).limit).toBe(0n);
    expect(registry.track('orders 1', record).limit).toBeUndefined();
    registry.track('orders 0', record);
    expect(registry.keysOf(record)).toEqual(['orders 1', 'orders 0']);
    expect(registry.keysOf(manual)).toEqual(['audit 0']);
  });
});
