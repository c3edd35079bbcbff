import type { ClientErrors } from '../kafka-client';

/** librdkafka error codes the core classifies (see librdkafka's rdkafka.h). */
export const RD = {
  TRANSPORT: -195,
  TIMED_OUT: -185,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  FENCED: -144,
  FATAL: -150,
  ASSIGNMENT_LOST: -142,
  REQUEST_TIMED_OUT: 7,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  FENCED_INSTANCE_ID: 82,
  STALE_MEMBER_EPOCH: 113,
} as const;

const code = (error: unknown): number | undefined => {
  const value = (error as { code?: unknown } | null)?.code;
  return typeof value === 'number' ? value : undefined;
};

const GENERATION = new Set<number>([RD.ILLEGAL_GENERATION, RD.UNKNOWN_MEMBER_ID, RD.REBALANCE_IN_PROGRESS, RD.FENCED_INSTANCE_ID, RD.STALE_MEMBER_EPOCH, RD.ASSIGNMENT_LOST]);
const RETRIABLE = new Set<number>([RD.TRANSPORT, RD.TIMED_OUT, RD.REQUEST_TIMED_OUT, RD.COORDINATOR_LOAD_IN_PROGRESS, RD.COORDINATOR_NOT_AVAILABLE, RD.NOT_COORDINATOR]);

/** librdkafka's error codes → the classes the core acts on. */
export const CONFLUENT_ERRORS: ClientErrors = {
  isGeneration: (error) => GENERATION.has(code(error) ?? 0),
  isRetriableCommit: (error) => RETRIABLE.has(code(error) ?? 0) || (error as { retriable?: unknown } | null)?.retriable === true,
  // A fenced static member surfaces as librdkafka's fatal error, its cause in the message.
  isFenced: (error) =>
    code(error) === RD.FENCED_INSTANCE_ID || code(error) === RD.FENCED || (code(error) === RD.FATAL && /fenced/i.test((error as Error)?.message ?? '')),
};
