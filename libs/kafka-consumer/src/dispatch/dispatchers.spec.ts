import type { FetchedRecord } from '../engine/consumer-engine';
import { CommitSchedule } from '../commit/commit-schedule';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { resolveGroups, resolveModuleOptions } from '../options/resolve-options';
import type { ResolvedHandler } from '../options/resolved-options';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { dispatchInChunks } from './batch-dispatcher';
import type { BatchLoop, DispatchServices, FetchedBatch, HandlerRuntime } from './batch-loop';
import { finishRecord, freshPartitionState } from '../offsets/partition-state';
import { PooledDispatcher, PooledServices } from './pooled-dispatcher';
import { RecordProcessor } from './record-processor';
import { dispatchSequentially } from './sequential-dispatcher';
import { WorkScheduler } from './work-scheduler';

/** A handler resolved as the module would, whose method is `source`. */
function handlerOf(metadata: Partial<KafkaHandlerMetadata>, source: BoundMethod): ResolvedHandler<BoundMethod> {
  const [group] = resolveGroups(resolveModuleOptions({ brokers: ['b:9092'], groupId: 'g' }), [
    { name: 'H.h', metadata: { topics: 't', batch: false, deserializer: 'string', ...metadata } as KafkaHandlerMetadata, source },
  ]);
  return group.handlers[0];
}

function runtimeOf(handler: ResolvedHandler<BoundMethod>): HandlerRuntime {
  const env = {
    groupId: 'g',
    signal: new AbortController().signal,
    reportFailure: async () => undefined,
    publishDeadLetter: async () => true,
    seek: async () => '0',
  };
  return { handler, processor: new RecordProcessor(handler, env), schedule: new CommitSchedule(handler.commit, 0) };
}

const messages = (count: number, key = (n: number) => `k${n}`): FetchedRecord[] =>
  Array.from({ length: count }, (_, n) => ({ offset: String(n), key: Buffer.from(key(n)), value: Buffer.from(`v${n}`), timestamp: '0', attributes: 0, headers: {} }) as FetchedRecord);

const batchOf = (list: FetchedRecord[]): FetchedBatch => ({ topic: 't', partition: 0, messages: list, lastOffset: () => list[list.length - 1].offset });

/** An in-memory fetch loop: records what the dispatcher did with it. */
function fakeLoop(interruptAfter = Infinity) {
  const log: string[] = [];
  let checks = 0;
  const loop: BatchLoop = {
    interrupted: () => ++checks > interruptAfter,
    mustRejoin: () => false,
    heartbeatDue: () => true,
    heartbeat: async () => void log.push('heartbeat'),
    resolveOffset: (offset) => void log.push(`resolve ${offset}`),
  };
  return { loop, log };
}

function fakeServices(log: string[]): PooledServices {
  return {
    loopStarted: () => undefined,
    loopEnded: () => undefined,
    recordStarted: (record) => (record.startedAt = 1),
    recordEnded: () => undefined,
    finish: finishRecord,
    commit: (_handler, keys) => void log.push(`commit ${keys.join(',')}`),
    pause: (key) => void log.push(`pause ${key}`),
  } satisfies DispatchServices & PooledServices;
}

describe('dispatchSequentially', () => {
  it('runs records in order, resolves the last finished one, and commits by policy', async () => {
    const seen: string[] = [];
    const runtime = runtimeOf(handlerOf({ commit: 'batch' }, (value: unknown) => void seen.push(String(value))));
    const state = freshPartitionState(runtime.handler);
    const { loop, log } = fakeLoop();
    await dispatchSequentially({ batch: batchOf(messages(3)), loop, key: 't 0', state }, runtime, fakeServices(log));
    expect(seen).toEqual(['v0', 'v1', 'v2']);
    expect(log).toEqual(['resolve 2', 'commit t 0']);
    expect(state.tracker.committableOffset).toBe(3n);
  });

  it('stops at an interruption: later records are neither begun nor resolved, so they are fetched again', async () => {
    const seen: string[] = [];
    const runtime = runtimeOf(handlerOf({ commit: 'batch' }, (value: unknown) => void seen.push(String(value))));
    const state = freshPartitionState(runtime.handler);
    const { loop, log } = fakeLoop(2);
    await dispatchSequentially({ batch: batchOf(messages(5)), loop, key: 't 0', state }, runtime, fakeServices(log));
    expect(seen).toEqual(['v0', 'v1']);
    expect(log).toEqual(['resolve 1']);
    expect(state.tracker.begin('2')).toBe(true);
  });

  it('does not run again a record begun before a re-fetch, and commits past it', async () => {
    const seen: string[] = [];
    const runtime = runtimeOf(handlerOf({ commit: 'batch' }, (value: unknown) => void seen.push(String(value))));
    const state = freshPartitionState(runtime.handler);
    state.tracker.begin('0');
    state.tracker.finish('0');
    const { loop, log } = fakeLoop();
    await dispatchSequentially({ batch: batchOf(messages(2)), loop, key: 't 0', state }, runtime, fakeServices(log));
    expect(seen).toEqual(['v1']);
    expect(log).toEqual(['resolve 1', 'commit t 0']);
  });

  it('heartbeats after a record that awaited, when due', async () => {
    const runtime = runtimeOf(handlerOf({ commit: 'batch' }, async () => undefined));
    const { loop, log } = fakeLoop();
    await dispatchSequentially({ batch: batchOf(messages(2)), loop, key: 't 0', state: freshPartitionState(runtime.handler) }, runtime, fakeServices(log));
    expect(log).toEqual(['heartbeat', 'heartbeat', 'resolve 1', 'commit t 0']);
  });
});

