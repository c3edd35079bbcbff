import type * as PromClient from 'prom-client';
import type { PartitionMetrics } from '../interfaces/partition-metrics.interface';
import type { PrometheusRegistry } from '../interfaces/module-options.interface';
import { HandlerTimeoutError } from '../errors/handler-signals.error';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';

type PromClientModule = typeof PromClient;
type PromClientRegistry = PromClient.Registry;

/** What one running application reports at each scrape: its groups' owned partitions. */
export type PartitionSnapshots = () => Array<{ groupId: string; partitions: PartitionMetrics[]; commitMetadata?: { dropped: number; unreadable: number } }>;

const PARTITION_LABELS = ['consumergroup', 'topic', 'partition'] as const;
const COMMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The calls made on prom-client's counters and histogram: the declarations stay free of prom-client's types (an optional peer). */
interface Counting<L extends string> {
  inc(labels: Record<L, string>, value?: number): void;
}
interface Observing<L extends string> {
  observe(labels: Record<L, string>, value: number): void;
}

/** prom-client (an optional peer), or a startup error naming what to install. */
function loadPromClient(): PromClientModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client') as PromClientModule;
  } catch (error) {
    throw new KafkaConsumerConfigError('prometheus', true, `needs the optional peer prom-client (npm install prom-client): ${(error as Error).message}`);
  }
}

/**
 * The consumer metrics of one prom-client registry, under the names
 * dashboards for Kafka already use (kafka_exporter's `kafka_consumergroup_*`
 * for lag and committed offsets) plus `kafka_consumer_*` for what only the
 * consumer knows. Gauges are computed at scrape time from the running groups,
 * so nothing is spent per record; counters and the commit histogram move on
 * rare events (commits, rebalances, failures). One per registry: several
 * applications in a process (tests) share it, each adding its groups.
 */
export class PrometheusExposition {
  private static readonly byRegistry = new WeakMap<object, PrometheusExposition>();
  private readonly sources = new Set<PartitionSnapshots>();
  readonly commitDuration: Observing<'consumergroup'>;
  readonly commitFailures: Counting<'consumergroup'>;
  readonly rebalances: Counting<'consumergroup'>;
  readonly partitionsLost: Counting<'consumergroup'>;
  readonly retries: Counting<'consumergroup' | 'topic'>;
  readonly deadLetters: Counting<'consumergroup' | 'topic'>;
  readonly handlerTimeouts: Counting<'consumergroup' | 'topic'>;

