/**
 * Why a task of a thread pool failed:
 * - `input-not-cloneable`: the value or meta cannot be structured-cloned to the thread;
 * - `result-not-cloneable`: the function's result cannot be cloned back;
 * - `threw`: the function threw or its promise rejected (`cause` carries the
 *   worker's error: name, message, stack and `code` survive, its class does not);
 * - `crashed`: the worker thread died while running the task (process.exit,
 *   an uncaught error, out of memory); the pool replaces the thread;
 * - `unavailable`: no worker thread could be started for the task;
 * - `aborted`: the caller's AbortSignal fired (shutdown, revocation) first;
 * - `destroyed`: the pool was destroyed before the task finished.
 */
export type ThreadTaskFailure = 'input-not-cloneable' | 'result-not-cloneable' | 'threw' | 'crashed' | 'unavailable' | 'aborted' | 'destroyed';

/** A task run on a worker thread failed; the message names the module file and export. */
export class ThreadTaskError extends Error {
  override readonly name = 'ThreadTaskError';

  constructor(
    readonly reason: ThreadTaskFailure,
    readonly filename: string,
    /** The export that ran; `default` for `module.exports = fn` or a default export. */
    readonly exportName: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`thread task ${exportName} of ${filename} failed (${reason}): ${detail}`, options);
  }
}
