import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { ResolvedHandler } from '../options/resolved-options';
import { freshPartitionState, PartitionState } from './partition-state';

/**
 * The partitions this member owns, by `topic partition` key, each with its
 * handler and offset tracker. A state object stands for one epoch of its
 * partition: taking the partition again or seeking replaces it, so work of an
 * older epoch sees `get(key) !== state` and neither finishes nor commits there.
 */
export class PartitionRegistry extends Map<string, PartitionState> {
  /** Starts tracking a partition afresh (taken, or moved by a seek); returns its new state. */
  track(key: string, handler: ResolvedHandler<BoundMethod>): PartitionState {
    const state = freshPartitionState(handler);
    this.set(key, state);
    return state;
  }

  /** Keys of the partitions this handler consumes. */
  keysOf(handler: ResolvedHandler<BoundMethod>): string[] {
    const keys: string[] = [];
    for (const [key, state] of this) if (state.handler === handler) keys.push(key);
    return keys;
  }
}