describe('dispatchInChunks', () => {
  it('hands the handler chunks of at most chunkSize, resolving and heartbeating after each', async () => {
    const chunks: number[] = [];
    const runtime = runtimeOf(handlerOf({ batch: true, commit: 'batch' }, (records: unknown) => void chunks.push((records as unknown[]).length)));
    const { loop, log } = fakeLoop();
    await dispatchInChunks({ batch: batchOf(messages(5)), loop, key: 't 0', state: freshPartitionState(runtime.handler) }, runtime, fakeServices(log), 2);
    expect(chunks).toEqual([2, 2, 1]);
    expect(log.filter((l) => l.startsWith('resolve'))).toEqual(['resolve 1', 'resolve 3', 'resolve 4']);
    expect(log.filter((l) => l === 'heartbeat')).toHaveLength(3);
  });

  it('begins only the records of chunks handed over: an interruption leaves the rest to run after a re-fetch', async () => {
    const runtime = runtimeOf(handlerOf({ batch: true, commit: 'batch' }, () => undefined));
    const state = freshPartitionState(runtime.handler);
    const { loop } = fakeLoop(1);
    await dispatchInChunks({ batch: batchOf(messages(5)), loop, key: 't 0', state }, runtime, fakeServices([]), 2);
    expect(state.tracker.begin('1')).toBe(false);
    expect(state.tracker.begin('2')).toBe(true);
  });
});

describe('PooledDispatcher', () => {
  it('queues records to their lanes and commits the contiguous watermark as workers finish out of order', async () => {
    const release = new Map<string, () => void>();
    const runtime = runtimeOf(
      handlerOf({ concurrency: 3, ordering: 'key', commit: 'record' }, (value: unknown) => new Promise<void>((resolve) => release.set(String(value), resolve))),
    );
    const pool = new WorkScheduler({ concurrency: 3, capacity: 8 });
    const log: string[] = [];
    const dispatcher = new PooledDispatcher({ ...runtime, pool }, fakeServices(log), 10);
    const state = freshPartitionState(runtime.handler);
    const { loop } = fakeLoop();
    await dispatcher.dispatch({ batch: batchOf(messages(3)), loop, key: 't 0', state });
    release.get('v2')!();
    release.get('v1')!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.tracker.committableOffset).toBeUndefined(); // offset 0 still runs
    release.get('v0')!();
    await pool.whenIdle();
    expect(state.tracker.committableOffset).toBe(3n);
  });

  it('pauses only its partition when idle workers cannot take its queued records (one blocked lane), and ends the batch', async () => {
    const runtime = runtimeOf(handlerOf({ concurrency: 2, ordering: 'key', maxQueuedRecords: 2, commit: 'record' }, () => new Promise<void>(() => undefined)));
    const pool = new WorkScheduler({ concurrency: 2, capacity: 2 });
    const log: string[] = [];
    const dispatcher = new PooledDispatcher({ ...runtime, pool }, fakeServices(log), 10);
    const state = freshPartitionState(runtime.handler);
    const { loop, log: loopLog } = fakeLoop();
    await dispatcher.dispatch({ batch: batchOf(messages(5, () => 'same')), loop, key: 't 0', state });
    expect(log).toContain('pause t 0');
    expect(loopLog).toContain('resolve 1'); // two queued; the rest is fetched again after the resume
    expect(state.tracker.begin('2')).toBe(true);
  });
});
