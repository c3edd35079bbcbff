/**
 * One measured consumer, run as its own Node process by run.ts (so its peak
 * RSS is its own). Usage: node child.js '<ChildConfig as JSON>'.
 *
 * It consumes a pre-filled topic with a fresh group from the beginning, times
 * from the first record handed to consumer code until `total` records have
 * finished, reports a ChildResult over IPC and exits.
 */
import 'reflect-metadata';
import { Controller, Injectable, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MicroserviceOptions, Transport } from '@nestjs/microservices';
import { readFileSync } from 'fs';
import { Kafka, logLevel } from 'kafkajs';
import { performance } from 'perf_hooks';
import { setTimeout as sleep } from 'timers/promises';
import { Ctx, KafkaConsumerModule, KafkaHandler, KafkaHandlerOptions, KafkaMessageContext, Payload } from '../libs/kafka-consumer/src';
import { ChildConfig, ChildMessage, FETCH, GROUP, MB } from './settings';

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

/** Counts finished records; the clock starts at the first record consumer code sees. */
class Meter {
  count = 0;
  private firstAt = 0;
  private rssAtFirst = 0;
  private finished = false;

  constructor(
    private readonly total: number,
    private readonly onDone: (message: ChildMessage) => void,
  ) {}

  /** Consumer code got its first record(s). */
  started(): void {
    if (this.firstAt !== 0) return;
    this.firstAt = performance.now();
    this.rssAtFirst = process.memoryUsage.rss();
  }

  done(records: number): void {
    this.count += records;
    if (this.count < this.total || this.finished) return;
    this.finished = true;
    const seconds = (performance.now() - this.firstAt) / 1000;
    const rssAtEnd = process.memoryUsage.rss();
    sampleMemory();
    // Started with --expose-gc: what is still reachable once the run is over (a leak shows here).
    (globalThis as { gc?: () => void }).gc?.();
    const heapAfterGc = process.memoryUsage().heapUsed;
    this.onDone({
      type: 'result',
      row: config.row,
      records: this.count,
      seconds,
      msgsPerSec: this.count / seconds,
      startupMs: Math.round(this.firstAt),
      rssAtFirstRecordMB: this.rssAtFirst / MB,
      rssAtEndMB: rssAtEnd / MB,
      heapUsedAfterGcMB: heapAfterGc / MB,
      peakHeapTotalMB: memoryPeaks.heapTotal / MB,
      peakHeapUsedMB: memoryPeaks.heapUsed / MB,
      peakExternalMB: memoryPeaks.external / MB,
      peakRssMB: peakRssBytes() / MB,
    });
  }
}

/** Peaks of the parts of memory, sampled every 100 ms: tells a V8 heap peak from Buffer memory. */
const memoryPeaks = { heapTotal: 0, heapUsed: 0, external: 0 };
function sampleMemory(): void {
  const m = process.memoryUsage();
  memoryPeaks.heapTotal = Math.max(memoryPeaks.heapTotal, m.heapTotal);
  memoryPeaks.heapUsed = Math.max(memoryPeaks.heapUsed, m.heapUsed);
  memoryPeaks.external = Math.max(memoryPeaks.external, m.external);
}
setInterval(sampleMemory, 100).unref();

/**
 * Peak resident set size of this process: VmHWM, the high-water mark of this
 * address space. Not getrusage's maxrss: Linux carries the maxrss of the
 * process before exec over, and a forked child starts as a copy of the
 * orchestrator (hundreds of MB after filling the topics), so maxrss would report
 * the parent's peak. maxrss (kilobytes on Linux) only where /proc is missing.
 */
function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

type Stop = () => Promise<unknown>;

async function main(): Promise<void> {
  let stop: Stop = async () => undefined;
  const meter = new Meter(config.total, (message) => void finish(message, () => stop()));
  setTimeout(() => {
    void finish({ type: 'error', row: config.row, message: `timed out after ${config.timeoutMs} ms with ${meter.count} of ${config.total} records` }, () => stop(), 2);
  }, config.timeoutMs).unref();
  switch (config.kind) {
    case 'kafkajs-batch':
    case 'kafkajs-message':
      stop = await runKafkajs(meter);
      break;
    case 'confluent-batch':
    case 'confluent-consume':
      stop = await runConfluent(meter);
      break;
    case 'module':
      stop = await runModule(meter);
      break;
    case 'nest':
      stop = await runNestTransport(meter);
      break;
    case 'timers':
      runTimers(meter);
      break;
    default:
      throw new Error(`unknown consumer kind ${String(config.kind)}`);
  }
}

/**
 * No Kafka: `concurrency` loops each awaiting an `ioMs` timer per "record".
 * The most a pool of that size can finish with this handler in one Node
 * process: timers fire late by whatever else the event loop is doing.
 */
