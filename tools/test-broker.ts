import { KafkaBroker, KafkaBrokerOptions } from './kafka/kafka-broker';
import { MockBroker, MockBrokerOptions } from './mock-broker/mock-broker';

/**
 * The brokers tests, the benchmark and the demo run on: Apache Kafka itself (the default, and
 * the one semantic claims are proven on) or librdkafka's mock cluster, kept for what only it
 * can inject (per-API error codes, round-trip delays).
 */
export type TestBroker = KafkaBroker | MockBroker;
export type TestBrokerKind = TestBroker['kind'];

export interface TestBrokerOptions {
  /** Default: `TEST_BROKER` from the environment, else `kafka`. */
  broker?: TestBrokerKind;
  /** Topics created before the broker is handed out, name → partition count. */
  topics?: Record<string, number>;
  /** Real Kafka only: version, nodes, server properties. */
  kafka?: Omit<KafkaBrokerOptions, 'topics'>;
  /** Mock only: number of mock brokers (default 3). */
  mock?: Omit<MockBrokerOptions, 'topics'>;
}

export function selectedBrokerKind(value = process.env.TEST_BROKER): TestBrokerKind {
  if (!value || value === 'kafka') return 'kafka';
  if (value === 'mock') return 'mock';
  throw new Error(`TEST_BROKER=${value}: use "kafka" (Apache Kafka, the default) or "mock" (librdkafka's mock cluster)`);
}

export function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const kind = options.broker ?? selectedBrokerKind();
  return kind === 'kafka'
    ? KafkaBroker.start({ ...options.kafka, topics: options.topics })
    : MockBroker.start({ ...options.mock, topics: options.topics });
}
