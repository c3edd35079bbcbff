import type { FetchedRecord } from '../engine/consumer-engine';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { finishRecord } from '../offsets/partition-state';
import { PartitionRegistry } from '../offsets/partition-registry';
import { resolveGroups, resolveModuleOptions } from '../options/resolve-options';
import { Backpressure, resumeDrained } from './backpressure';
import type { BatchLoop } from './batch-loop';
import { HandlerRuntimes } from './handler-runtimes';
import type { PooledServices } from './pooled-dispatcher';

/** Three handlers of one group: record by record, batch, and a pool of 2; each logs what it got. */
function runtimes(gate: Promise<void> = Promise.resolve()) {
  const seen: string[] = [];
  const handler = (name: string, topic: string, metadata: Partial<KafkaHandlerMetadata>, source: BoundMethod) => ({
    name,
    metadata: { topics: topic, batch: false, deserializer: 'string', commit: 'batch', ...metadata } as KafkaHandlerMetadata,
    source,
  });
  const [group] = resolveGroups(resolveModuleOptions({ brokers: ['b:9092'], groupId: 'g' }), [
    handler('seq', 'a', {}, (v) => void seen.push(`seq ${v}`)),
    handler('chunks', 'b', { batch: true }, (records) => void seen.push(`chunks ${(records as unknown[]).length}`)),
    handler('pool', 'c', { concurrency: 2, maxQueuedRecords: 4 }, async (v) => {
      await gate;
      seen.push(`pool ${v}`);
    }),
  ]);
  const services: PooledServices = {
    loopStarted: () => undefined,
    loopEnded: () => undefined,
    recordStarted: () => undefined,
    recordEnded: () => undefined,
    finish: finishRecord,
    commit: () => undefined,
    pause: () => undefined,
  };
  const env = { groupId: 'g', signal: new AbortController().signal, reportFailure: async () => undefined, publishDeadLetter: async () => true, seek: async () => '0' };
  const logger = { log: () => undefined, error: () => undefined, warn: () => undefined };
  const owned = new PartitionRegistry();
  const byName = Object.fromEntries(group.handlers.map((h) => [h.name, h]));
  return { seen, runtimes: new HandlerRuntimes({ group, env, services, wakeEveryMs: 5, logger }), owned, byName };
}

const loop: BatchLoop = { interrupted: () => false, mustRejoin: () => false, heartbeatDue: () => false, heartbeat: async () => undefined, resolveOffset: () => undefined };
const records = (n: number): FetchedRecord[] => Array.from({ length: n }, (_, i) => ({ offset: String(i), key: null, value: Buffer.from(`v${i}`), timestamp: '0' }));
const batch = (topic: string, n: number) => ({ topic, partition: 0, messages: records(n), lastOffset: () => String(n - 1) });

describe('HandlerRuntimes', () => {
  it("routes a batch to its handler's dispatcher: record by record, in chunks of maxPollRecords, or onto the pool", async () => {
    let open!: () => void;
    const { seen, runtimes: r, owned, byName } = runtimes(new Promise((resolve) => (open = resolve)));
    expect(r.pooling).toBe(true);
    expect([r.pool(byName.seq), r.pool(byName.pool)?.metrics().capacity]).toEqual([undefined, 4]);
    await r.dispatch({ batch: batch('a', 2), loop, key: 'a 0', state: owned.track('a 0', byName.seq) }, 500);
    await r.dispatch({ batch: batch('b', 5), loop, key: 'b 0', state: owned.track('b 0', byName.chunks) }, 2);
    const pooled = owned.track('c 0', byName.pool);
    await r.dispatch({ batch: batch('c', 3), loop, key: 'c 0', state: pooled }, 500);
    expect(seen).toEqual(['seq v0', 'seq v1', 'chunks 2', 'chunks 2', 'chunks 1']);
    expect(r.pool(byName.pool)!.pending('c 0')).toBe(3);
    let idle = false;
    const whenIdle = r.whenIdle(['c 0']).then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    open();
    await whenIdle;
    expect(seen.slice(5).sort()).toEqual(['pool v0', 'pool v1', 'pool v2']);
    expect(pooled.tracker.committableOffset).toBe(3n);
  });

  it('drops queued records of the given partitions only: they are never run nor finished', async () => {
    let open!: () => void;
    const { seen, runtimes: r, owned, byName } = runtimes(new Promise((resolve) => (open = resolve)));
    const state = owned.track('c 0', byName.pool);
    await r.dispatch({ batch: batch('c', 4), loop, key: 'c 0', state }, 500);
    r.dropQueued(['c 1']);
    expect(r.pool(byName.pool)!.pending('c 0')).toBe(4);
    r.dropQueued(['c 0']);
    open();
    await r.whenIdle();
    expect(seen).toEqual(['pool v0']); // in partition order one lane runs: only v0 had started
    expect(state.tracker.committableOffset).toBe(1n);
  });
});

describe('resumeDrained', () => {
  it("resumes a paused partition once its backlog is at most half its share, and forgets one no longer owned", () => {
    const { owned, byName } = runtimes();
    owned.track('c 0', byName.pool);
    owned.track('c 1', byName.pool);
    const calls: string[] = [];
    const bp = new Backpressure({ pause: (k) => void calls.push(`pause ${k}`), resume: (k) => void calls.push(`resume ${k}`) });
    bp.pause(['c 0', 'c 1', 'c 9']);
    const pending = new Map([['c 0', 2], ['c 1', 1]]);
    const pool = { pending: (key: string) => pending.get(key) ?? 0, metrics: () => ({ capacity: 4 }) as ReturnType<import('./work-scheduler').WorkScheduler['metrics']> };
    // Share: 4 slots / 2 partitions = 2; resumed at ≤ 1.
    resumeDrained(bp, pool, owned, byName.pool, true);
    expect(calls).toEqual(['pause c 0,c 1,c 9', 'resume c 1']);
    expect([bp.isPaused('c 0'), bp.isPaused('c 1'), bp.isPaused('c 9')]).toEqual([true, false, false]);
  });
});
