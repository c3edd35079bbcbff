import type { Deserializer } from '../interfaces/deserializer.interface';
import type { CommitMetadataMode, CommitMode, OrderingMode } from '../interfaces/handler-options.interface';
import type { ConsumerSettings, KafkaConsumerModuleOptions, PrometheusRegistry } from '../interfaces/module-options.interface';
import type { ResolvedStandalone } from './resolve-standalone';

/** Options after defaults and validation: what the rest of the module reads. */

export type ResolvedConsumerSettings = Required<Omit<ConsumerSettings, 'groupInstanceId' | 'standalone'>> & {
  groupInstanceId?: string;
  /** Set for a standalone group (§4.11); its `assign` is complete once the group is resolved. */
  standalone?: ResolvedStandalone;
};

export interface ResolvedCommitPolicy {
  mode: CommitMode;
  sync: boolean;
  /** `auto` only; 0 elsewhere. */
  intervalMs: number;
  /** `auto` only; 0 = off. */
  everyRecords: number;
}

export interface ResolvedRetry {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ResolvedModuleOptions {
  brokers: string[];
  clientId: string;
  clientRack: string;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  ssl?: KafkaConsumerModuleOptions['ssl'];
  sasl?: KafkaConsumerModuleOptions['sasl'];
  groupId?: string;
  topicRefreshIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel?: KafkaConsumerModuleOptions['logLevel'];
  defaults: ResolvedConsumerSettings;
  groups: Record<string, ConsumerSettings>;
  handlers: NonNullable<KafkaConsumerModuleOptions['handlers']>;
  /** Prometheus metrics on, in this registry (prom-client's default when none). */
  prometheus?: { registry?: PrometheusRegistry };
}

export interface ResolvedHandler<S = unknown> {
  name: string;
  groupId: string;
  topics: string[];
  patterns: RegExp[];
  batch: boolean;
  fromBeginning?: boolean;
  valueDeserializer: Deserializer<unknown>;
  keyDeserializer: Deserializer<unknown>;
  commit: ResolvedCommitPolicy;
  ordering: OrderingMode;
  concurrency: number;
  /** Worker pool: records fetched but not finished, at most (queued + running). */
  maxQueuedRecords: number;
  /** Bound on one attempt of the handler, in ms; undefined: none. */
  handlerTimeoutMs?: number;
  /** What commits carry as metadata (see KafkaHandlerOptions.commitMetadata). */
  commitMetadata: CommitMetadataMode;
  /** Run the CPU part on worker threads (validated when the pool starts). */
  threads?: { filename: string; size?: number; exportName?: string };
  retry: ResolvedRetry;
  /** false: report only; otherwise the dead-letter topic (undefined: `<topic>.DLT`). */
  deadLetter: false | { topic?: string };
  /** Whatever the caller attached (the bound method, for the runtime). */
  source: S;
}

export interface ResolvedGroup<S = unknown> {
  groupId: string;
  settings: ResolvedConsumerSettings;
  handlers: ResolvedHandler<S>[];
}
