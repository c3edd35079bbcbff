/** A promise or promise-like: the hot path awaits only what is one (handlers may answer synchronously). */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
