import { SetMetadata } from '@nestjs/common';
import type { RebalanceHookKind, RebalanceHookOptions } from '../interfaces/rebalance.interface';
import { KAFKA_REBALANCE_HOOK_METADATA } from '../kafka-consumer.constants';

export interface RebalanceHookMetadata extends RebalanceHookOptions {
  kind: RebalanceHookKind;
}

const hook = (kind: RebalanceHookKind, options: RebalanceHookOptions): MethodDecorator =>
  SetMetadata(KAFKA_REBALANCE_HOOK_METADATA, { ...options, kind } satisfies RebalanceHookMetadata);

/**
 * Called with the partitions this member newly got, after the group settled and
 * before they are fetched: the place to load state or seek. Partitions it kept
 * are not passed again.
 */
export function OnPartitionsAssigned(options: RebalanceHookOptions = {}): MethodDecorator {
  return hook('assigned', options);
}

/**
 * Called with the partitions this member gives up, once their in-flight records
 * finished (bounded by shutdownTimeoutMs) and their finished offsets were
 * committed: the place to flush state kept per partition. Also called for every
 * owned partition on shutdown.
 */
export function OnPartitionsRevoked(options: RebalanceHookOptions = {}): MethodDecorator {
  return hook('revoked', options);
}

/**
 * Called with partitions this member lost without a chance to commit: its
 * session expired, it was fenced, or its consumer crashed. Another member may
 * already own them; do not commit or flush for them, discard their state.
 */
export function OnPartitionsLost(options: RebalanceHookOptions = {}): MethodDecorator {
  return hook('lost', options);
}
