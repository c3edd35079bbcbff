import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { StandaloneOptions, StandaloneTopic } from '../interfaces/module-options.interface';
import { integerAtLeast, TOPIC_NAME } from './option-rules';
import type { ResolvedHandler } from './resolved-options';

/**
 * Validation of a group's `standalone` option (§4.11). Pure: the shape is
 * checked with the group's settings, the fit with its handlers once all
 * handlers are known.
 */

export interface ResolvedStandalone {
  /** Topics read, in configuration order; `partitions` undefined = all of the topic's partitions. */
  assign: StandaloneTopic[];
  /** How often topics read in full are checked for added partitions; 0 = never. */
  partitionDiscoveryIntervalMs: number;
  commitOffsets: boolean;
}

const KNOWN_KEYS = ['assign', 'partitionDiscoveryIntervalMs', 'commitOffsets'];
const MIN_DISCOVERY_INTERVAL_MS = 100;

/** Checks the option's own shape. `assign` stays empty when omitted (filled from the handlers later). */
export function resolveStandalone(option: string, value: unknown, groupInstanceId: string | undefined): ResolvedStandalone {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KafkaConsumerConfigError(option, value, 'must be an object: { assign?, partitionDiscoveryIntervalMs?, commitOffsets? }');
  }
  const options = value as StandaloneOptions;
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.includes(key)) {
      throw new KafkaConsumerConfigError(`${option}.${key}`, (options as Record<string, unknown>)[key], `unknown option; a standalone consumer takes ${KNOWN_KEYS.join(', ')}`);
    }
  }
  if (groupInstanceId !== undefined) {
    throw new KafkaConsumerConfigError(
      option,
      value,
      `a standalone consumer never joins its group, so static membership does not apply; remove groupInstanceId ("${groupInstanceId}", set for this group or module-wide) or standalone`,
    );
  }
  if (options.commitOffsets !== undefined && typeof options.commitOffsets !== 'boolean') {
    throw new KafkaConsumerConfigError(`${option}.commitOffsets`, options.commitOffsets, 'must be true or false');
  }
  const interval = options.partitionDiscoveryIntervalMs;
  return {
    assign: options.assign === undefined ? [] : resolveAssign(`${option}.assign`, options.assign),
    partitionDiscoveryIntervalMs: interval === undefined ? 0 : integerAtLeast(`${option}.partitionDiscoveryIntervalMs`, interval, MIN_DISCOVERY_INTERVAL_MS),
    commitOffsets: options.commitOffsets ?? true,
  };
}

/**
 * Fits the assignment to the group's handlers: every topic read has a handler
 * that names it, every topic a handler names is read, and no handler relies on
 * a pattern. An omitted `assign` reads every partition of the handlers' topics.
 */
export function resolveStandaloneTopics(option: string, standalone: ResolvedStandalone, handlers: ResolvedHandler<unknown>[]): ResolvedStandalone {
  const patterned = handlers.find((h) => h.patterns.length > 0);
  if (patterned) {
    throw new KafkaConsumerConfigError(
      `handler ${patterned.name}: topics`,
      patterned.patterns[0],
      `group "${patterned.groupId}" is a standalone consumer, which reads fixed partitions and follows no topic pattern; name the topics, or give this handler another groupId`,
    );
  }
  const handlerTopics = handlers.flatMap((h) => h.topics.map((topic) => ({ topic, handler: h.name })));
  if (standalone.assign.length === 0) {
    return { ...standalone, assign: [...new Set(handlerTopics.map((h) => h.topic))].map((topic) => ({ topic })) };
  }
  for (const { topic } of standalone.assign) {
    if (!handlerTopics.some((h) => h.topic === topic)) {
      throw new KafkaConsumerConfigError(
        `${option}.assign`,
        topic,
        `no handler of this group subscribes to "${topic}", so its records would have nowhere to go; handlers of the group consume ${handlerTopics.map((h) => h.topic).join(', ')}`,
      );
    }
  }
  for (const { topic, handler } of handlerTopics) {
    if (!standalone.assign.some((entry) => entry.topic === topic)) {
      throw new KafkaConsumerConfigError(
        `${option}.assign`,
        standalone.assign.map((entry) => entry.topic),
        `handler ${handler} subscribes to "${topic}", which this standalone consumer does not read; add { topic: '${topic}' } (all partitions) or give the handler another groupId`,
      );
    }
  }
  if (standalone.partitionDiscoveryIntervalMs > 0 && standalone.assign.every((entry) => entry.partitions !== undefined)) {
    throw new KafkaConsumerConfigError(
      `${option}.partitionDiscoveryIntervalMs`,
      standalone.partitionDiscoveryIntervalMs,
      'discovery follows topics read in full, and every topic of `assign` lists its partitions; drop the interval or omit `partitions` for the topics to follow',
    );
  }
  return standalone;
}

function resolveAssign(option: string, assign: unknown): StandaloneTopic[] {
  if (!Array.isArray(assign) || assign.length === 0) {
    throw new KafkaConsumerConfigError(option, assign, "must be a non-empty array of { topic, partitions? }, e.g. [{ topic: 'orders', partitions: [0, 2] }]");
  }
  const seen = new Set<string>();
  return assign.map((entry: unknown, index) => {
    const at = `${option}[${index}]`;
    if (entry === null || typeof entry !== 'object') {
      throw new KafkaConsumerConfigError(at, entry, 'must be { topic, partitions? }');
    }
    const { topic, partitions, ...rest } = entry as StandaloneTopic;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) {
      throw new KafkaConsumerConfigError(`${at}.${unknown}`, (rest as Record<string, unknown>)[unknown], 'unknown option; an entry takes topic and partitions');
    }
    if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) {
      throw new KafkaConsumerConfigError(`${at}.topic`, topic, 'a Kafka topic name has 1 to 249 characters among a-z, A-Z, 0-9, ".", "_" and "-"');
    }
    if (seen.has(topic)) {
      throw new KafkaConsumerConfigError(`${at}.topic`, topic, `"${topic}" is listed twice; list each topic once with all its partitions`);
    }
    seen.add(topic);
    if (partitions === undefined) return { topic };
    if (!Array.isArray(partitions) || partitions.length === 0) {
      throw new KafkaConsumerConfigError(`${at}.partitions`, partitions, 'must be a non-empty array of partition numbers; omit it to read every partition');
    }
    for (const partition of partitions) integerAtLeast(`${at}.partitions`, partition, 0);
    if (new Set(partitions).size !== partitions.length) {
      throw new KafkaConsumerConfigError(`${at}.partitions`, partitions, 'lists a partition twice');
    }
    return { topic, partitions: [...partitions].sort((a, b) => a - b) };
  });
}
