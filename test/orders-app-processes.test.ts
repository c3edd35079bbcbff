import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { OrdersAppProcess } from '../apps/orders/demo/app-process';
import { generateOrderStream, toMessages } from '../apps/orders/demo/order-stream';
import type { OrdersStore } from '../apps/orders/src/database/orders-store';
import { PostgresOrdersStore } from '../apps/orders/src/database/postgres-orders-store';
import { SqliteOrdersStore } from '../apps/orders/src/database/sqlite-orders-store';
import { expectedState } from '../apps/orders/src/events/orders-state';
import type { HealthReport } from '../apps/orders/src/monitoring/monitoring.server';
import { freePorts } from '../tools/kafka/kafka-broker';
import { KafkaTestKit, TEST_ENGINE, waitFor } from './support/kafka-test-kit';
import { OtlpCollector } from './support/otlp-collector';
import { PostgresTestDatabase } from './support/postgres-test-database';
import { parsePrometheus } from './support/prometheus-text';

/** Group timings for the mock broker: empty fetches are held for the full wait, a rejoin waits the session timeout. */
const FAST_ENV = { KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_HEARTBEAT_INTERVAL_MS: '500', KAFKA_FETCH_MAX_WAIT_MS: '100', KAFKA_ENGINE: TEST_ENGINE };

/**
 * The built sample app (node dist/apps/orders/.../main.js, built by
 * tools/setup.sh) as real processes: killed with SIGKILL mid-stream and
 * restarted, and two instances sharing one group.
 */