function runTimers(meter: Meter): void {
  let issued = 0;
  const loop = async () => {
    while (issued < config.total) {
      issued += 1;
      meter.started();
      await sleep(config.ioMs);
      meter.done(1);
    }
  };
  for (let i = 0; i < (config.concurrency ?? 1); i++) void loop();
}

/** Raw kafkajs: the ceiling (eachBatch, no-op) or eachMessage with partitionsConsumedConcurrently. */
async function runKafkajs(meter: Meter): Promise<Stop> {
  const kafka = new Kafka({ brokers: config.brokers, clientId: `bench-${config.row}`, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: config.groupId, ...GROUP, ...FETCH });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.topic], fromBeginning: true });
  const ioMs = config.ioMs;
  if (config.kind === 'kafkajs-batch') {
    // Defaults otherwise: eachBatchAutoResolve and autoCommit on.
    await consumer.run({
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch }) => {
        meter.started();
        meter.done(batch.messages.length);
      },
    });
  } else {
    await consumer.run({
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachMessage: async () => {
        meter.started();
        if (ioMs > 0) await sleep(ioMs);
        meter.done(1);
      },
    });
  }
  return () => consumer.disconnect();
}

/** librdkafka settings from the same FETCH/GROUP values as the kafkajs rows. */
function confluentSettings(): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': config.brokers.join(','),
    'client.id': `bench-${config.row}`,
    'group.id': config.groupId,
    'session.timeout.ms': GROUP.sessionTimeout,
    'heartbeat.interval.ms': GROUP.heartbeatInterval,
    'fetch.min.bytes': FETCH.minBytes,
    'fetch.max.bytes': FETCH.maxBytes,
    'max.partition.fetch.bytes': FETCH.maxBytesPerPartition,
    'fetch.wait.max.ms': FETCH.maxWaitTimeInMs,
    'auto.offset.reset': 'earliest',
  };
}

/**
 * Raw Confluent client (loaded only for these rows): its KafkaJS-style eachBatch, or its
 * lower-level KafkaConsumer with batched consume(n) in a loop; both no-op, auto-commit on.
 */
async function runConfluent(meter: Meter): Promise<Stop> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const confluent = require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript');
  if (config.kind === 'confluent-batch') {
    const { 'bootstrap.servers': _servers, ...settings } = confluentSettings();
    const kafka = new confluent.KafkaJS.Kafka({ kafkaJS: { brokers: config.brokers, logLevel: confluent.KafkaJS.logLevel.ERROR } });
    const consumer = kafka.consumer({ ...settings, 'js.consumer.max.batch.size': -1 } as never);
    await consumer.connect();
    await consumer.subscribe({ topics: [config.topic] });
    await consumer.run({
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch }) => {
        meter.started();
        meter.done(batch.messages.length);
      },
    });
    return () => consumer.disconnect();
  }
  // auto.offset.reset is a topic setting: the binding's topic configuration replaces librdkafka's default one.
  const consumer = new confluent.KafkaConsumer({ ...confluentSettings(), 'enable.auto.commit': true }, { 'auto.offset.reset': 'earliest' });
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  consumer.setDefaultConsumeTimeout(100);
  // Return as soon as records are there, not after the whole timeout (the typings lack it).
  (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(on: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
  consumer.subscribe([config.topic]);
  let running = true;
  void (async () => {
    while (running) {
      const messages = await new Promise<unknown[]>((resolve) => consumer.consume(1000, (error, list) => resolve(error ? [] : list)));
      if (messages.length === 0) continue;
      meter.started();
      meter.done(messages.length);
    }
  })();
  return () =>
    new Promise<void>((resolve) => {
      running = false;
      consumer.disconnect(() => resolve());
    });
}

/**
 * Our module: one @KafkaHandler per group (`groups`, default 1, each group reading the whole
 * topic), settings mapped from the same FETCH/GROUP values.
 */
/** An OpenTelemetry SDK as an application registers one; spans are batched and dropped (the cost measured is the module's). */
function registerTracing(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { context, propagation, trace } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dropping = { export: (_spans: unknown[], done: (result: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined };
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] }));
}

/** A meter provider as an application registers one: a periodic reader (1 s) to an exporter that drops what it gets. */
function registerMetrics(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { metrics } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dropping = {
    export: (_metrics: unknown, done: (result: { code: number }) => void) => done({ code: 0 }),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  };
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropping, exportIntervalMillis: 1_000 })] }));
}

/** The module's Prometheus metrics in a registry of their own, scraped once a second as a Prometheus server would. */
function prometheusScraped(): { registry: import('prom-client').Registry; stop: () => void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Registry } = require('prom-client') as typeof import('prom-client');
  const registry = new Registry();
  const timer = setInterval(() => void registry.metrics(), 1_000);
  return { registry, stop: () => clearInterval(timer) };
}

