/** A decorated method bound to its provider instance. */
export type BoundMethod = (...args: unknown[]) => unknown;
