import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorResult } from '@nestjs/terminus';
import { ConsumerGroupStatus, KafkaConsumerHealthIndicator, KafkaConsumerService, PartitionMetrics } from '@app/kafka-consumer';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { register } from 'prom-client';
import type { OrdersAppConfig } from '../config/app-config';
import { ConsumerStats } from '../consumer/consumer-stats';
import type { OrdersStore } from '../database/orders-store';
import { ORDERS_APP_CONFIG, ORDERS_STORE } from '../orders.constants';

/** What GET /health answers. */
export interface HealthReport {
  status: 'ok' | 'stopping' | 'error';
  groupId: string;
  /**
   * The consumer group's state. `restarting` is still ok (kafkajs rejoins by itself), and so is
   * `degraded` (a restart would not bring a dead-letter topic back; `warning` says what waits).
   */
  consumer: ConsumerGroupStatus['state'];
  /** Why the group is degraded, while it is. */
  warning?: string;
  topic: string;
  /** Partitions this instance owns, as `topic partition`. */
  assignment: string[];
  /** Per owned partition: queued and running records, paused for backpressure, committed offset, lag. */
  partitions: PartitionMetrics[];
  applied: number;
  ordersChanged: number;
  invalid: number;
  error?: string;
  /** What @nestjs/terminus made of the checks: the library's Kafka indicator (state, lag per group) and the database. */
  checks?: HealthCheckResult;
}

/**
 * On HEALTH_PORT (none when 0): GET /health, 200 while the database answers and
 * the consumer group runs (or is restarting), 503 otherwise; GET /metrics, the
 * Prometheus exposition of prom-client's default registry, where the consumer
 * module puts its metrics (`prometheus: true`). Plain `http`: the app serves
 * nothing else.
 */
@Injectable()
export class MonitoringServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Health');
  private server: Server | undefined;
  private stopping = false;

  constructor(
    @Inject(ORDERS_APP_CONFIG) private readonly config: OrdersAppConfig,
    @Inject(ORDERS_STORE) private readonly store: OrdersStore,
    private readonly consumers: KafkaConsumerService,
    private readonly stats: ConsumerStats,
    private readonly health: HealthCheckService,
    private readonly kafka: KafkaConsumerHealthIndicator,
  ) {}

  /** The port listened on (useful when HEALTH_PORT picks none), or undefined. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.healthPort === 0) return;
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.healthPort, () => resolve());
    });
    this.logger.log(`GET /health and GET /metrics on port ${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async report(): Promise<HealthReport> {
    const consumer = this.consumers.status(this.config.kafka.groupId);
    const base = {
      groupId: this.config.kafka.groupId,
      consumer: consumer.state,
      topic: this.config.ordersTopic,
      assignment: this.consumers.assignments()[this.config.kafka.groupId] ?? [],
      partitions: this.consumers.metrics(this.config.kafka.groupId),
      applied: this.stats.applied,
      ordersChanged: this.stats.ordersChanged,
      invalid: this.stats.invalid,
    };
    if (this.stopping) return { status: 'stopping', ...base };
    const checks = await this.runChecks();
    if (consumer.state === 'failed' || consumer.state === 'stopped') {
      return { status: 'error', ...base, checks, error: `consumer: ${consumer.state}${consumer.error ? ` (${consumer.error})` : ''}` };
    }
    const kafka = checks.error?.kafka as { groups?: Record<string, { reason?: string }> } | undefined;
    if (kafka) return { status: 'error', ...base, checks, error: `kafka: ${kafka.groups?.[this.config.kafka.groupId]?.reason ?? 'down'}` };
    const database = checks.error?.database as { message?: string } | undefined;
    if (database) return { status: 'error', ...base, checks, error: `database: ${database.message}` };
    const warning = consumer.state === 'degraded' ? { warning: consumer.error } : {};
    return { status: 'ok', ...base, ...warning, checks };
  }

  /** Terminus runs both indicators; a failed check comes back as its 503 response, which is the result too. */
  private runChecks(): Promise<HealthCheckResult> {
    const { groupId } = this.config.kafka;
    const maxLag = this.config.healthMaxLag > 0 ? this.config.healthMaxLag : undefined;
    return this.health
      .check([() => this.kafka.isHealthy('kafka', { groups: [groupId], maxLag }), () => this.pingDatabase()])
      .catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      });
  }

  private async pingDatabase(): Promise<HealthIndicatorResult> {
    try {
      await this.store.ping();
      return { database: { status: 'up' } };
    } catch (error) {
      return { database: { status: 'down', message: (error as Error).message } };
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': register.contentType }).end(await register.metrics());
      return;
    }
    if (req.method !== 'GET' || (req.url !== '/health' && req.url !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /health or GET /metrics\n');
      return;
    }
    const report = await this.report();
    res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(report)}\n`);
  }
}