async function runModule(meter: Meter): Promise<Stop> {
  const telemetry = config.telemetry ?? [];
  if (telemetry.includes('tracing')) registerTracing();
  if (telemetry.includes('metrics')) registerMetrics();
  const scraped = telemetry.includes('prometheus') ? prometheusScraped() : undefined;
  const ioMs = config.ioMs;
  const groups = config.groups ?? 1;
  const handlerFor = (groupId: string): Type => {
    const handlerOptions: KafkaHandlerOptions = {
      groupId,
      name: `bench.${groupId}`,
      deserializer: 'buffer',
      fromBeginning: true,
      concurrency: config.concurrency,
      ordering: config.ordering,
    };
    @Injectable()
    class NoopHandler {
      @KafkaHandler(config.topic, handlerOptions)
      handle(): void {
        meter.started();
        meter.done(1);
      }
    }
    @Injectable()
    class IoHandler {
      @KafkaHandler(config.topic, handlerOptions)
      async handle(): Promise<void> {
        meter.started();
        await sleep(ioMs);
        meter.done(1);
      }
    }
    @Injectable()
    class NestParamsHandler {
      @KafkaHandler(config.topic, handlerOptions)
      handle(@Payload() _value: Buffer | null, @Ctx() _ctx: KafkaMessageContext): void {
        meter.started();
        meter.done(1);
      }
    }
    if (config.nestParams) return NestParamsHandler;
    return ioMs > 0 ? IoHandler : NoopHandler;
  };
  const providers = Array.from({ length: groups }, (_, i) => handlerFor(groups === 1 ? config.groupId : `${config.groupId}-${i}`));

  @Module({
    imports: [
      KafkaConsumerModule.forRoot({
        brokers: config.brokers,
        clientId: `bench-${config.row}`,
        sessionTimeoutMs: GROUP.sessionTimeout,
        heartbeatIntervalMs: GROUP.heartbeatInterval,
        rebalanceTimeoutMs: GROUP.rebalanceTimeout,
        fetchMinBytes: FETCH.minBytes,
        fetchMaxBytes: FETCH.maxBytes,
        fetchMaxWaitMs: FETCH.maxWaitTimeInMs,
        maxPartitionFetchBytes: FETCH.maxBytesPerPartition,
        autoOffsetReset: 'earliest',
        shutdownTimeoutMs: 5_000,
        logLevel: 'error',
        engine: config.engine ?? 'kafkajs',
        ...(config.maxBufferedBytes !== undefined ? { maxBufferedBytes: config.maxBufferedBytes } : {}),
        ...(scraped ? { prometheus: { registry: scraped.registry } } : {}),
      }),
    ],
    providers,
  })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  return async () => {
    scraped?.stop();
    await app.close();
  };
}

/** The NestJS built-in Kafka transport: a Transport.KAFKA microservice with an @EventPattern handler. */
async function runNestTransport(meter: Meter): Promise<Stop> {
  const ioMs = config.ioMs;

  @Controller()
  class NoopController {
    @EventPattern(config.topic)
    handle(): void {
      meter.started();
      meter.done(1);
    }
  }

  @Controller()
  class IoController {
    @EventPattern(config.topic)
    async handle(): Promise<void> {
      meter.started();
      await sleep(ioMs);
      meter.done(1);
    }
  }

  @Module({ controllers: [ioMs > 0 ? IoController : NoopController] })
  class BenchModule {}

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, {
    transport: Transport.KAFKA,
    options: {
      client: { brokers: config.brokers, clientId: `bench-${config.row}`, logLevel: logLevel.ERROR },
      consumer: { groupId: config.groupId, ...GROUP, ...FETCH },
      // Nest appends '-server' to the group id by default; the group is fresh either way.
      postfixId: '',
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1 },
    },
    logger: ['error', 'warn'],
  });
  await app.listen();
  return () => app.close();
}

let finishing = false;
async function finish(message: ChildMessage, stop: Stop, code = 0): Promise<void> {
  if (finishing) return;
  finishing = true;
  process.send?.(message);
  // Leave the group politely, but never let a slow disconnect hold the run.
  await Promise.race([stop().catch(() => undefined), sleep(5_000)]);
  process.exit(code);
}

// The orchestrator died: do not linger.
process.on('disconnect', () => process.exit(1));
process.on('unhandledRejection', (error) => {
  void finish({ type: 'error', row: config.row, message: `unhandled rejection: ${(error as Error)?.stack ?? error}` }, async () => undefined, 1);
});

main().catch((error: unknown) => {
  void finish({ type: 'error', row: config.row, message: (error as Error)?.stack ?? String(error) }, async () => undefined, 1);
});
