/** A record whose key or value could not be turned into what the handler expects. */
export class DeserializationError extends Error {
  override readonly name = 'DeserializationError';

  constructor(
    readonly part: 'key' | 'value',
    override readonly cause: unknown,
  ) {
    super(`cannot deserialize the record ${part}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
