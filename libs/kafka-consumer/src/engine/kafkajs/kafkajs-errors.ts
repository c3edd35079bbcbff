/** Classifies kafkajs errors for the module's own retry decisions. */

interface KafkaLikeError {
  type?: string;
  name?: string;
  retriable?: boolean;
  cause?: unknown;
}

/** The member's generation is over: retrying the same request cannot succeed. */
const GENERATION_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

export function isGenerationError(error: unknown): boolean {
  const type = (error as KafkaLikeError | null)?.type;
  return type !== undefined && GENERATION_ERRORS.has(type);
}

/** Worth another attempt: the coordinator moved or was busy, a request timed out, a connection dropped. */
export function isRetriableCommitError(error: unknown): boolean {
  if (isGenerationError(error)) return false;
  const e = error as KafkaLikeError | null;
  if (!e) return false;
  if (e.retriable === true) return true;
  return ['KafkaJSConnectionError', 'KafkaJSRequestTimeoutError', 'KafkaJSConnectionClosedError'].includes(e.name ?? '');
}

/** Another live member joined with this member's group.instance.id (§4.5.15). */
export function isFencedError(error: unknown): boolean {
  const e = error as KafkaLikeError | null;
  return e?.type === 'FENCED_INSTANCE_ID' || (e?.cause !== undefined && e.cause !== error && isFencedError(e.cause));
}

/** The classification above, as the core asks for it (engine/kafka-client.ts). */
export const KAFKAJS_ERRORS = {
  isGeneration: isGenerationError,
  isRetriableCommit: isRetriableCommitError,
  isFenced: isFencedError,
} as const;
