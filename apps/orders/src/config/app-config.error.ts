/** An environment variable the app cannot run with; thrown at startup, before any connection. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';

  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    /** What the variable must be. */
    readonly rule: string,
  ) {
    super(`Invalid environment variable ${variable}=${value === undefined ? '(unset)' : JSON.stringify(value)}: ${rule}`);
  }
}
