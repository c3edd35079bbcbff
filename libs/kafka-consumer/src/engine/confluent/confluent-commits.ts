import type { KafkaConsumer, LibrdKafkaError, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { EngineOffset } from '../consumer-engine';

/** How long a commit that was not stored waits for librdkafka to say why (reading it back meanwhile). */
const COMMIT_ERROR_WAIT_MS = 2_000;
/** Between two reads of offsets not stored yet. */
const READ_AGAIN_MS = 100;
/** How long reading committed offsets back after a commit may take. */
const COMMIT_CHECK_TIMEOUT_MS = 10_000;

type TopicPartitionRef = { topic: string; partition: number };

/** One offset_commit_cb call: the request's error, and per partition its own. */
export interface CommitResult {
  at: number;
  error: LibrdKafkaError | null;
  partitions: Array<TopicPartitionRef & { offset: number; error?: LibrdKafkaError }>;
}

/** A commit librdkafka queued that the coordinator did not store (a rebalance, a moved coordinator): worth another attempt. */
export class CommitNotStoredError extends Error {
  readonly retriable = true;
}

/** The consumer calls a commit needs; commitCb is missing from the binding's typings. */
export type CommittingConsumer = Pick<KafkaConsumer, 'committed'> & {
  commitCb(offsets: TopicPartitionOffset[], callback: (error: LibrdKafkaError | null) => void): void;
};

/**
 * Commits that resolve once stored. The binding's commit only queues the
 * request; its outcome comes through offset_commit_cb on a later poll of the
 * fetch loop. While the loop polls, that outcome decides. While the loop is
 * held (a handler awaiting this very commit), the offsets are read back from
 * the coordinator instead: librdkafka sends both on the coordinator
 * connection in order. When they were not stored, the error librdkafka
 * reported for them is thrown, else CommitNotStoredError. (A read-back cannot
 * tell this member's commit from another consumer's of the same offsets; only
 * a misconfigured group has one.)
 */
export class ConfluentCommits {
  /** librdkafka's latest commit outcomes. */
  private readonly results: CommitResult[] = [];
  private waiters: Array<() => void> = [];

  constructor(
    private readonly consumer: () => CommittingConsumer,
    /** Whether the fetch loop polls (and so serves offset_commit_cb) rather than waiting for a dispatch. */
    private readonly loopPolls: () => boolean,
  ) {}

  /** For the consumer's offset_commit_cb. */
  onResult(error: LibrdKafkaError | null, partitions: CommitResult['partitions'] | undefined): void {
    this.results.push({ at: Date.now(), error, partitions: partitions ?? [] });
    if (this.results.length > 32) this.results.shift();
    for (const wake of this.waiters.splice(0)) wake();
  }

  async commit(offsets: EngineOffset[]): Promise<void> {
    const consumer = this.consumer();
    const list = offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset: Number(offset), ...(metadata === undefined ? {} : { metadata }) }));
    const sent = Date.now();
    await new Promise<void>((resolve, reject) => consumer.commitCb(list, (error) => (error ? reject(error) : resolve())));
    const outcome = await this.outcomeWhilePolling(list, sent);
    if (outcome === 'stored') return;
    if (outcome) throw outcome;
    // The read can overtake the commit inside librdkafka: read again until stored, librdkafka reports an error, or time is up.
    const deadline = Date.now() + COMMIT_ERROR_WAIT_MS;
    for (;;) {
      const stored = await new Promise<TopicPartitionOffset[]>((resolve, reject) =>
        consumer.committed(list, COMMIT_CHECK_TIMEOUT_MS, (error, result) => (error ? reject(error) : resolve(result))),
      );
      const missing = list.filter(({ topic, partition, offset }) => !stored.some((s) => s.topic === topic && s.partition === partition && s.offset >= offset));
      if (missing.length === 0) {
        // Stored, by this member or another consumer of the group: the loop polls again (it was held by a
        // batch, not by this commit), so librdkafka's own answer for this commit decides.
        const own = await this.outcomeWhilePolling(list, sent);
        if (own instanceof Error) throw own;
        return;
      }
      const cause = await this.errorFor(missing, sent, Math.min(READ_AGAIN_MS, deadline - Date.now()));
      if (cause) throw cause;
      if (Date.now() >= deadline) {
        throw new CommitNotStoredError(`the coordinator did not store the commit of ${missing.map((m) => `${m.topic}[${m.partition}]@${m.offset}`).join(', ')}`);
      }
    }
  }

  /**
   * This commit's own result from offset_commit_cb, waited for while the fetch
   * loop polls; undefined once the loop is held (or after COMMIT_ERROR_WAIT_MS).
   */
  private outcomeWhilePolling(partitions: TopicPartitionRef[], since: number): Promise<'stored' | Error | undefined> {
    const covers = (r: CommitResult) => partitions.every((p) => r.partitions.some((q) => q.topic === p.topic && q.partition === p.partition));
    return this.untilFound(
      () => {
        const result = this.results.find((r) => r.at >= since && covers(r));
        return result ? (errorIn(result, partitions) ?? 'stored') : undefined;
      },
      COMMIT_ERROR_WAIT_MS,
      this.loopPolls,
    );
  }

  /**
   * The error librdkafka reported (on a poll of the fetch loop) for a commit
   * of these partitions sent at `since` or later; undefined when none came
   * within `waitMs`.
   */
  private errorFor(partitions: TopicPartitionRef[], since: number, waitMs: number): Promise<Error | undefined> {
    return this.untilFound(() => {
      for (const result of this.results) {
        if (result.at < since || !result.partitions.some((p) => touches(p, partitions))) continue;
        const error = errorIn(result, partitions);
        if (error) return error;
      }
      return undefined;
    }, waitMs);
  }

  /** What `find` finds in the commit results, looked for again as results come, for `waitMs` and while `keepWaiting`. */
  private async untilFound<T>(find: () => T | undefined, waitMs: number, keepWaiting: () => boolean = () => true): Promise<T | undefined> {
    const deadline = Date.now() + Math.max(0, waitMs);
    while (keepWaiting()) {
      const found = find();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, READ_AGAIN_MS));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return undefined;
  }
}

const touches = (p: TopicPartitionRef, partitions: TopicPartitionRef[]) => partitions.some(({ topic, partition }) => p.topic === topic && p.partition === partition);

/** The error of one commit result for these partitions: a partition's own, else the request's. */
function errorIn(result: CommitResult, partitions: TopicPartitionRef[]): Error | undefined {
  return ((result.partitions.find((p) => p.error && touches(p, partitions))?.error ?? result.error) as unknown as Error | null) ?? undefined;
}
