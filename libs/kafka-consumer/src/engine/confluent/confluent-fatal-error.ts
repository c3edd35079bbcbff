import { CONFLUENT_ERRORS, RD } from './confluent-errors';

/** How long a fatal error's report waits for its cause in librdkafka's log. */
const CAUSE_WAIT_MS = 2_000;

/**
 * librdkafka's fatal error (a fenced static member), told once with its cause.
 * consume() reports only "Local: Fatal error"; the cause is in librdkafka's
 * FATAL log line, which travels on its own queue and may come a little later.
 */
export class FatalError {
  private cause: string | undefined;
  private reported = false;

  /** Every librdkafka log line passes here. */
  noteLog(event: { fac: string; message: string }): void {
    if (event.fac === 'FATAL') this.cause = event.message;
  }

  /** Whether an error (from consume() or an error event) ends the consumer: librdkafka's fatal one, or a fencing. */
  static is(error: { code?: number; isFatal?: boolean } | null | undefined): boolean {
    return error?.isFatal === true || error?.code === RD.FATAL || CONFLUENT_ERRORS.isFenced(error);
  }

  /** Resolves once with the error to report (its cause when the log gives it in time), then never again. */
  async describe(error: { message: string }): Promise<Error | undefined> {
    if (this.reported) return undefined;
    this.reported = true;
    for (let waited = 0; this.cause === undefined && waited < CAUSE_WAIT_MS; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    return Object.assign(new Error(this.cause ?? error.message), { code: RD.FATAL, isFatal: true });
  }
}
