import { KafkaConsumerConfigError } from '../../errors/kafka-consumer-config.error';

/** The Confluent client's module, as this engine uses it (an optional peer: typed here, loaded on demand). */
export type ConfluentLibrary = typeof import('@confluentinc/kafka-javascript');

export const CONFLUENT_PACKAGE = '@confluentinc/kafka-javascript';
export const SUPPORTED_CONFLUENT = '~1.10.1';

let loaded: ConfluentLibrary | undefined;

/** Loads the Confluent client the first time a group asks for it; a clear startup error when it is not installed. */
export function loadConfluent(): ConfluentLibrary {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(CONFLUENT_PACKAGE) as ConfluentLibrary;
  } catch (error) {
    throw new KafkaConsumerConfigError(
      'engine',
      'confluent',
      `needs the optional peer dependency ${CONFLUENT_PACKAGE} (${SUPPORTED_CONFLUENT}); install it with \`npm install ${CONFLUENT_PACKAGE}@${SUPPORTED_CONFLUENT}\` (${(error as Error)?.message ?? error})`,
    );
  }
  return loaded;
}
