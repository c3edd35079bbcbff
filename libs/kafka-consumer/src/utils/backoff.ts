/** Delay before attempt `attempt + 1`: exponential from `initialDelayMs`, capped. */
export function backoffDelay(retry: { initialDelayMs: number; maxDelayMs: number }, attempt: number): number {
  return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempt - 1));
}

/** Waits `ms`, or less if `signal` aborts first (shutdown must not wait out a backoff). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
