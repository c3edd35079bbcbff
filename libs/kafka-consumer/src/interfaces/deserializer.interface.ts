import type { RecordHeaders } from './message-context.interface';

/** Turns the raw bytes of a key or value into what the handler receives (§4.10). */
export interface Deserializer<T> {
  deserialize(data: Buffer | null, context: { topic: string; headers: RecordHeaders }): T;
}
