import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { Fifo } from '../utils/fifo';

/**
 * One unit of work: usually one record (or one batch chunk) of one partition.
 * `run` does the whole job, errors included; a rejection is only counted and
 * passed to `onError`, it never stops the scheduler.
 */
export interface WorkItem {
  /** Topic-partition key (`topicPartitionKey`): the unit of accounting and backpressure. */
  partition: string;
  /**
   * Items of one lane run one at a time, in submission order. A lane belongs to
   * one partition (`laneFor` builds lanes that do).
   */
  lane: string;
  run: () => Promise<void> | void;
}

export interface WorkSchedulerOptions<T extends WorkItem = WorkItem> {
  /** Items running at once across all lanes (the number of workers). */
  concurrency: number;
  /** Items held at once, queued and running together. `submit` beyond it throws. */
  capacity: number;
  /** Called with a rejection (or synchronous throw) of `run`; its own throws are ignored. */
  onError?: (error: unknown, item: T) => void;
}

export interface PartitionWorkMetrics {
  queued: number;
  running: number;
  /** Items whose `run` settled, failed ones included. */
  completed: number;
  /** Items whose `run` rejected or threw. */
  failed: number;
  /** Items removed by `dropQueued` before they started. */
  dropped: number;
}

export interface WorkSchedulerMetrics extends PartitionWorkMetrics {
  capacity: number;
  concurrency: number;
  partitions: Record<string, PartitionWorkMetrics>;
}

/**
 * The in-memory dispatcher of the worker pool: one consumer loop submits items,
 * up to `concurrency` of them run at once. Items of one lane start in FIFO order
 * and never overlap; lanes are served round-robin from a ready queue, so a slow
 * lane holds only its own items back (no head-of-line blocking). O(1) amortized
 * per submit and per completion.
 *
 * Backpressure: the scheduler holds `capacity` items. Past that it admits
 * (`admits`) only a partition under its share, so that one partition whose
 * records are stuck behind a slow one cannot starve the others, and never
 * more than twice `capacity`. A partition is over its share when its pending
 * (queued + running) count is at least `fairShare()` = capacity / partitions
 * with pending work; when the scheduler is full at least one partition always
 * is. The consumer loop awaits `waitForCapacity()` (or uses `submitWhenRoom`),
 * or pauses fetching of the partitions over their share.
 */
export class WorkScheduler<T extends WorkItem = WorkItem> {
  private readonly concurrency: number;
  private readonly capacity: number;
  private readonly onError: ((error: unknown, item: T) => void) | undefined;
  /** Lanes with queued or running items; a lane is dropped once empty and idle. */
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes with queued items and nothing running; may hold stale entries (see `inReady`). */
  private readonly ready = new Fifo<Lane<T>>();
  private readonly partitions = new Map<string, PartitionState>();
  private activePartitions = 0;
  private queuedCount = 0;
  private runningCount = 0;
  private completedCount = 0;
  private failedCount = 0;
  private droppedCount = 0;
  private pumping = false;
  /** Resolvers waiting for room, with the free slots each waits for. */
  private capacityWaiters: Array<{ room: number; resolve: () => void }> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(options: WorkSchedulerOptions<T>) {
    this.concurrency = positiveInteger('concurrency', options.concurrency);
    this.capacity = positiveInteger('capacity', options.capacity);
    this.onError = options.onError;
  }

  /** Items held: queued plus running. */
  get size(): number {
    return this.queuedCount + this.runningCount;
  }

  get running(): number {
    return this.runningCount;
  }

  /** Items waiting to start, of one partition or of all. */
  queued(partition?: string): number {
    if (partition === undefined) return this.queuedCount;
    return this.partitions.get(partition)?.queued ?? 0;
  }

  /** Queued plus running items of one partition. */
  pending(partition: string): number {
    const state = this.partitions.get(partition);
    return state ? state.queued + state.running : 0;
  }

  isFull(): boolean {
    return this.size >= this.capacity;
  }

  /** Whether `submit` takes an item of this partition now (see the class comment). */
  admits(partition: string): boolean {
    const size = this.size;
    return size < this.capacity || (size < 2 * this.capacity && this.pending(partition) < this.fairShare());
  }

  /**
   * Workers with nothing to run although items may be queued: everything queued
   * waits behind a running item of its own lane (ordering), so admitting more
   * of the same lanes would not keep them busy.
   */
  get idleWorkers(): number {
    return this.concurrency - this.runningCount;
  }

