/** A module or handler option that cannot work; thrown at startup, before any connection. */
export class KafkaConsumerConfigError extends Error {
  override readonly name = 'KafkaConsumerConfigError';

  constructor(
    /** The option's path, e.g. `groups.orders.heartbeatIntervalMs` or `handler OrdersService.handle: commit`. */
    readonly option: string,
    readonly value: unknown,
    /** What the option must be. */
    readonly rule: string,
  ) {
    super(`Invalid option ${option} = ${describe(value)}: ${rule}`);
  }
}

function describe(value: unknown): string {
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
