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