describe('orders sample app (test broker, real processes)', () => {
  let kit: KafkaTestKit | undefined;
  let apps: OrdersAppProcess[] = [];
  let postgres: PostgresTestDatabase | undefined;
  let dir: string | undefined;
  let store: OrdersStore | undefined;

  afterEach(async () => {
    for (const app of apps) await app.kill();
    await store?.close().catch(() => undefined);
    await kit?.close();
    await postgres?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [apps, kit, postgres, dir, store] = [[], undefined, undefined, undefined, undefined];
  });

  const committedTotal = async (): Promise<number> =>
    Object.values(await kit!.committed('orders-app', 'orders')).reduce((sum, offset) => sum + Math.max(0, offset), 0);

  it('ends exact after kill -9 mid-stream and a restart, whatever was redelivered', async () => {
    kit = await KafkaTestKit.start({ topics: { orders: 4 } });
    dir = mkdtempSync(join(tmpdir(), 'orders-crash-'));
    const stream = generateOrderStream({ orders: 600, customers: 60, countries: 8, seed: 5 });
    const total = stream.events.length;
    const env = {
      ...FAST_ENV,
      KAFKA_BROKERS: kit.brokers.join(','),
      DATABASE_URL: `sqlite:${join(dir, 'orders.db')}`,
      // The worker pool with key ordering, as the app runs in production, and
      // auto commits once a second: a kill loses up to a second of commits, so
      // the restart redelivers work that was already applied.
      ORDERS_COMMIT: 'auto',
      ORDERS_COMMIT_INTERVAL_MS: '1000',
      ORDERS_CONCURRENCY: '8',
      RECORD_DELIVERIES: 'true',
    };
    const first = OrdersAppProcess.start('app-1', env);
    apps.push(first);
    await first.ready();
    expect(first.log).toMatch(/commit auto, concurrency 8\b/);

    // Live traffic: 20 slices, 300 ms apart.
    const messages = toMessages(stream.events);
    let produced = 0;
    const producing = (async () => {
      for (let i = 0; i < total; i += Math.ceil(total / 20)) {
        await kit!.produce('orders', messages.slice(i, i + Math.ceil(total / 20)));
        produced = Math.min(total, i + Math.ceil(total / 20));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    await waitFor(async () => (await committedTotal()) >= total * 0.3, 60_000, '30 % of the events committed');
    // Half-way between two commits: records applied since the last one will come again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exit = await first.kill();
    const producedAtKill = produced;
    const committedAtKill = await committedTotal();
    expect(exit.signal).toBe('SIGKILL');
    expect(committedAtKill).toBeLessThan(total);
    await producing;

    const healthPort = await freePort();
    const second = OrdersAppProcess.start('app-2', { ...env, HEALTH_PORT: String(healthPort) });
    apps.push(second);
    await second.ready();
    try {
      await waitFor(async () => (await committedTotal()) === total, 90_000, `all ${total} events committed after the restart`);
    } catch (error) {
      // What the group committed and what the restarted app said, to tell a stuck partition from a slow one.
      const committed = JSON.stringify(await kit!.committed('orders-app', 'orders'));
      const ends = JSON.stringify(await kit!.endOffsets('orders'));
      const health = await fetch(`http://127.0.0.1:${healthPort}/health`).then((res) => res.text(), (e: Error) => e.message);
      throw new Error(`${(error as Error).message}; committed ${committed}, end offsets ${ends}; app-2 health: ${health}; app-2 log:\n${second.log.slice(-6_000)}`);
    }
    const stopped = await second.stop();
    expect(stopped.signal ?? stopped.code).toBe('SIGTERM');

    store = new SqliteOrdersStore(join(dir, 'orders.db'), { recordDeliveries: true });
    await store.init();
    expect(await store.snapshot()).toEqual(expectedState(stream.events));
    const deliveries = await store.deliveryStats();
    expect(deliveries.records).toBe(total);
    console.log(
      `crash test: killed at ${committedAtKill}/${total} committed (${producedAtKill} produced); ` +
        `${deliveries.deliveries - deliveries.records} events redelivered and applied again, final state exact`,
    );
  });

  it('shares the partitions between two instances in one group, and the state is exact (PostgreSQL)', async () => {
    kit = await KafkaTestKit.start({ topics: { orders: 8 } });
    postgres = await PostgresTestDatabase.create();
    const ports = [await freePort(), await freePort()];
    const instances = ports.map((port, i) =>
      OrdersAppProcess.start(`app-${i + 1}`, {
        ...FAST_ENV,
        KAFKA_BROKERS: kit!.brokers.join(','),
        DATABASE_URL: postgres!.url,
        ORDERS_COMMIT: 'record',
        ORDERS_CONCURRENCY: '4',
        HEALTH_PORT: String(port),
        RECORD_DELIVERIES: 'true',
      }),
    );
    apps.push(...instances);
    await Promise.all(instances.map((app) => app.ready()));

    const health = (port: number): Promise<HealthReport> => fetch(`http://127.0.0.1:${port}/health`).then((res) => res.json() as Promise<HealthReport>);
    await waitFor(
      async () => {
        const [a, b] = await Promise.all(ports.map(health));
        return a.assignment.length > 0 && b.assignment.length > 0 && a.assignment.length + b.assignment.length === 8;
      },
      30_000,
      'both instances to own partitions',
    );
    const [a, b] = await Promise.all(ports.map(health));
    expect(new Set([...a.assignment, ...b.assignment]).size).toBe(8);

    const stream = generateOrderStream({ orders: 500, customers: 80, countries: 10, seed: 9 });
    const total = stream.events.length;
    await kit.produce('orders', toMessages(stream.events));
    await waitFor(async () => (await committedTotal()) === total, 60_000, `all ${total} events committed`);

    // Each instance hears of its last commit a moment after Kafka has it (the confluent engine reads it back).
    const lagOf = (report: HealthReport) => Object.values((report.checks?.info?.kafka as { groups?: Record<string, { lag: number }> } | undefined)?.groups ?? {}).map((g) => g.lag);
    await waitFor(async () => (await Promise.all(ports.map(health))).every((report) => lagOf(report).join() === '0'), 15_000, "both instances' lag down to 0 in their health checks");
    const reports = await Promise.all(ports.map(health));
    for (const report of reports) {
      expect(report.status).toBe('ok');
      expect(report.applied).toBeGreaterThan(0);
      // What terminus made of the library's indicator and the database check.
      expect(report.checks?.status).toBe('ok');
      expect(report.checks?.info?.database).toEqual({ status: 'up' });
      const kafka = report.checks?.info?.kafka as { status: string; groups: Record<string, { status: string; state: string; lag: number; partitions: number }> };
      expect(kafka.status).toBe('up');
      expect(Object.values(kafka.groups)).toEqual([{ status: 'up', state: 'running', lag: 0, partitions: report.assignment.length }]);
    }
    expect(reports[0].applied + reports[1].applied).toBeGreaterThanOrEqual(total);
    // GET /metrics: each instance exposes its own partitions; together, the group's, at lag 0 and the admin client's offsets.
    const committedNow = await kit.committed('orders-app', 'orders');
    const exposed = (await Promise.all(ports.map((port) => fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text())))).map(parsePrometheus);
    const lagSamples = exposed.flatMap((samples) => samples.filter((s) => s.name === 'kafka_consumergroup_lag' && s.labels.consumergroup === 'orders-app'));
    expect(lagSamples.map((s) => Number(s.labels.partition)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(lagSamples.every((s) => s.value === 0)).toBe(true);
    const offsetSamples = exposed.flatMap((samples) => samples.filter((s) => s.name === 'kafka_consumergroup_current_offset'));
    expect(Object.fromEntries(offsetSamples.map((s) => [s.labels.partition, s.value]))).toEqual(Object.fromEntries(Object.entries(committedNow).map(([p, o]) => [p, o])));
    for (const [i, samples] of exposed.entries()) {
      expect(samples.find((s) => s.name === 'kafka_consumer_rebalances_total' && s.labels.consumergroup === 'orders-app')?.value).toBeGreaterThanOrEqual(1);
      expect(samples.filter((s) => s.name === 'kafka_consumergroup_lag').length).toBe(reports[i].assignment.length);
    }
    console.log(`two instances: ${reports.map((r) => `${r.assignment.length} partitions, ${r.applied} events`).join(' | ')}`);
    for (const app of instances) expect((await app.stop()).signal).toBe('SIGTERM');

    store = new PostgresOrdersStore(postgres.url, { recordDeliveries: true, maxConnections: 2 });
    expect(await store.snapshot()).toEqual(expectedState(stream.events));
    expect((await store.deliveryStats()).records).toBe(total);
  });
});

const freePort = async (): Promise<number> => (await freePorts(1))[0];

describe('orders sample app with OpenTelemetry from OTEL_* variables (real process, OTLP/HTTP JSON to a test collector)', () => {
  let kit: KafkaTestKit | undefined;
  let app: OrdersAppProcess | undefined;
  let collector: OtlpCollector | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await app?.kill();
    await collector?.close();
    await kit?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [app, collector, kit, dir] = [undefined, undefined, undefined, undefined];
  });

  it('exports a process span per record, child of the producer context in its traceparent, and the messaging metrics', async () => {
    kit = await KafkaTestKit.start({ topics: { orders: 2 } });
    collector = await OtlpCollector.start();
    dir = mkdtempSync(join(tmpdir(), 'orders-otel-'));
    const stream = generateOrderStream({ orders: 20, customers: 5, countries: 2, seed: 3 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const producerSpanId = '00f067aa0ba902b7';
    // Every record carries the same producer context, as if one request had sent them all.
    const messages = toMessages(stream.events).map((m) => ({ ...m, headers: { traceparent: `00-${traceId}-${producerSpanId}-01` } }));
    await kit.produce('orders', messages);
    app = OrdersAppProcess.start('app-otel', {
      ...FAST_ENV,
      KAFKA_BROKERS: kit.brokers.join(','),
      DATABASE_URL: `sqlite:${join(dir, 'orders.db')}`,
      OTEL_SERVICE_NAME: 'orders-otel-test',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    await app.ready();
    const total = messages.length;
    await waitFor(() => collector!.spans().filter((s) => s.name === 'process orders').length >= total, 30_000, `${total} process spans exported`);
    await waitFor(() => collector!.consumedTotal('orders') === total, 10_000, `messaging.client.consumed.messages at ${total}`);
    expect((await app.stop()).signal).toBe('SIGTERM');

    const spans = collector.spans();
    const processSpans = spans.filter((s) => s.name === 'process orders');
    expect(processSpans).toHaveLength(total);
    for (const span of processSpans) {
      expect({ traceId: span.traceId, parent: span.parentSpanId, kind: span.kind }).toEqual({ traceId, parent: producerSpanId, kind: 5 /* CONSUMER */ });
      expect(span.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'orders-app' });
    }
    expect(new Set(processSpans.map((s) => `${s.attributes['messaging.destination.partition.id']}@${s.attributes['messaging.kafka.offset']}`)).size).toBe(total);
    expect(spans.some((s) => s.name === 'commit orders-app')).toBe(true);
    expect(collector.serviceNames()).toContain('orders-otel-test');
    expect(collector.histogramCount('messaging.process.duration', 'orders')).toBe(total);
  });
});
