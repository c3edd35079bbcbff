import type { Deserializer } from './deserializer.interface';

/** A topic name, a list of names, or a pattern that also matches topics created later. */
export type TopicSubscription = string | string[] | RegExp;

export type CommitMode = 'auto' | 'record' | 'batch' | 'manual';

export type OrderingMode = 'partition' | 'key' | 'unordered';

export type BuiltinDeserializer = 'string' | 'json' | 'buffer';

/**
 * When the module commits a handler's offsets (§4.6). Every mode commits only
 * the offset after the last record whose processing finished, never past an
 * unfinished one.
 */
export interface CommitPolicyOptions {
  mode: CommitMode;
  /** Wait for the broker to acknowledge each commit before going on (default false). */
  sync?: boolean;
  /** `auto`: commit at least this often (default 5000 ms). */
  intervalMs?: number;
  /** `auto`: also commit after this many finished records (default: off). */
  everyRecords?: number;
}

/** What a handler's commits carry as metadata: nothing, or the offsets finished above the committed one. */
export type CommitMetadataMode = 'none' | 'finished-ahead';

export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  /** Delay before the second attempt (default 100 ms); doubles each time. */
  initialDelayMs?: number;
  /** Upper bound for one delay (default 5000 ms). */
  maxDelayMs?: number;
}

export interface KafkaHandlerOptions {
  /** Consumer group; defaults to the module's `groupId`. */
  groupId?: string;
  /** Name used for overrides from module config (default `ClassName.methodName`). */
  name?: string;
  /** Value deserializer (default `json`). */
  deserializer?: BuiltinDeserializer | Deserializer<unknown>;
  /** Key deserializer (default `string`). */
  keyDeserializer?: BuiltinDeserializer | Deserializer<unknown>;
  /** Where to start when the group has no committed offset; overrides `autoOffsetReset`. */
  fromBeginning?: boolean;
  /** Commit policy (default `record`, async: every finished record's offset + 1, coalesced). */
  commit?: CommitMode | CommitPolicyOptions;
  /** Ordering of concurrent work (default `partition`). */
  ordering?: OrderingMode;
  /**
   * Records of this handler processed at once by the worker pool (default 1:
   * sequential, in the fetch loop). Above 1, records are queued to N async
   * workers; `ordering` decides what may run side by side.
   */
  concurrency?: number;
  /**
   * Worker pool bound: records fetched but not yet finished (default
   * max(64, 8 × concurrency)). When reached, fetching pauses until it drains.
   */
  maxQueuedRecords?: number;
  /**
   * Bound on one attempt of an async handler (default: none). Past it the
   * attempt counts as failed with a HandlerTimeoutError (retried, then
   * dead-lettered), `ctx.signal` is aborted, and the partition moves on. A
   * handler that ignores the signal goes on running unobserved: its result is
   * ignored. Must be below the group's `maxPollIntervalMs`.
   */
  handlerTimeoutMs?: number;
  /**
   * `'finished-ahead'`: each commit also carries, in its metadata, the offsets
   * finished above the committed one (a worker pool finishes out of order);
   * a member taking the partition after a crash skips them instead of running
   * them again. Off by default (`'none'`); not with `commit: 'manual'`. The
   * map's size is bounded by the broker's `offset.metadata.max.bytes`: near
   * it the partition takes no new records until the committed offset moves.
   */
  commitMetadata?: CommitMetadataMode;
  /**
   * CPU-bound work on worker threads: the function exported by `filename` (an
   * absolute path to compiled JavaScript) runs on a thread with `(value, meta)`
   * and the decorated method receives its result in place of the value, on the
   * main thread (e.g. parse/score on a thread, write to the database here).
   * Ordering, retries and commits are those of the handler.
   */
  threads?: { filename: string; size?: number; exportName?: string };
  /** Retry before giving up on a record. */
  retry?: RetryOptions;
  /**
   * Where a record goes when it cannot be deserialized or its handler failed on
   * every attempt: `<topic>.DLT` by default, or the given topic. `false` only
   * reports it (log and `@OnKafkaError`) and moves on.
   */
  deadLetter?: false | { topic?: string };
}

/** What the decorator stores; `batch` marks a batch handler. */
export interface KafkaHandlerMetadata extends KafkaHandlerOptions {
  /** Undefined: the module options give them (`handlers[name].topics`). */
  topics: TopicSubscription | undefined;
  batch: boolean;
}
