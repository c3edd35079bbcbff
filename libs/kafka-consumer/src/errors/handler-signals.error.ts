/**
 * Errors a handler throws to steer retries. Any other error is retried with the
 * handler's backoff until its attempts are used up.
 */

/** Retrying cannot help (invalid data, a business rule): dead-letter the record now. */
export class NonRetriableError extends Error {
  override readonly name = 'NonRetriableError';
}

/**
 * Set by the module: the attempt ran past the handler's `handlerTimeoutMs`. It
 * counts as a failed attempt (retried, then dead-lettered); the handler's
 * `ctx.signal` is aborted with it.
 */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`the handler did not finish within handlerTimeoutMs (${timeoutMs} ms)`);
  }
}

/** A transient condition: retry after `delayMs` instead of the backoff delay (attempts still count). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}
