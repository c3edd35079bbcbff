/**
 * Settings shared by the bench orchestrator (run.ts) and the measured
 * consumers (child.ts). Every consumer gets the same fetch and group settings,
 * so the rows differ only in the code that consumes.
 */

/** Fetch settings for every consumer (kafkajs names; the module's names beside them). */
export const FETCH = {
  /** fetch.min.bytes / module `fetchMinBytes`. */
  minBytes: 1,
  /** fetch.max.bytes / module `fetchMaxBytes` (kafkajs default; the module's default is 50 MiB). */
  maxBytes: 10 * 1024 * 1024,
  /** max.partition.fetch.bytes / module `maxPartitionFetchBytes`: above one producer batch. */
  maxBytesPerPartition: 1024 * 1024,
  /** fetch.max.wait.ms / module `fetchMaxWaitMs`: how long a broker holds an empty fetch. */
  maxWaitTimeInMs: 100,
} as const;

/** Group settings that keep joins short. */
export const GROUP = {
  sessionTimeout: 6_000,
  heartbeatInterval: 500,
  rebalanceTimeout: 10_000,
} as const;

/** Value bytes per record: with the key (`key-NNN`) and record framing, ~200 bytes on the wire. */
export const VALUE_BYTES = 180;
/** Distinct keys, `key-0` … `key-999`; key k lives in partition k % partitions. */
export const KEYS = 1_000;
/**
 * Records per producer batch (one per partition per send). The mock returns one
 * producer batch per partition per fetch, so there this is also the fetch size;
 * 2,500 × ~200 bytes ≈ 0.5 MB stays below maxBytesPerPartition.
 */
export const PRODUCE_CHUNK = 2_500;
/** The mock cluster keeps at most this many bytes per partition log (older batches are dropped). */
export const MOCK_PARTITION_LOG_CAP = 5 * 1024 * 1024;

/** `timers`: no consumer at all, only `concurrency` loops awaiting `ioMs` timers (what the event loop allows). */
export type ConsumerKind = 'kafkajs-batch' | 'kafkajs-message' | 'confluent-batch' | 'confluent-consume' | 'module' | 'nest' | 'timers';

/** What one child process measures; passed as JSON on its command line. */
export interface ChildConfig {
  row: string;
  kind: ConsumerKind;
  brokers: string[];
  topic: string;
  groupId: string;
  /** Stop once this many records have been consumed (handler finished). */
  total: number;
  /** Each record awaits a timer of this many ms (0: no-op). */
  ioMs: number;
  /** kafkajs / Nest transport `partitionsConsumedConcurrently`. */
  partitionsConsumedConcurrently?: number;
  /** Module only: this many consumer groups in the process, each reading the whole topic (default 1). */
  groups?: number;
  /** Module only: the engine (default kafkajs). */
  engine?: 'kafkajs' | 'confluent';
  /** Module only: maxBufferedBytes (default: the module's, 2 MiB). */
  maxBufferedBytes?: number;
  /** Module only: the no-op handler takes @Payload() and @Ctx() (called through Nest's external context). */
  nestParams?: boolean;
  /**
   * Module only, what observes the module: `tracing`, an OpenTelemetry tracer provider (spans
   * batched to an exporter that drops them); `metrics`, an OpenTelemetry meter provider (a
   * periodic reader, 1 s, to an exporter that drops); `prometheus`, the module's prom-client
   * metrics, scraped once a second.
   */
  telemetry?: Array<'tracing' | 'metrics' | 'prometheus'>;
  /** Module handler options. */
  concurrency?: number;
  ordering?: 'partition' | 'key' | 'unordered';
  /** Give up (exit 2) after this long without reaching `total`. */
  timeoutMs: number;
}

/** What a child reports over IPC when it has consumed `total` records. */
export interface ChildResult {
  type: 'result';
  row: string;
  records: number;
  /** First record handed to the consumer code → `total` records finished. */
  seconds: number;
  msgsPerSec: number;
  /** Process start → first record (connect, join, first fetch). */
  startupMs: number;
  /** Resident set size just before the first record and at the end, MB. */
  rssAtFirstRecordMB: number;
  rssAtEndMB: number;
  /** V8 heap in use after a full GC once `total` records are done, MB. */
  heapUsedAfterGcMB: number;
  /** Largest V8 heap size, heap in use and Buffer (external) memory seen, sampled every 100 ms, MB. */
  peakHeapTotalMB: number;
  peakHeapUsedMB: number;
  peakExternalMB: number;
  /** Peak resident set size of the child over its life (/proc/self/status VmHWM), MB. */
  peakRssMB: number;
}

export interface ChildFailure {
  type: 'error';
  row: string;
  message: string;
}

export type ChildMessage = ChildResult | ChildFailure;

export const MB = 1024 * 1024;
