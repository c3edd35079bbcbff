import { selectedBrokerKind } from '../../tools/test-broker';

type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;
type DescribeFn = (name: string, fn: () => void) => void;

const onMock = selectedBrokerKind() === 'mock';

/**
 * A test of what only Apache Kafka shows (a process killed or stopped, CreatePartitions,
 * fencing, timestamps, Kafka's own tools, Kafka's refusal rules). It runs on Kafka; with
 * TEST_BROKER=mock (the mock as the default broker) it is skipped, its name saying why.
 */
export function itOnKafka(why: string): TestFn {
  if (!onMock) return it;
  return (name, fn, timeout) => it.skip(`${name} [on Kafka only: ${why}]`, fn, timeout);
}

/** A file whose every test needs Apache Kafka (see itOnKafka). */
export function describeOnKafka(why: string): DescribeFn {
  if (!onMock) return describe;
  return (name, fn) => describe.skip(`${name} [on Kafka only: ${why}]`, fn);
}

const engine = process.env.TEST_ENGINE ?? 'kafkajs';

/**
 * A test of one engine's own mechanism (kafkajs's request path, its internals): it runs when
 * the broker tests run on that engine (TEST_ENGINE) and is skipped, its name saying why, on the other.
 */
export function itOnEngine(only: 'kafkajs' | 'confluent', why: string): TestFn {
  if (engine === only) return it;
  return (name, fn, timeout) => it.skip(`${name} [on the ${only} engine only: ${why}]`, fn, timeout);
}

/** A file whose every test is about one engine's own mechanism (see itOnEngine). */
export function describeOnEngine(only: 'kafkajs' | 'confluent', why: string): DescribeFn {
  if (engine === only) return describe;
  return (name, fn) => describe.skip(`${name} [on the ${only} engine only: ${why}]`, fn);
}

/** Both at once: a file that needs Apache Kafka and one engine's own mechanism. */
export function describeOnKafkaAndEngine(whyKafka: string, only: 'kafkajs' | 'confluent', whyEngine: string): DescribeFn {
  return onMock ? describeOnKafka(whyKafka) : describeOnEngine(only, whyEngine);
}

/** Both at once: a test that needs Apache Kafka and, for now, one engine. */
export function itOnKafkaAndEngine(whyKafka: string, only: 'kafkajs' | 'confluent', whyEngine: string): TestFn {
  return onMock ? itOnKafka(whyKafka) : itOnEngine(only, whyEngine);
}
