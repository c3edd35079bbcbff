import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResourceLimits, Worker } from 'node:worker_threads';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { ThreadTaskError, ThreadTaskFailure } from './thread-task.error';
import { WORKER_BOOTSTRAP, WorkerMessage, WorkerTask } from './thread-worker-bootstrap';

/**
 * A handler's `threads` option: its work runs on worker threads. The module
 * file exports `(value, meta) => result | Promise<result>`; value, meta and
 * result cross threads by structured clone (plain data, Buffers, typed arrays,
 * Maps, Dates; no functions, no class identity).
 */
export interface ThreadPoolOptions {
  /** Absolute path or `file:` URL of a JavaScript module (CommonJS or ESM); TypeScript must be compiled first. */
  filename: string;
  /** Worker threads (default: available cores − 1, at least 1). */
  size?: number;
  /** The export to run (default: `module.exports` itself when it is a function, else the `default` export). */
  exportName?: string;
  /** V8 limits per thread; a thread that exceeds them dies and its task fails as `crashed`. */
  resourceLimits?: ResourceLimits;
  /** Prefix of the option names in configuration errors (default `threads`), e.g. `handler Orders.handle: threads`. */
  optionPath?: string;
}

export interface ThreadPoolStats {
  /** Threads the pool keeps. */
  size: number;
  /** Threads running or starting (fewer for a moment after a crash). */
  threads: number;
  busy: number;
  /** Tasks waiting for a free thread. */
  queued: number;
  /** Tasks that succeeded. */
  completed: number;
  /** Tasks that failed, for any reason. */
  failed: number;
  /** Threads that died while running or starting. */
  crashes: number;
  destroyed: boolean;
}

export interface ThreadPool {
  readonly filename: string;
  readonly exportName: string;
  /**
   * Runs the export on a free thread; rejects with a `ThreadTaskError`. Tasks
   * start in call order. Aborting `signal` fails the task at once as `aborted`:
   * a queued task never starts, a running one has its thread terminated and replaced.
   */
  run(value: unknown, meta?: unknown, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** Terminates every thread at once; queued and running tasks reject as `destroyed`. Drain first for a graceful stop. */
  destroy(): Promise<void>;
  stats(): ThreadPoolStats;
}

/**
 * Starts the threads and loads the module in each before resolving, so a
 * missing file, a module that throws while loading, or an export that is not
 * a function fails here with a `KafkaConsumerConfigError` naming the option.
 * A thread that dies is replaced; the other tasks are not affected. Idle
 * threads do not keep the process alive.
 */
export async function createThreadPool(options: ThreadPoolOptions): Promise<ThreadPool> {
  const pool = new WorkerThreadPool(resolveOptions(options));
  await pool.start();
  return pool;
}

interface ResolvedThreadPoolOptions {
  filename: string;
  size: number;
  exportName: string | undefined;
  resourceLimits: ResourceLimits | undefined;
  optionPath: string;
}

interface Task {
  id: number;
  value: unknown;
  meta: unknown;
  resolve: (result: unknown) => void;
  reject: (error: ThreadTaskError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  task: Task | undefined;
  /** The last 'error' event; the 'exit' event follows it. */
  error: Error | undefined;
}

class WorkerThreadPool implements ThreadPool {
  readonly filename: string;
  readonly exportName: string;
  private readonly threads = new Set<Thread>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private completed = 0;
  private failed = 0;
  private crashes = 0;
  private destroyed: Promise<void> | undefined;

  constructor(private readonly options: ResolvedThreadPoolOptions) {
    this.filename = options.filename;
    this.exportName = options.exportName ?? 'default';
  }

  async start(): Promise<void> {
    const starting: Array<Promise<void>> = [];
    for (let i = 0; i < this.options.size; i++) starting.push(this.spawn());
    const outcomes = await Promise.allSettled(starting);
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      await this.destroy();
      throw failure.reason;
    }
  }

  run(value: unknown, meta?: unknown, options?: { signal?: AbortSignal }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const signal = options?.signal;
      const task: Task = { id: this.nextId++, value, meta, resolve, reject, signal, onAbort: undefined };
      if (this.destroyed) return this.fail(task, this.failure('destroyed', 'the pool was destroyed'));
      if (signal?.aborted) return this.fail(task, this.failure('aborted', 'the signal was aborted before the task started'));
      if (signal) {
        task.onAbort = () => this.abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.replaceLost();
      this.dispatch();
    });
  }

