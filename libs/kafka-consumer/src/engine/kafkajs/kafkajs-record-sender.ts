import type { Kafka, Producer } from 'kafkajs';
import type { RecordSender } from '../kafka-client';
import type { RecordHeaders } from '../../interfaces/message-context.interface';

/** Dead letters through one kafkajs producer, connected on first use and again after a failed connect. */
export class KafkajsRecordSender implements RecordSender {
  private producer: Promise<Producer> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async send(topic: string, record: { key: Buffer | null; value: Buffer | null; headers: RecordHeaders }): Promise<void> {
    const producer = await this.connected();
    await producer.send({ topic, messages: [record] });
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer();
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => (this.producer = undefined));
    }
    return this.producer;
  }
}
