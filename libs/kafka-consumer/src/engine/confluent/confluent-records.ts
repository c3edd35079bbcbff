import type { Message } from '@confluentinc/kafka-javascript';
import type { EngineBatch, FetchedRecord } from '../consumer-engine';
import type { RecordHeaders } from '../../interfaces/message-context.interface';
import { topicPartitionKey } from '../../offsets/topic-partition-key';

/** One partition's records from one consume call. */
export interface PartitionBatch extends EngineBatch {
  messages: FetchedRecord[];
}

/** Consumed records grouped by partition, in offset order; partitions no longer assigned are dropped. */
export function batchesOf(messages: Message[], assigned: (key: string) => boolean, high: (topic: string, partition: number) => string | undefined): PartitionBatch[] {
  const byKey = new Map<string, PartitionBatch>();
  for (const message of messages) {
    const key = topicPartitionKey(message.topic, message.partition);
    let batch = byKey.get(key);
    if (!batch) {
      if (!assigned(key)) continue;
      const records: FetchedRecord[] = [];
      batch = { topic: message.topic, partition: message.partition, messages: records, highWatermark: '0', lastOffset: () => records[records.length - 1].offset };
      byKey.set(key, batch);
    }
    batch.messages.push(toRecord(message));
  }
  for (const batch of byKey.values()) batch.highWatermark = high(batch.topic, batch.partition) ?? String(BigInt(batch.lastOffset()) + 1n);
  return [...byKey.values()];
}

function toRecord(message: Message): FetchedRecord {
  const key = message.key === undefined || message.key === null ? null : Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
  return { offset: String(message.offset), key, value: message.value ?? null, headers: message.headers ? headersOf(message.headers) : undefined, timestamp: String(message.timestamp ?? 0) };
}

/** librdkafka's header list (one object per header) → the core's header map; a repeated key keeps every value. */
function headersOf(list: Array<Record<string, string | Buffer>>): RecordHeaders {
  const headers: RecordHeaders = {};
  for (const entry of list) {
    for (const [name, value] of Object.entries(entry)) {
      const buffer = Buffer.isBuffer(value) ? value : Buffer.from(value);
      const existing = headers[name];
      headers[name] = existing === undefined ? buffer : Array.isArray(existing) ? [...existing, buffer] : [existing as Buffer, buffer];
    }
  }
  return headers;
}

/** Runs `work` on every item, at most `limit` at a time. */
export async function runLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  if (limit <= 1 || items.length <= 1) {
    for (const item of items) await work(item);
    return;
  }
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
