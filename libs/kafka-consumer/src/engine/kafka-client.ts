import type { LoggerService } from '@nestjs/common';
import type { RecordHeaders } from '../interfaces/message-context.interface';
import type { ConsumerEngine, EngineSetup } from './consumer-engine';

/** The engine's producer: writes one record and resolves once the broker has it (acks=all). */
export interface RecordSender {
  send(topic: string, record: { key: Buffer | null; value: Buffer | null; headers: RecordHeaders }): Promise<void>;
  close(): Promise<void>;
}

/** Low and high watermark of one partition. */
export interface PartitionWatermarks {
  partition: number;
  low: string;
  high: string;
}

/** What the core asks of the cluster beside consuming: topics, offsets, partition leaders. */
export interface ClusterAdmin {
  listTopics(): Promise<string[]>;
  watermarks(topic: string): Promise<PartitionWatermarks[]>;
  /** Per partition, the first offset whose timestamp is at or after `timestamp` (the end when none). */
  offsetsForTimes(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>>;
  /** A group's committed offsets ('-1' where none), with their commit metadata. */
  committed(groupId: string, topics: string[]): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string | null }> }>>;
  /** A broker setting (e.g. offset.metadata.max.bytes); undefined where the client cannot read it. */
  brokerConfig(name: string): Promise<string | undefined>;
  /** The partitions of existing topics, with their leaders (-1 while none is elected). */
  partitions(topics: string[]): Promise<Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>>;
}

/** How the core tells a client's errors apart. */
export interface ClientErrors {
  /** The member's generation is over (rebalance, unknown member, fenced): rejoin, do not retry. */
  isGeneration(error: unknown): boolean;
  /** Worth another commit attempt (coordinator moved or busy, timeout, dropped connection). */
  isRetriableCommit(error: unknown): boolean;
  /** Another live member uses this member's group.instance.id. */
  isFenced(error: unknown): boolean;
}

/**
 * One Kafka client for the module: admin calls, a consumer engine per group,
 * and a producer for dead letters. The only thing the core gets from a
 * client library; each library's implementation lives in its own folder.
 */
export interface KafkaClient {
  readonly admin: ClusterAdmin;
  readonly errors: ClientErrors;
  connect(): Promise<void>;
  createEngine(setup: EngineSetup): ConsumerEngine;
  readonly deadLetters: RecordSender;
  disconnect(): Promise<void>;
}

/** Builds the client from the resolved options; logs through the module's logger. */
export type KafkaClientFactory<Options> = (options: Options, logger: LoggerService) => KafkaClient;
