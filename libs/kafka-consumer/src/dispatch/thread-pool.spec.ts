import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { ThreadPool, ThreadPoolOptions, createThreadPool } from './thread-pool';
import { ThreadTaskError } from './thread-task.error';

const fixture = (name: string) => join(__dirname, '__fixtures__', name);
const CPU = fixture('cpu-worker.js');

describe('createThreadPool', () => {
  const pools: ThreadPool[] = [];
  const create = async (options: ThreadPoolOptions) => {
    const pool = await createThreadPool(options);
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
  });

  /** Asserts a rejection is a ThreadTaskError for `reason` that names the file and the export. */
  async function expectTaskFailure(promise: Promise<unknown>, reason: ThreadTaskError['reason'], exportName: string): Promise<ThreadTaskError> {
    const error = await promise.then(
      () => {
        throw new Error('expected the task to fail');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ThreadTaskError);
    const failure = error as ThreadTaskError;
    expect(failure.reason).toBe(reason);
    expect(failure.message).toContain(CPU);
    expect(failure.message).toContain(exportName);
    expect(failure).toMatchObject({ filename: CPU, exportName });
    return failure;
  }

  describe('running work', () => {
    it('runs tasks on several threads at the same time', async () => {
      const pool = await create({ filename: CPU, exportName: 'rendezvous', size: 3 });
      // Each task blocks until all three arrived: only possible when they run in parallel.
      const shared = new SharedArrayBuffer(4);
      const results = (await Promise.all([1, 2, 3].map(() => pool.run({ shared, parties: 3 })))) as Array<{ threadId: number; met: boolean }>;
      expect(results.map((r) => r.met)).toEqual([true, true, true]);
      expect(new Set(results.map((r) => r.threadId)).size).toBe(3);
      expect(results.every((r) => r.threadId > 0)).toBe(true);
    });

    it('computes CPU-bound results off the main thread and spreads tasks over the pool', async () => {
      const pool = await create({ filename: CPU, exportName: 'fib', size: 2 });
      const results = (await Promise.all([20, 21, 22, 23, 24, 25].map((n) => pool.run(n)))) as Array<{ threadId: number; n: number; fib: number }>;
      expect(results.map((r) => r.fib)).toEqual([6765, 10946, 17711, 28657, 46368, 75025]);
      const threads = new Set(results.map((r) => r.threadId));
      expect(threads.size).toBeGreaterThanOrEqual(1);
      expect(threads.size).toBeLessThanOrEqual(2);
      expect(threads.has(0)).toBe(false); // 0 is the main thread
      expect(pool.stats()).toMatchObject({ size: 2, threads: 2, busy: 0, queued: 0, completed: 6, failed: 0, crashes: 0 });
    });

    it('queues tasks beyond the pool size and runs them all', async () => {
      const pool = await create({ filename: CPU, exportName: 'later', size: 1 });
      const running = [1, 2, 3, 4, 5].map((value) => pool.run(value));
      expect(pool.stats()).toMatchObject({ busy: 1, queued: 4 });
      const results = (await Promise.all(running)) as Array<{ threadId: number; value: number }>;
      expect(results.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(results.map((r) => r.threadId)).size).toBe(1);
    });

    it('passes value and meta by structured clone', async () => {
      const pool = await create({ filename: CPU, exportName: 'echo', size: 1 });
      const meta = { topic: 'orders', partition: 3, offset: '42', key: Buffer.from('k'), headers: { h: Buffer.from('v') }, timestamp: new Date(0) };
      const value = { id: 7n, tags: new Map([['a', 1]]), nested: [1, { deep: true }] };
      const result = (await pool.run(value, meta)) as { value: typeof value; meta: Record<string, unknown> };
      // Cloned objects belong to Node's realm, not Jest's sandbox: compare their contents.
      expect(result.value.id).toBe(7n);
      expect(Array.from(result.value.tags.entries())).toEqual([['a', 1]]);
      expect(JSON.stringify(result.value.nested)).toBe('[1,{"deep":true}]');
      expect(result.meta.topic).toBe('orders');
      expect((result.meta.timestamp as Date).getTime()).toBe(0);
      // A Buffer arrives as its bytes (Uint8Array): class identity does not cross threads.
      expect(Buffer.from(result.meta.key as Uint8Array).toString()).toBe('k');
    });

    it('runs module.exports = fn when no export is named', async () => {
      const pool = await create({ filename: fixture('default-export.js'), size: 1 });
      expect(pool.exportName).toBe('default');
      await expect(pool.run(21, { offset: '1' })).resolves.toMatchObject({ doubled: 42, meta: { offset: '1' } });
    });

    it('loads an ES module (with top-level await) by path or file URL, default or named export', async () => {
      const byDefault = await create({ filename: fixture('esm-default.mjs'), size: 1 });
      await expect(byDefault.run(2)).resolves.toMatchObject({ tripled: 6 });
      const named = await create({ filename: pathToFileURL(fixture('esm-default.mjs')).href, exportName: 'negate', size: 1 });
      await expect(named.run(5)).resolves.toBe(-5);
    });
  });

  describe('errors', () => {
    it('rejects with an error naming the file and export when the function throws, keeping name, message and code', async () => {
      const pool = await create({ filename: CPU, exportName: 'fail', size: 1 });
      const error = await expectTaskFailure(pool.run(5), 'threw', 'fail');
      expect(error.message).toContain('TypeError: bad value 5');
      const cause = error.cause as Error & { code?: string };
      expect(cause).toBeInstanceOf(Error);
      expect(cause).toMatchObject({ name: 'TypeError', message: 'bad value 5', code: 'E_BAD_VALUE' });
      expect(cause.stack).toContain('cpu-worker.js');
      expect(pool.stats()).toMatchObject({ failed: 1, crashes: 0, threads: 1 });
    });

    it('rejects when the returned promise rejects, or a non-Error is thrown', async () => {
      const rejecting = await create({ filename: CPU, exportName: 'failAsync', size: 1 });
      const asyncError = await expectTaskFailure(rejecting.run(null), 'threw', 'failAsync');
      expect(asyncError.message).toContain('RangeError: async failure');
      const throwingString = await create({ filename: CPU, exportName: 'throwString', size: 1 });
      const stringError = await expectTaskFailure(throwingString.run(null), 'threw', 'throwString');
      expect(stringError.message).toContain('just a string');
    });

    it('rejects a value that cannot be cloned, and keeps working', async () => {
      const pool = await create({ filename: CPU, exportName: 'echo', size: 1 });
      const error = await expectTaskFailure(pool.run({ callback: () => 1 }), 'input-not-cloneable', 'echo');
      expect(error.message).toMatch(/cannot be sent to a worker thread/);
      await expectTaskFailure(pool.run(1, { commit: () => undefined }), 'input-not-cloneable', 'echo');
      await expect(pool.run(1, { offset: '9' })).resolves.toMatchObject({ value: 1, meta: { offset: '9' } });
    });

    it('rejects a result that cannot be cloned back, and keeps working', async () => {
      const pool = await create({ filename: CPU, exportName: 'returnFunction', size: 1 });
      const error = await expectTaskFailure(pool.run(null), 'result-not-cloneable', 'returnFunction');
      expect(error.message).toMatch(/could not be cloned|DataCloneError/);
      expect(pool.stats()).toMatchObject({ crashes: 0, threads: 1 });
    });
  });

  describe('crashes', () => {
    it('rejects the task of a thread that calls process.exit and replaces the thread', async () => {
      const pool = await create({ filename: CPU, exportName: 'exit', size: 1 });
      const error = await expectTaskFailure(pool.run(3), 'crashed', 'exit');
      expect(error.message).toContain('exited with code 3');
      expect(pool.stats()).toMatchObject({ crashes: 1, failed: 1 });
      // The replacement works; the next crash is handled the same way.
      await expectTaskFailure(pool.run(4), 'crashed', 'exit');
      expect(pool.stats()).toMatchObject({ crashes: 2, failed: 2, threads: 1 });
    });

    it('keeps serving the other and the queued tasks while one thread crashes', async () => {
      const pool = await create({ filename: CPU, exportName: 'byOp', size: 2 });
      const outcomes = await Promise.allSettled([
        pool.run({ op: 'exit', arg: 1 }),
        pool.run({ op: 'later', arg: 'a' }),
        pool.run({ op: 'echo', arg: 'queued-1' }),
        pool.run({ op: 'echo', arg: 'queued-2' }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      const results = await Promise.all([1, 2, 3, 4].map((arg) => pool.run({ op: 'echo', arg })));
      expect(results).toHaveLength(4);
      expect(pool.stats()).toMatchObject({ crashes: 1, failed: 1, completed: 7, threads: 2 });
    });

    it('runs a task queued behind a crashing one on the replacement thread', async () => {
      const pool = await create({ filename: CPU, exportName: 'byOp', size: 1 });
      const crashing = pool.run({ op: 'exit', arg: 7 });
      const queued = pool.run({ op: 'echo', arg: 'next' });
      await expectTaskFailure(crashing, 'crashed', 'byOp');
      const result = (await queued) as { threadId: number; value: string };
      expect(result.value).toBe('next');
    });

    it('rejects the task when an uncaught error in the thread kills it, and serves the next task', async () => {
      const pool = await create({ filename: CPU, exportName: 'byOp', size: 1 });
      const error = await expectTaskFailure(pool.run({ op: 'uncaught' }), 'crashed', 'byOp');
      expect(error.message).toContain('uncaught in a timer');
      expect((error.cause as Error).message).toBe('uncaught in a timer');
      await expect(pool.run({ op: 'echo', arg: 'next' })).resolves.toMatchObject({ value: 'next' });
      expect(pool.stats()).toMatchObject({ crashes: 1, failed: 1, completed: 1 });
    });

    it('rejects the task of a thread that runs out of memory, and the pool keeps working', async () => {
      const pool = await create({ filename: CPU, exportName: 'byOp', size: 1, resourceLimits: { maxOldGenerationSizeMb: 16 } });
      const error = await expectTaskFailure(pool.run({ op: 'outOfMemory' }), 'crashed', 'byOp');
      expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
      await expect(pool.run({ op: 'echo', arg: 'next' })).resolves.toMatchObject({ value: 'next' });
      expect(pool.stats()).toMatchObject({ crashes: 1, threads: 1 });
    });
  });

  describe('bad options fail at creation, naming the option', () => {
    it.each([
      ['a relative path', { filename: 'cpu-worker.js' }, /threads\.filename = "cpu-worker\.js": must be the absolute path/],
      ['no path', { filename: '' }, /threads\.filename = "": must be the absolute path/],
      ['a missing file', { filename: fixture('missing.js') }, /threads\.filename = .*missing\.js": must name an existing file/],
      ['a directory', { filename: __dirname }, /must name an existing file/],
      ['size 0', { filename: CPU, exportName: 'fib', size: 0 }, /threads\.size = 0: must be a positive integer/],
      ['an empty exportName', { filename: CPU, exportName: '' }, /threads\.exportName = "": must be a non-empty string/],
    ])('%s', async (_label, options, message) => {
      const creating = createThreadPool(options as ThreadPoolOptions);
      await expect(creating).rejects.toThrow(KafkaConsumerConfigError);
      await expect(creating).rejects.toThrow(message);
    });

    it('an export that is not a function, listing the function exports', async () => {
      const creating = createThreadPool({ filename: CPU, exportName: 'notAFunction', size: 2 });
      await expect(creating).rejects.toThrow(KafkaConsumerConfigError);
      await expect(creating).rejects.toThrow(/threads\.exportName = "notAFunction": must name a function exported by .*cpu-worker\.js; found a number; its function exports: fib, echo/);
      await expect(createThreadPool({ filename: CPU, exportName: 'nope', size: 1 })).rejects.toThrow(/found nothing \(undefined\)/);
    });

    it('a module whose exports are not a function when no export is named', async () => {
      await expect(createThreadPool({ filename: CPU, size: 1 })).rejects.toThrow(
        /threads\.filename = .*cpu-worker\.js": must export a function \(module\.exports = fn or a default export\), or set threads\.exportName/,
      );
    });

    it('a module that throws while loading, with the option path given by the caller', async () => {
      const creating = createThreadPool({ filename: fixture('throws-on-load.js'), size: 1, optionPath: 'handler Orders.handle: threads' });
      await expect(creating).rejects.toThrow(KafkaConsumerConfigError);
      await expect(creating).rejects.toThrow(/handler Orders\.handle: threads\.filename = .*throws-on-load\.js": could not be loaded in a worker thread: cannot initialise the model/);
    });
  });

  describe('abort', () => {
    it('fails a running task at once, replaces its thread and runs what was queued', async () => {
      const pool = await create({ filename: CPU, exportName: 'byOp', size: 1 });
      const controller = new AbortController();
      const running = expectTaskFailure(pool.run({ op: 'hang' }, undefined, { signal: controller.signal }), 'aborted', 'byOp');
      const queued = pool.run({ op: 'echo', arg: 'next' });
      expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
      controller.abort();
      await running;
      await expect(queued).resolves.toMatchObject({ value: 'next' });
      expect(pool.stats()).toMatchObject({ crashes: 0, failed: 1, completed: 1, threads: 1 });
    });

    it('removes a queued task that is aborted, and refuses an already aborted signal', async () => {
      const pool = await create({ filename: CPU, exportName: 'later', size: 1 });
      const controller = new AbortController();
      const first = pool.run('first');
      const second = expectTaskFailure(pool.run('second', undefined, { signal: controller.signal }), 'aborted', 'later');
      controller.abort();
      await second;
      expect(pool.stats().queued).toBe(0);
      await expect(first).resolves.toMatchObject({ value: 'first' });
      await expectTaskFailure(pool.run('third', undefined, { signal: controller.signal }), 'aborted', 'later');
    });

    it('ignores a signal aborted after its task finished', async () => {
      const pool = await create({ filename: CPU, exportName: 'echo', size: 1 });
      const controller = new AbortController();
      await expect(pool.run(1, undefined, { signal: controller.signal })).resolves.toMatchObject({ value: 1 });
      controller.abort();
      await expect(pool.run(2)).resolves.toMatchObject({ value: 2 });
      expect(pool.stats()).toMatchObject({ failed: 0, completed: 2, threads: 1 });
    });
  });

  describe('destroy', () => {
    it('rejects running and queued tasks, refuses new ones, and can be called twice', async () => {
      const pool = await createThreadPool({ filename: CPU, exportName: 'hang', size: 1 });
      const running = expectTaskFailure(pool.run(1), 'destroyed', 'hang');
      const queued = expectTaskFailure(pool.run(2), 'destroyed', 'hang');
      expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
      await pool.destroy();
      await running;
      await queued;
      await expectTaskFailure(pool.run(3), 'destroyed', 'hang');
      await expect(pool.destroy()).resolves.toBeUndefined();
      expect(pool.stats()).toMatchObject({ threads: 0, busy: 0, queued: 0, destroyed: true, failed: 3 });
    });
  });
});
