import type { LoggerService } from '@nestjs/common';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import type { DeadLetterStats } from '../interfaces/rebalance.interface';
import { DeadLetterOutage, DeadLetterOutages } from './dead-letter-outages';
import type { DeadLetterPublisher } from './dead-letter-publisher';

/**
 * One group's way to its dead-letter topics: each record's write is retried
 * until it lands (nothing is lost). An outage is logged and reported once, when
 * it begins, and logged again when the topic takes writes again; the group's
 * status says degraded meanwhile (outage()).
 */
export class DeadLetterPath {
  private readonly outages = new DeadLetterOutages();

  constructor(
    private readonly publisher: DeadLetterPublisher,
    private readonly groupId: string,
    private readonly logger: LoggerService,
    private readonly reportFailure: (failure: KafkaConsumerFailure) => Promise<void>,
  ) {}

  /** Resolves true once written; false when `signal` aborts first (shutdown). */
  async publish(topic: string, failure: KafkaConsumerFailure, signal: AbortSignal): Promise<boolean> {
    const outages = this.outages;
    outages.waiting();
    try {
      return await this.publisher.publish(topic, failure, signal, {
        attemptFailed: (error) => {
          const outage = outages.attemptFailed(topic, error, Date.now());
          if (!outage) return;
          this.logger.error(
            `group ${this.groupId}: cannot write to dead-letter topic ${topic} (${outage.error}); ${failure.topic}[${failure.partition}]@${failure.offset} and its partition wait, retrying`,
          );
          void this.reportFailure({ ...failure, kind: 'dead-letter', error, deadLetterTopic: topic });
        },
        published: () => {
          const ended = outages.published(topic);
          if (ended) this.logger.log?.(`group ${this.groupId}: dead-letter topic ${topic} takes writes again after ${Date.now() - ended.since} ms`);
        },
      });
    } finally {
      outages.settled();
    }
  }

  /** The oldest dead-letter topic that cannot be written now. */
  outage(): DeadLetterOutage | undefined {
    return this.outages.current();
  }

  stats(): DeadLetterStats | undefined {
    return this.outages.stats();
  }
}