  private constructor(prom: PromClientModule, registry: PromClientRegistry) {
    const registers = [registry];
    const sources = this.sources;
    const partitionGauge = (name: string, help: string, read: (m: PartitionMetrics) => number | undefined) =>
      new prom.Gauge({
        name,
        help,
        labelNames: PARTITION_LABELS,
        registers,
        collect() {
          this.reset();
          for (const snapshot of sources) {
            for (const { groupId, partitions } of snapshot()) {
              for (const m of partitions) {
                const value = read(m);
                if (value !== undefined) this.set({ consumergroup: groupId, topic: m.topic, partition: String(m.partition) }, value);
              }
            }
          }
        },
      });
    partitionGauge('kafka_consumergroup_lag', 'Records between the committed offset and the high watermark, per owned partition', (m) => m.lag);
    partitionGauge('kafka_consumergroup_current_offset', 'Committed offset (next to read) per owned partition', (m) =>
      m.committedOffset === undefined ? undefined : Number(m.committedOffset),
    );
    partitionGauge('kafka_consumer_queued_records', 'Records fetched and waiting for a worker, per owned partition', (m) => m.queued);
    partitionGauge('kafka_consumer_running_records', 'Records a handler is running now, per owned partition', (m) => m.running);
    partitionGauge('kafka_consumer_finished_ahead_records', 'Records finished above the first unfinished one (the commit metadata map, with finished-ahead)', (m) => m.finishedAhead);
    partitionGauge('kafka_consumer_skipped_on_assignment_records', "Records skipped since this member took the partition: finished by the previous owner (commit metadata)", (m) => m.skippedOnAssignment);
    for (const [name, help, field] of [
      ['kafka_consumer_commit_metadata_dropped_total', 'Commits that left their finished-ahead map out: over offset.metadata.max.bytes', 'dropped'],
      ['kafka_consumer_commit_metadata_unreadable_total', 'Committed metadata another client wrote, or unreadable, ignored on assignment', 'unreadable'],
    ] as const) {
      new prom.Counter({
        name,
        help,
        labelNames: ['consumergroup'],
        registers,
        collect() {
          this.reset();
          for (const snapshot of sources) {
            for (const { groupId, commitMetadata } of snapshot()) if (commitMetadata) this.inc({ consumergroup: groupId }, commitMetadata[field]);
          }
        },
      });
    }
    this.commitDuration = new prom.Histogram({
      name: 'kafka_consumer_commit_duration_seconds',
      help: 'Latency of offset commits (OffsetCommit requests), failed ones included',
      labelNames: ['consumergroup'],
      buckets: COMMIT_BUCKETS,
      registers,
    });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) => new prom.Counter<L>({ name, help, labelNames, registers });
    this.commitFailures = counter('kafka_consumer_commit_failures_total', 'Offset commits that failed', ['consumergroup']);
    this.rebalances = counter('kafka_consumer_rebalances_total', 'Rebalances this member completed (joins with a new generation)', ['consumergroup']);
    this.partitionsLost = counter('kafka_consumer_partitions_lost_total', 'Partitions lost without a clean revocation', ['consumergroup']);
    this.retries = counter('kafka_consumer_retries_total', 'Failed handler attempts followed by another attempt', ['consumergroup', 'topic']);
    this.deadLetters = counter('kafka_consumer_dead_letters_total', 'Records written to a dead-letter topic', ['consumergroup', 'topic']);
    this.handlerTimeouts = counter('kafka_consumer_handler_timeouts_total', 'Handler attempts that ran past handlerTimeoutMs', ['consumergroup', 'topic']);
  }

  /** The exposition of a registry (prom-client's default one when none is given), created on first use. */
  static forRegistry(registry: PrometheusRegistry | undefined): PrometheusExposition {
    const prom = loadPromClient();
    const target = (registry ?? prom.register) as PromClientRegistry;
    let exposition = PrometheusExposition.byRegistry.get(target);
    if (!exposition) {
      exposition = new PrometheusExposition(prom, target);
      PrometheusExposition.byRegistry.set(target, exposition);
    }
    return exposition;
  }

  /** Reports an application's partitions at each scrape until the returned function is called. */
  addSource(snapshots: PartitionSnapshots): () => void {
    this.sources.add(snapshots);
    return () => this.sources.delete(snapshots);
  }

  forGroup(groupId: string): PrometheusGroupMetrics {
    return new PrometheusGroupMetrics(this, groupId);
  }
}

/** One group's counters in a Prometheus exposition. */
export class PrometheusGroupMetrics {
  private readonly group: { consumergroup: string };

  constructor(
    private readonly exposition: PrometheusExposition,
    private readonly groupId: string,
  ) {
    this.group = { consumergroup: groupId };
    // Zero from the start: rate() and increase() need a first sample.
    for (const metric of [exposition.commitFailures, exposition.rebalances, exposition.partitionsLost]) metric.inc(this.group, 0);
  }

  attemptFailed(topic: string, error: unknown, final: boolean): void {
    const labels = { consumergroup: this.groupId, topic };
    if (!final) this.exposition.retries.inc(labels);
    if (error instanceof HandlerTimeoutError) this.exposition.handlerTimeouts.inc(labels);
  }

  deadLettered(topic: string): void {
    this.exposition.deadLetters.inc({ consumergroup: this.groupId, topic });
  }

  committed(seconds: number, failed: boolean): void {
    this.exposition.commitDuration.observe(this.group, seconds);
    if (failed) this.exposition.commitFailures.inc(this.group);
  }

  rebalanced(): void {
    this.exposition.rebalances.inc(this.group);
  }

  lost(partitions: number): void {
    this.exposition.partitionsLost.inc(this.group, partitions);
  }
}
