import { Injectable } from '@nestjs/common';
import { KafkaConsumerService } from '../runner/kafka-consumer.service';
import { GroupHealth, groupHealth, KafkaHealthOptions } from './group-health';

/** The result shape @nestjs/terminus reads (HealthIndicatorResult): `{ [key]: { status, ... } }`. */
export type KafkaHealthResult = Record<string, { status: 'up' | 'down'; groups: Record<string, GroupHealth> }>;

/**
 * A health indicator for @nestjs/terminus, without importing it (an optional
 * peer: nothing loads when it is absent). Terminus counts a result whose
 * status is `down` as a failed check (503):
 * `health.check([() => kafka.isHealthy('kafka', { maxLag: 10_000 })])`.
 */
@Injectable()
export class KafkaConsumerHealthIndicator {
  constructor(private readonly consumers: KafkaConsumerService) {}

  /** Up when every checked group is up (see groupHealth); per group, its state, lag and reason. */
  isHealthy(key = 'kafka', options: KafkaHealthOptions = {}): KafkaHealthResult {
    const ids = options.groups ?? this.consumers.groupIds();
    const groups: Record<string, GroupHealth> = {};
    for (const id of ids) groups[id] = groupHealth(this.consumers.status(id), this.consumers.metrics(id), options.maxLag);
    const up = Object.values(groups).every((group) => group.status === 'up');
    return { [key]: { status: up ? 'up' : 'down', groups } };
  }
}
