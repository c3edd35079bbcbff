import type { Deserializer } from '../interfaces/deserializer.interface';
import type { BuiltinDeserializer } from '../interfaces/handler-options.interface';

export const stringDeserializer: Deserializer<string | null> = {
  deserialize: (data) => (data === null ? null : data.toString('utf8')),
};

/** A null value (a tombstone) stays null rather than failing to parse. */
export const jsonDeserializer: Deserializer<unknown> = {
  deserialize: (data) => (data === null ? null : JSON.parse(data.toString('utf8'))),
};

export const bufferDeserializer: Deserializer<Buffer | null> = {
  deserialize: (data) => data,
};

export const BUILTIN: Record<BuiltinDeserializer, Deserializer<unknown>> = {
  string: stringDeserializer,
  json: jsonDeserializer,
  buffer: bufferDeserializer,
};
