import { DynamicModule, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Admin, Kafka, logLevel, Message, Partitioners, Producer } from 'kafkajs';
import { KafkaConsumerModule, KafkaConsumerModuleOptions } from '../../libs/kafka-consumer/src';
import type { KafkaBroker } from '../../tools/kafka/kafka-broker';
import type { MockBroker } from '../../tools/mock-broker/mock-broker';
import { startTestBroker, TestBroker, TestBrokerOptions } from '../../tools/test-broker';

/** The engine the broker tests run on: TEST_ENGINE=kafkajs (the default) or confluent. */
export const TEST_ENGINE = selectedEngine();

function selectedEngine(value = process.env.TEST_ENGINE ?? 'kafkajs'): 'kafkajs' | 'confluent' {
  if (value === 'kafkajs' || value === 'confluent') return value;
  throw new Error(`TEST_ENGINE=${value}: use "kafkajs" (the default) or "confluent"`);
}

/** Settings that keep group joins and empty fetches short in tests. */
export const FAST_CONSUMER: Partial<KafkaConsumerModuleOptions> = {
  engine: TEST_ENGINE,
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 10_000,
  fetchMaxWaitMs: 100,
  topicRefreshIntervalMs: 500,
  // Below rebalanceTimeoutMs: the drain bound of an eager rebalance (see resolve-options).
  shutdownTimeoutMs: 8_000,
  autoOffsetReset: 'earliest',
};

/** A broker plus the clients a test needs; `close()` stops everything, the broker by pid. */
export class KafkaTestKit {
  readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private admin: Admin | undefined;
  private readonly apps: TestingModule[] = [];

  private constructor(readonly broker: TestBroker) {
    this.kafka = new Kafka({ brokers: broker.bootstrapServers, clientId: 'test-kit', logLevel: logLevel.NOTHING });
  }

  /** Starts a broker: Apache Kafka unless `broker: 'mock'` (or TEST_BROKER=mock) asks for the mock cluster. */
  static async start(options: TestBrokerOptions = {}): Promise<KafkaTestKit> {
    return new KafkaTestKit(await startTestBroker(options));
  }

  get brokers(): string[] {
    return this.broker.bootstrapServers;
  }

  /** The real broker, for what only it does (crashes, restarts, CreatePartitions, Kafka's own tools). */
  get kafkaBroker(): KafkaBroker {
    if (this.broker.kind !== 'kafka') throw new Error('this test needs Apache Kafka; it was started on the mock cluster');
    return this.broker;
  }

  /** The mock cluster, for injected faults; a test that injects one starts with `broker: 'mock'`. */
  get mock(): MockBroker {
    if (this.broker.kind !== 'mock') throw new Error('this test injects faults: start it with { broker: "mock" }');
    return this.broker;
  }

  createTopic(name: string, partitions: number): Promise<void> {
    return this.broker.createTopic(name, partitions);
  }

  /**
   * Grows a topic (real Kafka). The kit's producer is replaced: kafkajs sends only to partitions
   * its cached metadata lists and silently drops messages addressed to others.
   */
  async createPartitions(topic: string, count: number): Promise<void> {
    await this.kafkaBroker.createPartitions(topic, count);
    const producer = this.producer;
    this.producer = undefined;
    await (await producer)?.disconnect().catch(() => undefined);
  }

  async produce(topic: string, messages: Message[]): Promise<void> {
    // One connected producer shared by concurrent callers.
    this.producer ??= (async () => {
      const producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      return producer;
    })();
    const producer = await this.producer;
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, messages: messages.slice(i, i + 500) });
    }
  }

  /** Committed offset per partition for a group (-1 where none). */
  async committed(groupId: string, topic: string): Promise<Record<number, number>> {
    const [result] = await (await this.adminClient()).fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(result.partitions.map((p) => [p.partition, Number(p.offset)]));
  }

  /** End offset (high watermark) per partition. */
  async endOffsets(topic: string): Promise<Record<number, number>> {
    const offsets = await (await this.adminClient()).fetchTopicOffsets(topic);
    return Object.fromEntries(offsets.map((p) => [p.partition, Number(p.high)]));
  }

  /** Builds and starts an application with the module and the given providers. */
  async startApp(
    options: Partial<KafkaConsumerModuleOptions>,
    providers: Array<Provider | Type>,
    imports: DynamicModule[] = [],
  ): Promise<TestingModule> {
    const app = await this.buildApp(options, providers, imports);
    await app.init();
    return app;
  }

  async buildApp(
    options: Partial<KafkaConsumerModuleOptions>,
    providers: Array<Provider | Type>,
    imports: DynamicModule[] = [],
  ): Promise<TestingModule> {
    const app = await Test.createTestingModule({
      imports: [KafkaConsumerModule.forRoot({ brokers: this.brokers, ...FAST_CONSUMER, ...options }), ...imports],
      providers,
    }).compile();
    app.useLogger(process.env.TEST_LOG ? ['error', 'warn', 'log', 'debug'] : ['error']);
    this.apps.push(app);
    return app;
  }

  async close(): Promise<void> {
    for (const app of this.apps.splice(0)) await app.close().catch(() => undefined);
    await (await this.producer?.catch(() => undefined))?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.broker.stop();
  }

  /** A group's state and the number of members Kafka lists for it now. */
  async describeGroup(groupId: string): Promise<{ state: string; members: number }> {
    const [group] = (await (await this.adminClient()).describeGroups([groupId])).groups;
    return { state: group.state, members: group.members.length };
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function numbered(count: number, keyPrefix = 'k', start = 0): Message[] {
  return Array.from({ length: count }, (_, i) => ({ key: `${keyPrefix}${(start + i) % 50}`, value: JSON.stringify({ n: start + i }) }));
}
