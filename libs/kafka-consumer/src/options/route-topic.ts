import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { ResolvedHandler } from './resolved-options';

/**
 * Which handler of a group owns a topic: an explicit topic name wins over a
 * pattern; a topic matched by two patterns is a configuration error.
 */
export function routeTopic<S>(handlers: ResolvedHandler<S>[], topic: string): ResolvedHandler<S> | undefined {
  const explicit = handlers.find((h) => h.topics.includes(topic));
  if (explicit) return explicit;
  const matching = handlers.filter((h) => h.patterns.some((p) => matches(p, topic)));
  if (matching.length > 1) {
    throw new KafkaConsumerConfigError(
      `handlers ${matching.map((h) => h.name).join(' and ')}`,
      topic,
      `topic "${topic}" matches the patterns of two handlers in group "${matching[0].groupId}"; a topic needs exactly one handler per group`,
    );
  }
  return matching[0];
}

export function matches(pattern: RegExp, topic: string): boolean {
  pattern.lastIndex = 0; // a /g or /y pattern keeps state between calls
  return pattern.test(topic);
}
