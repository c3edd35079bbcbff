import type { Attributes, BatchObservableCallback, Histogram, Meter, ObservableCounter } from '@opentelemetry/api';
import type { FetchedRecord } from '../engine/consumer-engine';
import type { ProcessOutcome, RecordProcessing } from '../dispatch/record-processor';
import { isThenable } from '../utils/is-thenable';
import { meterProviderRegistered, otelApi } from './otel-api';
import { errorType } from './record-tracing';

/** The messaging conventions' recommended boundaries for `messaging.process.duration` (seconds). */
const DURATION_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** One partition's attribute sets, built once, and its count of consumed records. */
interface PartitionInstruments {
  attributes: Attributes;
  consumed: number;
}

interface GroupInstruments {
  duration: Histogram;
  consumed: ObservableCounter;
}

/** One set of instruments per meter: groups share them, each reports its own attributes. */
const instrumentsByMeter = new WeakMap<Meter, GroupInstruments>();

/**
 * A group's OpenTelemetry metrics (messaging conventions):
 * `messaging.process.duration`, a histogram of how long each record (or
 * batch) took from hand-over until it really finished, with `error.type` when
 * it was given up; and `messaging.client.consumed.messages`, records handed to
 * handlers, counted in plain numbers and read by the SDK at collection (no
 * instrument call per record for it).
 */
export class OtelGroupMetrics {
  private readonly partitions = new Map<string, Map<number, PartitionInstruments>>();
  /** Error types of records given up, until their processing ends: `topic\0partition\0offset`. */
  private readonly gaveUp = new Map<string, string>();
  private readonly observe: BatchObservableCallback;

  private constructor(
    private readonly meter: Meter,
    private readonly instruments: GroupInstruments,
    private readonly groupId: string,
  ) {
    this.observe = (result) => {
      for (const byPartition of this.partitions.values()) {
        for (const entry of byPartition.values()) result.observe(this.instruments.consumed, entry.consumed, entry.attributes);
      }
    };
    meter.addBatchObservableCallback(this.observe, [instruments.consumed]);
  }

  /** Metrics for a group when the application registered a meter provider; undefined when @opentelemetry/api is absent or none is registered. */
  static forGroup(groupId: string): OtelGroupMetrics | undefined {
    const api = otelApi();
    if (!api || !meterProviderRegistered(api)) return undefined;
    const meter = api.metrics.getMeter('nestjs-kafka-consumer');
    let instruments = instrumentsByMeter.get(meter);
    if (!instruments) {
      instruments = {
        duration: meter.createHistogram('messaging.process.duration', {
          description: 'Duration of processing a record (or a batch) by its handler, until it finished',
          unit: 's',
          advice: { explicitBucketBoundaries: DURATION_BOUNDARIES },
        }),
        consumed: meter.createObservableCounter('messaging.client.consumed.messages', {
          description: 'Records handed to handlers',
          unit: '{message}',
        }),
      };
      instrumentsByMeter.set(meter, instruments);
    }
    return new OtelGroupMetrics(meter, instruments, groupId);
  }

  /** Notes a record given up, so that its duration carries `error.type`. */
  gaveUpOn(topic: string, partition: number, offset: string, error: unknown): void {
    this.gaveUp.set(`${topic}\0${partition}\0${offset}`, errorType(error));
  }

  /** The processor, timed. */
  wrap(processor: RecordProcessing): RecordProcessing {
    return {
      processRecord: (topic, partition, message) => this.processRecord(processor, topic, partition, message),
      processBatch: (topic, partition, messages) => this.processBatch(processor, topic, partition, messages),
    };
  }

  /** Stops reporting this group's counts (at shutdown). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, [this.instruments.consumed]);
  }

  private processRecord(processor: RecordProcessing, topic: string, partition: number, message: FetchedRecord): ProcessOutcome | Promise<ProcessOutcome> {
    const instruments = this.partition(topic, partition);
    instruments.consumed += 1;
    const start = performance.now();
    const outcome = processor.processRecord(topic, partition, message);
    if (!isThenable<ProcessOutcome>(outcome)) return this.finished(instruments, start, outcome, topic, partition, message);
    return outcome.then((result) => this.finished(instruments, start, result, topic, partition, message));
  }

  private async processBatch(processor: RecordProcessing, topic: string, partition: number, messages: FetchedRecord[]): Promise<ProcessOutcome> {
    const instruments = this.partition(topic, partition);
    instruments.consumed += messages.length;
    const start = performance.now();
    const outcome = await processor.processBatch(topic, partition, messages);
    return this.finished(instruments, start, outcome, topic, partition, messages);
  }

  private finished(
    instruments: PartitionInstruments,
    start: number,
    outcome: ProcessOutcome,
    topic: string,
    partition: number,
    records: FetchedRecord | FetchedRecord[],
  ): ProcessOutcome {
    // Aborted by shutdown or revocation: not finished; it is delivered again.
    if (outcome === 'aborted') return outcome;
    const seconds = (performance.now() - start) / 1000;
    if (outcome !== 'gave-up') {
      this.instruments.duration.record(seconds, instruments.attributes);
      return outcome;
    }
    let type: string | undefined;
    for (const { offset } of Array.isArray(records) ? records : [records]) {
      const key = `${topic}\0${partition}\0${offset}`;
      type ??= this.gaveUp.get(key);
      this.gaveUp.delete(key);
    }
    this.instruments.duration.record(seconds, { ...instruments.attributes, 'error.type': type ?? 'gave-up' });
    return outcome;
  }

  private partition(topic: string, partition: number): PartitionInstruments {
    let byPartition = this.partitions.get(topic);
    if (!byPartition) this.partitions.set(topic, (byPartition = new Map()));
    let entry = byPartition.get(partition);
    if (!entry) {
      entry = {
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': this.groupId,
        },
        consumed: 0,
      };
      byPartition.set(partition, entry);
    }
    return entry;
  }
}
