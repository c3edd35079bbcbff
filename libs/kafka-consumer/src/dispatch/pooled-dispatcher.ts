import type { FetchedRecord } from '../engine/consumer-engine';
import type { BatchJob, BatchLoop, DispatchServices, HandlerRuntime } from './batch-loop';
import type { PartitionState } from '../offsets/partition-state';
import type { ProcessOutcome, RecordProcessing } from './record-processor';
import { laneFor } from './lanes';
import type { WorkItem, WorkScheduler } from './work-scheduler';

/** What the pooled path needs beyond the shared services. */
export interface PooledServices extends DispatchServices {
  /** The liveness clocks of records running on workers. */
  recordStarted(record: { startedAt: number }): void;
  recordEnded(record: { startedAt: number }): void;
  /** Pauses fetching of a partition whose queued records wait behind their own lanes. */
  pause(key: string): void;
  /**
   * With finished-ahead commit metadata: true when taking the record at
   * `offset` could grow the partition's map past its share of the broker's
   * limit; the partition is then held (paused) until its committed offset moves.
   */
  holdsBefore?(key: string, state: PartitionState, offset: string): boolean;
}

/**
 * Worker-pool path (§4.4.1 option 2) of one handler: the fetch loop only
 * queues records and moves the fetch position on; workers run them in their
 * lanes; commits come from the tracker's contiguous watermark, sent by the
 * fetch loop and the member's tick, never by a worker.
 */
export class PooledDispatcher {
  readonly pool: WorkScheduler;

  constructor(
    private readonly runtime: HandlerRuntime & { pool: WorkScheduler },
    private readonly services: PooledServices,
    /** The fetch loop wakes this often while it waits for room, to hear of rebalances. */
    private readonly wakeEveryMs: number,
  ) {
    this.pool = runtime.pool;
  }

  async dispatch({ batch, loop, key, state }: BatchJob): Promise<void> {
    const { topic, partition, messages } = batch;
    const { handler, processor, pool } = this.runtime;
    let resolved: string | undefined;
    try {
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (loop.interrupted()) return;
        if (!pool.admits(key) && !(await this.waitForRoom(loop, key))) return;
        if (state.finishedAhead && this.services.holdsBefore?.(key, state, message.offset)) return; // fetched again once released
        resolved = message.offset;
        if (!state.tracker.begin(message.offset)) continue; // begun before a re-fetch: not run twice
        pool.submit(new PooledRecord(this, key, laneFor(handler.ordering, key, message.key, message.offset), processor, state, topic, partition, message));
      }
    } finally {
      if (resolved !== undefined) loop.resolveOffset(resolved);
    }
    // Auto commits come from their interval, not from each dispatched batch.
    if (handler.commit.mode !== 'auto') await this.services.commit(handler, [key]);
    if (loop.heartbeatDue()) await loop.heartbeat();
  }

  /**
   * The pool does not admit this partition's next record. While every worker
   * is busy, waiting is best: ending the batch would only fetch the same
   * records again. When workers sit idle, what is queued waits behind its own
   * lanes (ordering, or a record that does not finish): this partition is the
   * cause, so it alone is paused and the batch ends; the rest is fetched again
   * once its backlog drains, and other partitions keep their room meanwhile.
   * Resolves false when the batch must end.
   */
  private async waitForRoom(loop: BatchLoop, key: string): Promise<boolean> {
    const { handler, pool } = this.runtime;
    let timer: NodeJS.Timeout | undefined;
    let wake: Promise<void> | undefined;
    try {
      while (!pool.admits(key)) {
        if (pool.idleWorkers > 0) {
          // Items finish on a later microtask even when their handler is synchronous: let the
          // ones submitted in this loop settle before judging their lanes blocked.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (pool.admits(key)) break;
        }
        if (pool.idleWorkers > 0) {
          this.services.pause(key);
          return false;
        }
        // One timer per wait, not per freed slot: the loop wakes now and then to hear of rebalances.
        wake ??= new Promise<void>((resolve) => (timer = setTimeout(resolve, this.wakeEveryMs)));
        // Refill in bursts of up to `concurrency` records rather than one wake per finished record.
        const room = Math.min(handler.concurrency, Math.floor(handler.maxQueuedRecords / 4));
        const woken = await Promise.race([pool.waitForCapacity(room).then(() => false), wake.then(() => true)]);
        if (woken) wake = undefined;
        if (loop.heartbeatDue()) await loop.heartbeat();
        if (loop.interrupted()) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a record on its worker (PooledRecord.run); only the tracker hears of the outcome. */
  run(record: PooledRecord): Promise<void> | undefined {
    this.services.recordStarted(record);
    let outcome: ProcessOutcome | Promise<ProcessOutcome>;
    try {
      outcome = record.processor.processRecord(record.topic, record.partitionNumber, record.message);
    } catch (error) {
      this.services.recordEnded(record);
      throw error;
    }
    if (typeof outcome === 'string') {
      this.done(record, outcome);
      return undefined;
    }
    return outcome.then(
      (result) => this.done(record, result),
      (error: unknown) => {
        this.services.recordEnded(record);
        throw error;
      },
    );
  }

  private done(record: PooledRecord, outcome: ProcessOutcome): void {
    this.services.recordEnded(record);
    if (outcome === 'aborted') return;
    const acknowledged = outcome === 'acknowledged';
    this.services.finish(record.state, record.message.offset, acknowledged);
    this.runtime.schedule.recordFinished(acknowledged);
  }
}

/**
 * A record queued on a handler's worker pool. A class rather than an object
 * with a closure: one allocation per record on the pooled hot path.
 */
class PooledRecord implements WorkItem {
  /** Date.now() when a worker started it. */
  startedAt = 0;

  constructor(
    private readonly dispatcher: PooledDispatcher,
    readonly partition: string,
    readonly lane: string,
    readonly processor: RecordProcessing,
    readonly state: PartitionState,
    readonly topic: string,
    readonly partitionNumber: number,
    readonly message: FetchedRecord,
  ) {}

  run(): Promise<void> | undefined {
    return this.dispatcher.run(this);
  }
}