  /** capacity / number of partitions with pending work (capacity when none has any). */
  fairShare(): number {
    return this.capacity / Math.max(1, this.activePartitions);
  }

  /** Partitions whose pending count is at least `fairShare()`: the ones to pause when full. */
  partitionsOverShare(): string[] {
    const share = this.fairShare();
    const over: string[] = [];
    for (const [partition, state] of this.partitions) {
      if (state.queued + state.running >= share) over.push(partition);
    }
    return over;
  }

  /**
   * Queues an item; it may start before `submit` returns. Throws when the
   * scheduler does not admit it: check `admits()` and await `waitForCapacity()` first.
   */
  submit(item: T): void {
    if (!this.admits(item.partition)) {
      throw new Error(`WorkScheduler is full (capacity ${this.capacity}); await waitForCapacity() before submitting to ${item.partition}`);
    }
    const partition = this.partitionState(item.partition);
    if (partition.queued + partition.running === 0) this.activePartitions += 1;
    partition.queued += 1;
    this.queuedCount += 1;
    let lane = this.lanes.get(item.lane);
    if (!lane) {
      lane = { key: item.lane, queue: new Fifo<T>(), running: false, inReady: false };
      lane.queue.push(item);
      this.lanes.set(item.lane, lane);
    } else {
      lane.queue.push(item);
    }
    if (!lane.running && !lane.inReady) {
      lane.inReady = true;
      this.ready.push(lane);
    }
    this.pump();
  }

  /** Waits until there is room, then submits. Waiters are not ordered among themselves. */
  async submitWhenRoom(item: T): Promise<void> {
    while (this.isFull()) await this.waitForCapacity();
    this.submit(item);
  }

