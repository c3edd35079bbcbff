import type { LoggerService } from '@nestjs/common';
import { CommitSchedule } from '../commit/commit-schedule';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { KafkaMessageContext } from '../interfaces/message-context.interface';
import type { ResolvedGroup, ResolvedHandler } from '../options/resolved-options';
import type { BatchJob, HandlerRuntime } from './batch-loop';
import { dispatchInChunks } from './batch-dispatcher';
import { PooledDispatcher, PooledServices } from './pooled-dispatcher';
import type { GroupTelemetry } from '../telemetry/group-telemetry';
import { contextFields, ProcessingEnvironment, RecordProcessing, RecordProcessor } from './record-processor';
import { dispatchSequentially } from './sequential-dispatcher';
import { createThreadPool, ThreadPool } from './thread-pool';
import { WorkScheduler } from './work-scheduler';

export interface HandlerRuntimesOptions {
  group: ResolvedGroup<BoundMethod>;
  env: ProcessingEnvironment;
  services: PooledServices;
  /** A fetch loop waiting for room in a pool wakes this often to hear of rebalances. */
  wakeEveryMs: number;
  logger: LoggerService;
  /** Spans, timings and failure counts around each record and batch, when the application observes them. */
  telemetry?: GroupTelemetry;
}

/**
 * Each handler of a group at run time: its processor, commit schedule, and,
 * with concurrency > 1, its worker pool and pooled dispatcher; with `threads`,
 * its worker threads. Routes a fetched batch to the handler's dispatcher.
 */
export class HandlerRuntimes {
  private readonly runtimes = new Map<string, HandlerRuntime>();
  private readonly pooled = new Map<string, PooledDispatcher>();
  private readonly threadPools: ThreadPool[] = [];

  constructor(private readonly options: HandlerRuntimesOptions) {
    const { group, services, wakeEveryMs, logger } = options;
    for (const handler of group.handlers) {
      const runtime: HandlerRuntime = { handler, processor: this.processor(handler), schedule: new CommitSchedule(handler.commit, Date.now()) };
      this.runtimes.set(handler.name, runtime);
      if (handler.concurrency <= 1) continue;
      const pool = new WorkScheduler({
        concurrency: handler.concurrency,
        capacity: handler.maxQueuedRecords,
        onError: (error) => logger.error(`group ${group.groupId}: worker of ${handler.name} failed: ${(error as Error)?.message ?? error}`),
      });
      // The same runtime object: a processor replaced later (threads) reaches the dispatcher too.
      this.pooled.set(handler.name, new PooledDispatcher(Object.assign(runtime, { pool }), services, wakeEveryMs));
    }
  }

  /** Whether any handler runs on a worker pool. */
  get pooling(): boolean {
    return this.pooled.size > 0;
  }

  schedule(handler: { name: string }): CommitSchedule {
    return this.runtimes.get(handler.name)!.schedule;
  }

  /** The worker pool of a handler with concurrency > 1. */
  pool(handler: ResolvedHandler<BoundMethod>): WorkScheduler | undefined {
    return this.runtimes.get(handler.name)!.pool;
  }

  /** Handlers with a worker pool, each with its pool. */
  *pools(): Iterable<[ResolvedHandler<BoundMethod>, WorkScheduler]> {
    for (const { runtime } of this.pooledRuntimes()) yield [runtime.handler, runtime.pool];
  }

  /** Runs a fetched batch on its handler's dispatcher: pooled, in chunks (batch handlers) or record by record. */
  dispatch(job: BatchJob, maxPollRecords: number): Promise<void> {
    const name = job.state.handler.name;
    const pooled = this.pooled.get(name);
    if (pooled) return pooled.dispatch(job);
    const runtime = this.runtimes.get(name)!;
    if (runtime.handler.batch) return dispatchInChunks(job, runtime, this.options.services, maxPollRecords);
    return dispatchSequentially(job, runtime, this.options.services);
  }

  /** Drops records queued but not started (of these partitions, or all): they stay uncommitted. */
  dropQueued(keys?: string[]): void {
    for (const { runtime } of this.pooledRuntimes()) {
      if (keys) for (const key of keys) runtime.pool.dropQueued(key);
      else runtime.pool.dropQueued();
    }
  }

  /** Resolves once no pooled record of these partitions (or none at all) runs. */
  async whenIdle(keys?: string[]): Promise<void> {
    for (const { runtime } of this.pooledRuntimes()) {
      if (keys) await Promise.all(keys.map((key) => runtime.pool.whenPartitionIdle(key)));
      else await runtime.pool.whenIdle();
    }
  }

  /**
   * Handlers with `threads`: the exported function runs on a worker thread and
   * the method gets its result, so the processor (retries, dead letters) and
   * the dispatch path stay the same. Bad files or exports fail at startup.
   */
  async startThreads(): Promise<void> {
    for (const runtime of this.runtimes.values()) {
      const { handler } = runtime;
      if (!handler.threads) continue;
      const pool = await createThreadPool({ ...handler.threads, optionPath: `handler ${handler.name}: threads` });
      this.threadPools.push(pool);
      const method = handler.source;
      // The attempt's signal reaches the thread: a timeout or shutdown ends the task there too.
      const source: BoundMethod = async (value: unknown, ctx: unknown) =>
        method(await pool.run(value, contextFields(ctx as KafkaMessageContext), { signal: (ctx as KafkaMessageContext).signal }), ctx);
      runtime.processor = this.processor({ ...handler, source });
    }
  }

  /** A handler's processor; observed, wrapped by the telemetry, which also hears of its failures. */
  private processor(handler: ResolvedHandler<BoundMethod>): RecordProcessing {
    const { env, telemetry } = this.options;
    return telemetry ? telemetry.wrap(new RecordProcessor(handler, { ...env, events: telemetry.events })) : new RecordProcessor(handler, env);
  }

  async stopThreads(): Promise<void> {
    await Promise.all(this.threadPools.map((pool) => pool.destroy().catch(() => undefined)));
  }

  private *pooledRuntimes(): Iterable<{ runtime: HandlerRuntime & { pool: WorkScheduler } }> {
    for (const runtime of this.runtimes.values()) if (runtime.pool) yield { runtime: runtime as HandlerRuntime & { pool: WorkScheduler } };
  }
}
