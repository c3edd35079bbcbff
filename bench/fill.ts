import { Admin, CompressionTypes, Kafka, Message, Producer } from 'kafkajs';
import { KEYS, MOCK_PARTITION_LOG_CAP, PRODUCE_CHUNK, VALUE_BYTES } from './settings';

export interface TopicSpec {
  name: string;
  partitions: number;
  records: number;
  /** Distinct keys over the whole topic (default KEYS); key k lives in partition k % partitions. */
  keys?: number;
}

/** Records of partition p: `records / partitions`, the first `records % partitions` partitions one more. */
export function partitionCounts(spec: TopicSpec): number[] {
  const base = Math.floor(spec.records / spec.partitions);
  const extra = spec.records % spec.partitions;
  return Array.from({ length: spec.partitions }, (_, p) => base + (p < extra ? 1 : 0));
}

/** Rough wire size of one record (key, value, v2 record framing). */
const RECORD_BYTES = VALUE_BYTES + 'key-999'.length + 12;

/** Fails before producing when a partition would outgrow the mock's log cap. */
export function checkFitsLogCap(spec: TopicSpec): void {
  const largest = partitionCounts(spec)[0];
  const bytes = largest * RECORD_BYTES;
  if (bytes > MOCK_PARTITION_LOG_CAP * 0.97) {
    throw new Error(
      `topic ${spec.name}: ${largest} records per partition (~${(bytes / 1024 / 1024).toFixed(2)} MiB) would exceed the mock broker's ` +
        `5 MiB partition log cap, which silently drops the oldest batches; use more partitions or fewer records`,
    );
  }
}

function value(id: string): Buffer {
  const head = `{"id":"${id}","pad":"`;
  const tail = '"}';
  return Buffer.from(head + 'x'.repeat(Math.max(0, VALUE_BYTES - head.length - tail.length)) + tail);
}

/**
 * Fills a topic with large producer batches: each send carries PRODUCE_CHUNK
 * records for each of up to 8 partitions (one record batch per partition),
 * since the mock returns one producer batch per partition per fetch. Key k
 * goes to partition k % partitions, like a key-hashing partitioner would keep
 * a key in one partition. (On the mock, check the topic with checkFitsLogCap first.)
 */
export async function fillTopic(producer: Producer, spec: TopicSpec, onProgress?: (done: number) => void): Promise<void> {
  const counts = partitionCounts(spec);
  const keysOf = counts.map((_, p) => {
    const keys: string[] = [];
    for (let k = p; k < (spec.keys ?? KEYS); k += spec.partitions) keys.push(`key-${k}`);
    return keys.length > 0 ? keys : [`key-${p}`];
  });
  const written = counts.map(() => 0);
  const partitionsPerSend = 8;
  let done = 0;
  for (let first = 0; first < spec.partitions; first += partitionsPerSend) {
    const group = counts.map((_, p) => p).slice(first, first + partitionsPerSend);
    while (group.some((p) => written[p] < counts[p])) {
      const messages: Message[] = [];
      for (const p of group) {
        const end = Math.min(counts[p], written[p] + PRODUCE_CHUNK);
        const keys = keysOf[p];
        for (let j = written[p]; j < end; j++) {
          messages.push({ partition: p, key: keys[j % keys.length], value: value(`${p}-${j}`) });
        }
        written[p] = end;
      }
      await producer.send({ topic: spec.name, messages, acks: 1, compression: CompressionTypes.None });
      done += messages.length;
      onProgress?.(done);
    }
  }
}

/**
 * Every produced record must still be in the log: end offsets equal what was
 * produced and log start offsets are 0 (the mock's 5 MiB cap drops old batches
 * silently, which would move the start offset). Throws otherwise.
 */
export async function verifyTopic(admin: Admin, spec: TopicSpec): Promise<void> {
  const counts = partitionCounts(spec);
  const offsets = await admin.fetchTopicOffsets(spec.name);
  const problems: string[] = [];
  for (const { partition, low, high } of offsets) {
    const expected = counts[partition];
    if (Number(high) !== expected || Number(low) !== 0) {
      problems.push(`partition ${partition}: log ${low}..${high}, expected 0..${expected}`);
    }
  }
  if (offsets.length !== spec.partitions) problems.push(`${offsets.length} partitions, expected ${spec.partitions}`);
  if (problems.length > 0) {
    throw new Error(`topic ${spec.name} does not hold the ${spec.records} records produced (on the mock: its 5 MiB partition log cap?): ${problems.join('; ')}`);
  }
}

export function newKafka(brokers: string[]): Kafka {
  return new Kafka({ brokers, clientId: 'bench-fill', logLevel: 1 /* ERROR */ });
}