  /**
   * Resolves once at least `room` slots are free (`size <= capacity - room`),
   * at once if so already. Every waiter wakes on the same freed slots, so
   * with several submitters re-check `admits()`. Waiting for more than one
   * slot lets a submitter refill in bursts instead of waking per completion.
   */
  waitForCapacity(room = 1): Promise<void> {
    const needed = Math.min(Math.max(1, Math.floor(room)), this.capacity);
    if (this.size <= this.capacity - needed) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push({ room: needed, resolve }));
  }

  /** Resolves once the partition has nothing queued or running. */
  whenPartitionIdle(partition: string): Promise<void> {
    const state = this.partitions.get(partition);
    if (!state || state.queued + state.running === 0) return Promise.resolve();
    return new Promise((resolve) => (state.idleWaiters ??= []).push(resolve));
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Removes the items of a partition (or of all partitions) that have not
   * started, e.g. on revocation or shutdown; running items finish. Returns how
   * many were removed. O(lanes held).
   */
  dropQueued(partition?: string): number {
    let dropped = 0;
    for (const lane of this.lanes.values()) {
      if (lane.queue.size === 0) continue;
      if (partition !== undefined && lane.queue.peek()!.partition !== partition) continue;
      const removed = lane.queue.clear();
      for (const item of removed) this.countDropped(item.partition);
      dropped += removed.length;
      // A stale ready entry is skipped by pump(); an empty idle lane is forgotten now.
      if (!lane.running && !lane.inReady) this.lanes.delete(lane.key);
    }
    if (dropped > 0) {
      this.pump();
      this.notify(partition);
    }
    return dropped;
  }

  metrics(): WorkSchedulerMetrics {
    const partitions: Record<string, PartitionWorkMetrics> = {};
    for (const [key, state] of this.partitions) partitions[key] = snapshot(state);
    return {
      capacity: this.capacity,
      concurrency: this.concurrency,
      queued: this.queuedCount,
      running: this.runningCount,
      completed: this.completedCount,
      failed: this.failedCount,
      dropped: this.droppedCount,
      partitions,
    };
  }

  partitionMetrics(partition: string): PartitionWorkMetrics | undefined {
    const state = this.partitions.get(partition);
    return state ? snapshot(state) : undefined;
  }

  /** Forgets the counters of a partition with no pending work (after revocation). */
  forgetPartition(partition: string): boolean {
    const state = this.partitions.get(partition);
    if (!state || state.queued + state.running > 0) return false;
    return this.partitions.delete(partition);
  }

  private pump(): void {
    if (this.pumping) return; // a run() that submits synchronously is picked up by the outer loop
    this.pumping = true;
    try {
      while (this.runningCount < this.concurrency) {
        const lane = this.ready.shift();
        if (!lane) break;
        lane.inReady = false;
        if (lane.queue.size === 0) {
          // Emptied by dropQueued while waiting here.
          if (!lane.running) this.lanes.delete(lane.key);
          continue;
        }
        this.start(lane);
      }
    } finally {
      this.pumping = false;
    }
  }

  private start(lane: Lane<T>): void {
    const item = lane.queue.shift()!;
    lane.running = true;
    const partition = this.partitions.get(item.partition)!;
    partition.queued -= 1;
    partition.running += 1;
    this.queuedCount -= 1;
    this.runningCount += 1;
    let result: Promise<void> | void;
    try {
      result = item.run();
    } catch (error) {
      result = Promise.reject(error);
    }
    // Finished on a later microtask even when run() was synchronous, so pump() never recurses.
    Promise.resolve(result).then(
      () => this.finish(lane, item, partition, false),
      (error: unknown) => {
        this.report(error, item);
        this.finish(lane, item, partition, true);
      },
    );
  }

  private finish(lane: Lane<T>, item: T, partition: PartitionState, failed: boolean): void {
    lane.running = false;
    partition.running -= 1;
    partition.completed += 1;
    this.runningCount -= 1;
    this.completedCount += 1;
    if (failed) {
      partition.failed += 1;
      this.failedCount += 1;
    }
    if (partition.queued + partition.running === 0) this.activePartitions -= 1;
    if (lane.queue.size > 0) {
      lane.inReady = true;
      this.ready.push(lane);
    } else if (!lane.inReady) {
      this.lanes.delete(lane.key);
    }
    this.pump();
    this.notify(item.partition);
  }

  private countDropped(key: string): void {
    const partition = this.partitions.get(key)!;
    partition.queued -= 1;
    partition.dropped += 1;
    this.queuedCount -= 1;
    this.droppedCount += 1;
    if (partition.queued + partition.running === 0) this.activePartitions -= 1;
  }

  /** Wakes waiters whose condition holds; `partition` undefined checks every partition. */
  private notify(partition: string | undefined): void {
    const free = this.capacity - this.size;
    // Runs per completion: the waiter list is rebuilt only when someone wakes.
    if (free > 0 && this.capacityWaiters.length > 0 && this.someWaiterFits(free)) {
      const waiting = this.capacityWaiters;
      this.capacityWaiters = [];
      for (const waiter of waiting) {
        if (waiter.room <= free) waiter.resolve();
        else this.capacityWaiters.push(waiter);
      }
    }
    if (partition !== undefined) {
      const state = this.partitions.get(partition);
      if (state?.idleWaiters && state.queued + state.running === 0) wakeAll(state.idleWaiters.splice(0));
    } else {
      for (const state of this.partitions.values()) {
        if (state.idleWaiters && state.queued + state.running === 0) wakeAll(state.idleWaiters.splice(0));
      }
    }
    if (this.idleWaiters.length > 0 && this.size === 0) wakeAll(this.idleWaiters.splice(0));
  }

  private someWaiterFits(free: number): boolean {
    for (const waiter of this.capacityWaiters) if (waiter.room <= free) return true;
    return false;
  }

  private report(error: unknown, item: T): void {
    try {
      this.onError?.(error, item);
    } catch {
      // The callback's own failure must not stall the scheduler.
    }
  }

  private partitionState(key: string): PartitionState {
    let state = this.partitions.get(key);
    if (!state) {
      state = { queued: 0, running: 0, completed: 0, failed: 0, dropped: 0, idleWaiters: undefined };
      this.partitions.set(key, state);
    }
    return state;
  }
}

interface Lane<T> {
  key: string;
  /** Queued items, oldest first. */
  queue: Fifo<T>;
  running: boolean;
  /** An entry for this lane sits in the ready queue (possibly stale after dropQueued). */
  inReady: boolean;
}

interface PartitionState extends PartitionWorkMetrics {
  idleWaiters: Array<() => void> | undefined;
}

function snapshot(state: PartitionState): PartitionWorkMetrics {
  const { queued, running, completed, failed, dropped } = state;
  return { queued, running, completed, failed, dropped };
}

function wakeAll(waiters: Array<() => void>): void {
  for (const wake of waiters) wake();
}

function positiveInteger(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new KafkaConsumerConfigError(option, value, 'must be a positive integer');
  return value;
}