  destroy(): Promise<void> {
    this.destroyed ??= this.terminate();
    return this.destroyed;
  }

  stats(): ThreadPoolStats {
    let busy = 0;
    for (const thread of this.threads) if (thread.task) busy += 1;
    return {
      size: this.options.size,
      threads: this.threads.size,
      busy,
      queued: this.queue.length,
      completed: this.completed,
      failed: this.failed,
      crashes: this.crashes,
      destroyed: this.destroyed !== undefined,
    };
  }

  private async terminate(): Promise<void> {
    const destroyed = () => this.failure('destroyed', 'the pool was destroyed');
    for (const task of this.queue.splice(0)) this.fail(task, destroyed());
    const exits: Array<Promise<number>> = [];
    for (const thread of this.threads) {
      if (thread.task) this.fail(thread.task, destroyed());
      thread.task = undefined;
      exits.push(thread.worker.terminate());
    }
    this.threads.clear();
    await Promise.allSettled(exits);
  }

  /** Starts one thread; resolves when its module loaded and the export is a function. */
  private spawn(): Promise<void> {
    const { filename, exportName, resourceLimits } = this.options;
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: { filename, exportName }, resourceLimits });
    const thread: Thread = { worker, ready: false, task: undefined, error: undefined };
    this.threads.add(thread);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            thread.ready = true;
            worker.unref();
            resolve();
            this.dispatch();
            return;
          case 'load-failed':
            reject(this.loadError(message));
            this.retire(thread);
            return;
          case 'result':
            this.settle(thread, (task) => {
              this.completed += 1;
              detach(task);
              task.resolve(message.result);
            });
            return;
          case 'error':
            this.settle(thread, (task) => this.fail(task, this.failure(message.reason, describeRemote(message.error), message.error)));
            return;
        }
      });
      worker.on('messageerror', (error) => {
        this.settle(thread, (task) => this.fail(task, this.failure('result-not-cloneable', error.message, error)));
      });
      worker.on('error', (error) => (thread.error = error));
      worker.on('exit', (code) => {
        const why = `the worker thread exited with code ${code}${thread.error ? `: ${thread.error.message}` : ''}`;
        if (!thread.ready) reject(new KafkaConsumerConfigError(`${this.options.optionPath}.filename`, filename, `could not be loaded in a worker thread: ${why}`));
        this.onExit(thread, why);
      });
    });
  }

  private onExit(thread: Thread, why: string): void {
    if (!this.threads.delete(thread) || this.destroyed) return; // retired or terminated on purpose
    this.crashes += 1;
    const task = thread.task;
    thread.task = undefined;
    if (task) this.fail(task, this.failure('crashed', why, thread.error));
    // A thread that died before it was ready is not replaced in a loop; the next run() tries again.
    if (thread.ready) this.replaceLost();
    else this.failQueuedIfNoThreads();
    this.dispatch();
  }

  /** Ends a thread that will not be used (its module failed to load). */
  private retire(thread: Thread): void {
    this.threads.delete(thread);
    void thread.worker.terminate();
    this.failQueuedIfNoThreads();
  }

  private failQueuedIfNoThreads(): void {
    if (this.threads.size > 0) return;
    for (const task of this.queue.splice(0)) this.fail(task, this.failure('unavailable', 'no worker thread could be started for the module'));
  }

  /**
   * Starts threads for those that died. A replacement that cannot load is
   * retired, not retried in a loop; the next `run` tries again.
   */
  private replaceLost(): void {
    if (this.destroyed) return;
    for (let i = this.threads.size; i < this.options.size; i++) {
      this.spawn().catch(() => undefined); // a load failure retires the thread and fails what is queued
    }
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      while (thread.ready && !thread.task && this.queue.length > 0) {
        const task = this.queue.shift()!;
        const message: WorkerTask = { id: task.id, value: task.value, meta: task.meta };
        try {
          thread.worker.postMessage(message);
        } catch (error) {
          this.fail(task, this.failure('input-not-cloneable', `value or meta cannot be sent to a worker thread: ${(error as Error).message}`, error));
          continue;
        }
        thread.task = task;
        thread.worker.ref(); // an unfinished task keeps the process alive
      }
      if (this.queue.length === 0) return;
    }
  }

  private settle(thread: Thread, done: (task: Task) => void): void {
    const task = thread.task;
    if (!task) return;
    thread.task = undefined;
    thread.worker.unref();
    done(task);
    this.dispatch();
  }

  private fail(task: Task, error: ThreadTaskError): void {
    this.failed += 1;
    detach(task);
    task.reject(error);
  }

  /** A queued task leaves the queue; a running one takes its thread down with it. */
  private abort(task: Task): void {
    const aborted = this.failure('aborted', 'the signal was aborted');
    const index = this.queue.indexOf(task);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.fail(task, aborted);
      return;
    }
    for (const thread of this.threads) {
      if (thread.task !== task) continue;
      thread.task = undefined;
      this.fail(task, aborted);
      this.threads.delete(thread); // its exit is expected: not a crash
      void thread.worker.terminate();
      this.replaceLost();
      return;
    }
  }

  private failure(reason: ThreadTaskFailure, detail: string, cause?: unknown): ThreadTaskError {
    return new ThreadTaskError(reason, this.filename, this.exportName, detail, cause === undefined ? undefined : { cause: revive(cause) });
  }

  private loadError(message: Extract<WorkerMessage, { type: 'load-failed' }>): KafkaConsumerConfigError {
    const { optionPath, filename, exportName } = this.options;
    const hint = /\.[mc]?ts$/.test(filename) ? ' (worker threads load plain JavaScript: point at the compiled .js file)' : '';
    if (message.reason === 'load') {
      return new KafkaConsumerConfigError(`${optionPath}.filename`, filename, `could not be loaded in a worker thread: ${message.error.message}${hint}`);
    }
    const found = `found ${message.found}; its function exports: ${message.functions.join(', ') || 'none'}`;
    if (exportName !== undefined) {
      return new KafkaConsumerConfigError(`${optionPath}.exportName`, exportName, `must name a function exported by ${filename}; ${found}`);
    }
    return new KafkaConsumerConfigError(`${optionPath}.filename`, filename, `must export a function (module.exports = fn or a default export), or set ${optionPath}.exportName; ${found}`);
  }
}

