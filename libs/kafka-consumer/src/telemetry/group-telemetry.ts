import type { EngineOffset } from '../engine/consumer-engine';
import type { ProcessingEvents, RecordProcessing } from '../dispatch/record-processor';
import { OtelGroupMetrics } from './otel-metrics';
import type { PrometheusExposition, PrometheusGroupMetrics } from './prometheus-metrics';
import { GroupTracing } from './record-tracing';

/**
 * What one group reports: OpenTelemetry spans and metrics when the
 * application registered an SDK, Prometheus counters when `prometheus` is on.
 * `forGroup` answers undefined when none of them is: the runner then takes
 * the plain path (no wrapper, no timing) and telemetry costs nothing.
 */
export class GroupTelemetry {
  private constructor(
    private readonly tracing: GroupTracing | undefined,
    private readonly metrics: OtelGroupMetrics | undefined,
    private readonly prometheus: PrometheusGroupMetrics | undefined,
  ) {}

  static forGroup(groupId: string, prometheus: PrometheusExposition | undefined): GroupTelemetry | undefined {
    const tracing = GroupTracing.forGroup(groupId);
    const metrics = OtelGroupMetrics.forGroup(groupId);
    const counters = prometheus?.forGroup(groupId);
    return tracing || metrics || counters ? new GroupTelemetry(tracing, metrics, counters) : undefined;
  }

  /** The processor's failure paths, to each reporter (called on failures only). */
  readonly events: ProcessingEvents = {
    attemptFailed: (topic, partition, error, attempt, final) => {
      this.tracing?.events.attemptFailed(topic, partition, error, attempt, final);
      this.prometheus?.attemptFailed(topic, error, final);
    },
    gaveUp: (topic, partition, offset, error, deadLetterTopic) => {
      this.tracing?.events.gaveUp(topic, partition, offset, error, deadLetterTopic);
      this.metrics?.gaveUpOn(topic, partition, offset, error);
      if (deadLetterTopic !== undefined) this.prometheus?.deadLettered(topic);
    },
  };

  /** The processor inside a span per record (tracing), timed (metrics). */
  wrap(processor: RecordProcessing): RecordProcessing {
    const traced = this.tracing ? this.tracing.wrap(processor) : processor;
    return this.metrics ? this.metrics.wrap(traced) : traced;
  }

  /** A commit in a `commit <group>` span, its latency and failure counted. */
  commit(offsets: EngineOffset[], send: () => Promise<void>): Promise<void> {
    const { prometheus, tracing } = this;
    if (!prometheus) return tracing ? tracing.commit(offsets, send) : send();
    const start = performance.now();
    const sent = tracing ? tracing.commit(offsets, send) : send();
    return sent.then(
      () => prometheus.committed((performance.now() - start) / 1000, false),
      (error: unknown) => {
        prometheus.committed((performance.now() - start) / 1000, true);
        throw error;
      },
    );
  }

  /** The member completed a rebalance (joined with a new generation). */
  rebalanced(): void {
    this.prometheus?.rebalanced();
  }

  /** Partitions lost without a clean revocation. */
  partitionsLost(count: number): void {
    this.prometheus?.lost(count);
  }

  /** Stops the OpenTelemetry counters' callbacks (at shutdown). */
  close(): void {
    this.metrics?.close();
  }
}

/** A commit through the engine, observed when the group is. */
export function commitThrough(telemetry: GroupTelemetry | undefined, engine: { commit(offsets: EngineOffset[]): Promise<void> }, offsets: EngineOffset[]): Promise<void> {
  return telemetry ? telemetry.commit(offsets, () => engine.commit(offsets)) : engine.commit(offsets);
}
