import { DynamicModule, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Admin, Kafka, logLevel, Message, Partitioners, Producer } from 'kafkajs';
import { KafkaConsumerModule, KafkaConsumerModuleOptions } from '../../libs/kafka-consumer/src';
import { TestBroker, TestBrokerOptions } from '../../tools/mock-broker/test-broker';

/** Settings that keep group joins and empty fetches short on the mock cluster. */
export const FAST_CONSUMER: Partial<KafkaConsumerModuleOptions> = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 10_000,
  fetchMaxWaitMs: 100,
  topicRefreshIntervalMs: 500,
  shutdownTimeoutMs: 10_000,
  autoOffsetReset: 'earliest',
};

/** A broker plus the clients a test needs; `close()` stops everything, the broker by pid. */
export class KafkaTestKit {
  readonly kafka: Kafka;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly apps: TestingModule[] = [];

  private constructor(readonly broker: TestBroker) {
    this.kafka = new Kafka({ brokers: broker.bootstrapServers, clientId: 'test-kit', logLevel: logLevel.NOTHING });
  }

  static async start(options: TestBrokerOptions = {}): Promise<KafkaTestKit> {
    return new KafkaTestKit(await TestBroker.start(options));
  }

  get brokers(): string[] {
    return this.broker.bootstrapServers;
  }

  async produce(topic: string, messages: Message[]): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    for (let i = 0; i < messages.length; i += 500) {
      await this.producer.send({ topic, messages: messages.slice(i, i + 500) });
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
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.broker.stop();
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }
}

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