function resolveOptions(options: ThreadPoolOptions): ResolvedThreadPoolOptions {
  const optionPath = options.optionPath ?? 'threads';
  const filename = resolveFilename(options.filename, `${optionPath}.filename`);
  const size = options.size ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(size) || size < 1) throw new KafkaConsumerConfigError(`${optionPath}.size`, size, 'must be a positive integer');
  const { exportName } = options;
  if (exportName !== undefined && (typeof exportName !== 'string' || exportName === '')) {
    throw new KafkaConsumerConfigError(`${optionPath}.exportName`, exportName, 'must be a non-empty string naming an exported function');
  }
  return { filename, size, exportName, resourceLimits: options.resourceLimits, optionPath };
}

function resolveFilename(value: unknown, option: string): string {
  const rule = 'must be the absolute path (or file: URL) of a JavaScript module, e.g. path.join(__dirname, "hash.worker.js")';
  if (typeof value !== 'string' || value === '') throw new KafkaConsumerConfigError(option, value, rule);
  let filename = value;
  if (value.startsWith('file:')) {
    try {
      filename = fileURLToPath(value);
    } catch {
      throw new KafkaConsumerConfigError(option, value, rule);
    }
  }
  if (!isAbsolute(filename)) throw new KafkaConsumerConfigError(option, value, rule);
  if (!existsSync(filename) || !statSync(filename).isFile()) {
    throw new KafkaConsumerConfigError(option, value, `must name an existing file (with its extension); there is none at ${filename}`);
  }
  return filename;
}

/** The worker's error as an Error on this side: name, message, stack and code kept. */
function revive(cause: unknown): unknown {
  if (cause instanceof Error || cause === null || typeof cause !== 'object') return cause;
  const { name, message, stack, code } = cause as { name?: string; message?: string; stack?: string; code?: unknown };
  const error = new Error(message ?? String(cause));
  if (name) error.name = name;
  if (stack) error.stack = stack;
  if (code !== undefined) (error as Error & { code: unknown }).code = code;
  return error;
}

function detach(task: Task): void {
  if (task.onAbort) task.signal!.removeEventListener('abort', task.onAbort);
  task.onAbort = undefined;
}

function describeRemote(error: { name?: string; message?: string }): string {
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : String(error.message);
}
