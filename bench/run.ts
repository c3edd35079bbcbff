/**
 * `npm run bench`: starts a broker (Apache Kafka by default), fills the topics
 * once, runs every measured consumer in its own fresh Node process (child.ts),
 * prints a table with ratios and targets, and writes bench/results.json. All
 * rows of a run are measured against the same broker in the same run.
 *
 * Environment (defaults are the issue's numbers):
 *   BENCH_BROKER             kafka (Apache Kafka, one KRaft node; default) or mock (librdkafka's mock cluster)
 *   BENCH_RECORDS            records for the no-op rows and the small backlog (200000)
 *   BENCH_IO_RECORDS         records for the 2 ms rows (BENCH_RECORDS / 10)
 *   BENCH_BACKLOG_RECORDS    records for the large backlog (5 × BENCH_RECORDS)
 *   BENCH_ONLY               comma-separated row names to run (default all)
 *   BENCH_REPEAT             runs of each row (2): a throughput row keeps its fastest run,
 *                            a peak-RSS row its highest peak
 *   BENCH_CPU_PROF=1         children write .cpuprofile files to bench/.tmp/prof
 *   BENCH_CHILD_NODE_ARGS    extra node flags for the measured children, e.g. --max-old-space-size=160
 *   BENCH_OUT                results file (bench/results.json)
 */
import { ChildProcess, fork } from 'child_process';
import { existsSync, mkdirSync, writeFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';
import { performance } from 'perf_hooks';
import { selectedBrokerKind, startTestBroker, TestBroker } from '../tools/test-broker';
import { checkFitsLogCap, fillTopic, newKafka, TopicSpec, verifyTopic } from './fill';
import { ChildConfig, ChildMessage, ChildResult, ConsumerKind, FETCH, GROUP, KEYS, PRODUCE_CHUNK, VALUE_BYTES } from './settings';

const root = resolve(__dirname, '..', '..', '..');
const brokerBinary = join(root, 'tools', 'mock-broker', 'build', 'mock-broker');

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}=${raw}: must be a positive integer`);
  return value;
}

const RECORDS = envInt('BENCH_RECORDS', 200_000);
const IO_RECORDS = envInt('BENCH_IO_RECORDS', Math.max(1, Math.round(RECORDS / 10)));
const BACKLOG_RECORDS = envInt('BENCH_BACKLOG_RECORDS', RECORDS * 5);
const REPEAT = envInt('BENCH_REPEAT', 2);
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const OUT = resolve(root, process.env.BENCH_OUT ?? join('bench', 'results.json'));
const BROKER = selectedBrokerKind(process.env.BENCH_BROKER);
/** Mock brokers; real Kafka runs one KRaft node (a second JVM would only share the same 2 cores). */
const MOCK_BROKERS = 3;
const GROUPS = 8;

const POOL_CONCURRENCY = 64;
const IO_MS = 2;
const THEORETICAL = { name: `${POOL_CONCURRENCY} / ${IO_MS} ms`, msgsPerSec: (POOL_CONCURRENCY * 1000) / IO_MS };

const TOPICS = {
  main: { name: 'bench-main', partitions: 8, records: RECORDS },
  io: { name: 'bench-io', partitions: 8, records: IO_RECORDS },
  backlogSmall: { name: 'bench-backlog-small', partitions: 64, records: RECORDS },
  backlogLarge: { name: 'bench-backlog-large', partitions: 64, records: BACKLOG_RECORDS },
  // Scale: as main, over 256 partitions; as backlogLarge, with every key distinct.
  partitions256: { name: 'bench-partitions-256', partitions: 256, records: RECORDS },
  keysMillion: { name: 'bench-keys-1m', partitions: 64, records: BACKLOG_RECORDS, keys: BACKLOG_RECORDS },
} satisfies Record<string, TopicSpec>;
type TopicId = keyof typeof TOPICS;

interface RowDef {
  name: string;
  kind: ConsumerKind;
  topic: TopicId;
  ioMs: number;
  partitionsConsumedConcurrently?: number;
  concurrency?: number;
  ordering?: ChildConfig['ordering'];
  /** Module only: consumer groups in the one process, each reading the whole topic. */
  groups?: number;
  /** Module only: the engine (default kafkajs). */
  engine?: ChildConfig['engine'];
  maxBufferedBytes?: number;
  /** Module only: a handler with Nest parameter decorators. */
  nestParams?: boolean;
  /** Module only: what observes it (see ChildConfig.telemetry). */
  telemetry?: ChildConfig['telemetry'];
  /**
   * What a row reports over its runs: 'throughput' keeps the fastest run; 'peakRss' (the
   * backlog rows) keeps the run with the highest peak RSS, since GC timing moves a single
   * run's peak by tens of MB and the highest is what a container must be sized for.
   */
  measures: 'throughput' | 'peakRss';
  what: string;
}

const ROWS: RowDef[] = [
  { name: 'kafkajs-eachBatch-noop', kind: 'kafkajs-batch', topic: 'main', ioMs: 0, measures: 'throughput', what: 'ceiling: raw kafkajs consumer, eachBatch, no-op' },
  { name: 'confluent-eachBatch-noop', kind: 'confluent-batch', topic: 'main', ioMs: 0, measures: 'throughput', what: "ceiling of the confluent engine's client: its KafkaJS-style eachBatch, no-op" },
  { name: 'confluent-consume-noop', kind: 'confluent-consume', topic: 'main', ioMs: 0, measures: 'throughput', what: 'the same client, lower-level KafkaConsumer: consume(1000) in a loop, no-op' },
  { name: 'module-noop', kind: 'module', topic: 'main', ioMs: 0, measures: 'throughput', what: 'our module, sequential @KafkaHandler, no-op' },
  {
    name: 'module-otel-noop',
    kind: 'module',
    telemetry: ['tracing'],
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: 'module-noop with an OpenTelemetry tracer provider registered: a span per record and per commit, batched to an exporter that drops them',
  },
  {
    name: 'module-otel-metrics-noop',
    kind: 'module',
    telemetry: ['metrics'],
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: 'module-noop with an OpenTelemetry meter provider registered: messaging.process.duration per record, consumed counts, read every second',
  },
  {
    name: 'module-prometheus-noop',
    kind: 'module',
    telemetry: ['prometheus'],
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: "module-noop with the module's Prometheus metrics on (prom-client), scraped every second",
  },
  {
    name: 'module-observed-noop',
    kind: 'module',
    telemetry: ['tracing', 'metrics', 'prometheus'],
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: 'module-noop with all of it: OpenTelemetry tracing and metrics, and Prometheus scraped every second',
  },
  {
    name: 'module-nest-params-noop',
    kind: 'module',
    nestParams: true,
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: "the same handler taking @Payload() and @Ctx(): called through Nest's external context (guards, interceptors, pipes; none bound)",
  },
  {
    name: 'module-confluent-noop',
    kind: 'module',
    engine: 'confluent',
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: "our module on the confluent engine, sequential @KafkaHandler, no-op, the module's defaults (maxBufferedBytes 2 MiB → queued.max.messages.kbytes 2048)",
  },
  {
    name: 'module-confluent-noop-64mib',
    kind: 'module',
    engine: 'confluent',
    // librdkafka's own default queue bound (queued.max.messages.kbytes 65536), as the raw Confluent rows have.
    maxBufferedBytes: 64 * 1024 * 1024,
    topic: 'main',
    ioMs: 0,
    measures: 'throughput',
    what: "the same with librdkafka's default prefetch bound (64 MiB), as the raw rows",
  },
  { name: 'nest-transport-noop', kind: 'nest', topic: 'main', ioMs: 0, measures: 'throughput', what: 'NestJS Transport.KAFKA microservice, @EventPattern, no-op' },
  {
    name: 'kafkajs-pcc8-io2ms',
    kind: 'kafkajs-message',
    topic: 'io',
    ioMs: IO_MS,
    partitionsConsumedConcurrently: 8,
    measures: 'throughput',
    what: 'raw kafkajs eachMessage, partitionsConsumedConcurrently 8, awaits 2 ms',
  },
  {
    name: 'nest-transport-io2ms',
    kind: 'nest',
    topic: 'io',
    ioMs: IO_MS,
    partitionsConsumedConcurrently: 8,
    measures: 'throughput',
    what: 'NestJS Transport.KAFKA, run.partitionsConsumedConcurrently 8, awaits 2 ms',
  },
  {
    name: `module-pool${POOL_CONCURRENCY}-key-io2ms`,
    kind: 'module',
    topic: 'io',
    ioMs: IO_MS,
    concurrency: POOL_CONCURRENCY,
    ordering: 'key',
    measures: 'throughput',
    what: `our module, concurrency ${POOL_CONCURRENCY}, ordering 'key', awaits 2 ms`,
  },
  {
    name: `module-observed-pool${POOL_CONCURRENCY}-key-io2ms`,
    kind: 'module',
    telemetry: ['tracing', 'metrics', 'prometheus'],
    topic: 'io',
    ioMs: IO_MS,
    concurrency: POOL_CONCURRENCY,
    ordering: 'key',
    measures: 'throughput',
    what: `the pool row with OpenTelemetry tracing and metrics and Prometheus on: what observation costs a handler that waits on I/O`,
  },
  {
    name: `module-confluent-pool${POOL_CONCURRENCY}-key-io2ms`,
    kind: 'module',
    engine: 'confluent',
    topic: 'io',
    ioMs: IO_MS,
    concurrency: POOL_CONCURRENCY,
    ordering: 'key',
    measures: 'throughput',
    what: `our module on the confluent engine, concurrency ${POOL_CONCURRENCY}, ordering 'key', awaits 2 ms`,
  },
  {
    name: `timers-${POOL_CONCURRENCY}x${IO_MS}ms`,
    kind: 'timers',
    topic: 'io',
    ioMs: IO_MS,
    concurrency: POOL_CONCURRENCY,
    measures: 'throughput',
    what: `diagnostic: no Kafka, ${POOL_CONCURRENCY} loops awaiting ${IO_MS} ms timers: what the event loop allows the pool row`,
  },
  { name: 'module-backlog-200k', kind: 'module', topic: 'backlogSmall', ioMs: 0, measures: 'peakRss', what: 'our module (as module-noop) draining the small backlog: peak RSS' },
  { name: 'module-backlog-1m', kind: 'module', topic: 'backlogLarge', ioMs: 0, measures: 'peakRss', what: 'our module (as module-noop) draining the large backlog: peak RSS' },
  // Scale rows: partitions, distinct keys through the key-ordered pool, groups in one process.
  { name: 'kafkajs-eachBatch-noop-256p', kind: 'kafkajs-batch', topic: 'partitions256', ioMs: 0, measures: 'throughput', what: 'ceiling over 256 partitions: raw kafkajs eachBatch, no-op' },
  { name: 'module-noop-256p', kind: 'module', topic: 'partitions256', ioMs: 0, measures: 'throughput', what: 'our module over 256 partitions (module-noop has 8)' },
  { name: `module-groups-${GROUPS}`, kind: 'module', topic: 'main', ioMs: 0, groups: GROUPS, measures: 'throughput', what: `our module, ${GROUPS} groups in one process each reading bench-main (module-noop is 1 group): records of all groups per second` },
  {
    name: `module-pool${POOL_CONCURRENCY}-key-1k-keys`,
    kind: 'module',
    topic: 'backlogLarge',
    ioMs: 0,
    concurrency: POOL_CONCURRENCY,
    ordering: 'key',
    measures: 'peakRss',
    what: `our module, concurrency ${POOL_CONCURRENCY}, ordering 'key', no-op, draining 1,000,000 records over 1,000 keys: peak RSS`,
  },
  {
    name: `module-pool${POOL_CONCURRENCY}-key-1m-keys`,
    kind: 'module',
    topic: 'keysMillion',
    ioMs: 0,
    concurrency: POOL_CONCURRENCY,
    ordering: 'key',
    measures: 'peakRss',
    what: `as the 1k-keys row, every one of the 1,000,000 records with its own key: peak RSS`,
  },
  // Diagnostic: the same backlogs drained by raw kafkajs, to tell the module's memory growth from kafkajs's.
  { name: 'kafkajs-backlog-200k', kind: 'kafkajs-batch', topic: 'backlogSmall', ioMs: 0, measures: 'peakRss', what: 'diagnostic: raw kafkajs eachBatch no-op draining the small backlog' },
  { name: 'kafkajs-backlog-1m', kind: 'kafkajs-batch', topic: 'backlogLarge', ioMs: 0, measures: 'peakRss', what: 'diagnostic: raw kafkajs eachBatch no-op draining the large backlog' },
];

// ---- processes we own: stopped by pid on every exit path ----------------------------------

let broker: TestBroker | undefined;
const children = new Set<ChildProcess>();
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) killChild(child);
    await broker?.stop().catch(() => undefined);
  })();
  return cleaning;
}

function killChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping the broker and children`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const child of children) killChild(child);
});

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

// ---- one measured run ----------------------------------------------------------------------

let groupSeq = 0;

function timeoutFor(row: RowDef, records: number): number {
  return 60_000 + records * (row.ioMs > 0 ? 3 : 0.5) * (row.groups ?? 1);
}

function runChild(row: RowDef, brokers: string[], attempt: number): Promise<ChildResult> {
  const topic = TOPICS[row.topic];
  const config: ChildConfig = {
    row: row.name,
    kind: row.kind,
    brokers,
    topic: topic.name,
    groupId: `bench-${row.name}-${process.pid}-${++groupSeq}`,
    total: topic.records * (row.groups ?? 1),
    groups: row.groups,
    ioMs: row.ioMs,
    partitionsConsumedConcurrently: row.partitionsConsumedConcurrently,
    engine: row.engine,
    maxBufferedBytes: row.maxBufferedBytes,
    nestParams: row.nestParams,
    telemetry: row.telemetry,
    concurrency: row.concurrency,
    ordering: row.ordering,
    timeoutMs: timeoutFor(row, topic.records),
  };
  const execArgv: string[] = ['--expose-gc', ...(process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  if (CPU_PROF) {
    const dir = join(root, 'bench', '.tmp', 'prof');
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${row.name}-${attempt}.cpuprofile`);
  }
  return new Promise<ChildResult>((resolvePromise, reject) => {
    if (cleaning) return reject(new Error(`${row.name}: not started, the bench is stopping`));
    const child = fork(join(__dirname, 'child.js'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    children.add(child);
    let outcome: ChildMessage | undefined;
    // The child exits by itself after reporting; this is the backstop.
    const hardTimeout = setTimeout(() => {
      log(`bench: ${row.name}: child ${child.pid} did not finish within ${config.timeoutMs + 15_000} ms; killing it`);
      killChild(child);
    }, config.timeoutMs + 15_000);
    let exitTimer: NodeJS.Timeout | undefined;
    child.on('message', (message: ChildMessage) => {
      outcome ??= message;
      // Reported: give it a few seconds to leave its group, then make sure it is gone.
      exitTimer = setTimeout(() => killChild(child), 10_000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(hardTimeout);
      clearTimeout(exitTimer);
      children.delete(child);
      if (outcome?.type === 'result') resolvePromise(outcome);
      else if (outcome?.type === 'error') reject(new Error(`${row.name}: ${outcome.message}`));
      else reject(new Error(`${row.name}: child exited (code ${code}, signal ${signal}) without a result`));
    });
  });
}

// ---- table and targets ---------------------------------------------------------------------

interface RowResult extends ChildResult {
  name: string;
  what: string;
  /** Every run of this row in run order: msgs/s, or peak RSS MB for a peakRss row; the kept run is reported. */
  runs: number[];
  ratio?: number;
  ratioTo?: string;
}

interface Target {
  name: string;
  value: number;
  threshold: number;
  pass: boolean;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function computeRatios(results: Map<string, RowResult>): void {
  const ceiling = results.get('kafkajs-eachBatch-noop');
  for (const name of ['module-noop', 'nest-transport-noop']) {
    const row = results.get(name);
    if (row && ceiling) {
      row.ratio = row.msgsPerSec / ceiling.msgsPerSec;
      row.ratioTo = 'kafkajs-eachBatch-noop';
    }
  }
  for (const name of ['kafkajs-pcc8-io2ms', 'nest-transport-io2ms', `module-pool${POOL_CONCURRENCY}-key-io2ms`, `timers-${POOL_CONCURRENCY}x${IO_MS}ms`]) {
    const row = results.get(name);
    if (row) {
      row.ratio = row.msgsPerSec / THEORETICAL.msgsPerSec;
      row.ratioTo = `theoretical ${THEORETICAL.name}`;
    }
  }
  const pool = results.get(`module-pool${POOL_CONCURRENCY}-key-io2ms`);
  const timers = results.get(`timers-${POOL_CONCURRENCY}x${IO_MS}ms`);
  if (pool && timers) {
    pool.ratio = pool.msgsPerSec / timers.msgsPerSec;
    pool.ratioTo = `timers-${POOL_CONCURRENCY}x${IO_MS}ms`;
  }
  const relate = (name: string, to: string, by: 'msgsPerSec' | 'peakRssMB'): void => {
    const row = results.get(name);
    const base = results.get(to);
    if (row && base) {
      row.ratio = row[by] / base[by];
      row.ratioTo = by === 'peakRssMB' ? `${to} peak RSS` : to;
    }
  };
  relate('module-backlog-1m', 'module-backlog-200k', 'peakRssMB');
  relate('confluent-eachBatch-noop', 'kafkajs-eachBatch-noop', 'msgsPerSec');
  relate('confluent-consume-noop', 'kafkajs-eachBatch-noop', 'msgsPerSec');
  relate('module-confluent-noop', 'confluent-consume-noop', 'msgsPerSec');
  relate('module-confluent-noop-64mib', 'confluent-consume-noop', 'msgsPerSec');
  relate('module-nest-params-noop', 'module-noop', 'msgsPerSec');
  for (const observed of ['module-otel-noop', 'module-otel-metrics-noop', 'module-prometheus-noop', 'module-observed-noop']) relate(observed, 'module-noop', 'msgsPerSec');
  relate(`module-observed-pool${POOL_CONCURRENCY}-key-io2ms`, `module-pool${POOL_CONCURRENCY}-key-io2ms`, 'msgsPerSec');
  relate(`module-confluent-pool${POOL_CONCURRENCY}-key-io2ms`, `timers-${POOL_CONCURRENCY}x${IO_MS}ms`, 'msgsPerSec');
  relate('module-noop-256p', 'kafkajs-eachBatch-noop-256p', 'msgsPerSec');
  relate(`module-groups-${GROUPS}`, 'module-noop', 'msgsPerSec');
  relate(`module-pool${POOL_CONCURRENCY}-key-1m-keys`, `module-pool${POOL_CONCURRENCY}-key-1k-keys`, 'peakRssMB');
  const rawSmall = results.get('kafkajs-backlog-200k');
  const rawLarge = results.get('kafkajs-backlog-1m');
  if (rawSmall && rawLarge) {
    rawLarge.ratio = rawLarge.peakRssMB / rawSmall.peakRssMB;
    rawLarge.ratioTo = 'kafkajs-backlog-200k peak RSS';
  }
}

function computeTargets(results: Map<string, RowResult>): Target[] {
  const targets: Target[] = [];
  const add = (name: string, value: number | undefined, threshold: number, higherIsBetter = true): void => {
    if (value === undefined || !Number.isFinite(value)) return;
    targets.push({ name, value, threshold, pass: higherIsBetter ? value >= threshold : value <= threshold });
  };
  const rate = (name: string): number | undefined => results.get(name)?.msgsPerSec;
  const ratio = (a: string, b: string): number | undefined => {
    const x = rate(a);
    const y = rate(b);
    return x !== undefined && y !== undefined ? x / y : undefined;
  };
  const pool = `module-pool${POOL_CONCURRENCY}-key-io2ms`;
  const peak = (name: string): number | undefined => results.get(name)?.peakRssMB;
  const peakRatio = (a: string, b: string): number | undefined => (peak(a) !== undefined && peak(b) !== undefined ? peak(a)! / peak(b)! : undefined);
  add('module-noop / kafkajs-eachBatch-noop', ratio('module-noop', 'kafkajs-eachBatch-noop'), 0.9);
  add(`${pool} / timers-${POOL_CONCURRENCY}x${IO_MS}ms`, ratio(pool, `timers-${POOL_CONCURRENCY}x${IO_MS}ms`), 0.9);
  add('module-confluent-noop / confluent-consume-noop', ratio('module-confluent-noop', 'confluent-consume-noop'), 0.9);
  add(`${pool} / kafkajs-pcc8-io2ms`, ratio(pool, 'kafkajs-pcc8-io2ms'), 7);
  add(`${pool} / nest-transport-io2ms`, ratio(pool, 'nest-transport-io2ms'), 7);
  add('peak RSS module-backlog-1m / module-backlog-200k', peakRatio('module-backlog-1m', 'module-backlog-200k'), 1.25, false);
  add(
    `peak RSS module-pool${POOL_CONCURRENCY}-key-1m-keys / module-pool${POOL_CONCURRENCY}-key-1k-keys`,
    peakRatio(`module-pool${POOL_CONCURRENCY}-key-1m-keys`, `module-pool${POOL_CONCURRENCY}-key-1k-keys`),
    1.25,
    false,
  );
  return targets;
}

function printTable(results: Map<string, RowResult>, targets: Target[]): void {
  const header = ['row', 'records', 'seconds', 'msgs/s', 'peak RSS MB', 'ratio', 'runs (msgs/s, or peak RSS MB)'];
  const lines: string[][] = [];
  for (const row of ROWS) {
    const r = results.get(row.name);
    if (!r) continue;
    lines.push([
      row.name,
      fmtInt(r.records),
      r.seconds.toFixed(2),
      fmtInt(r.msgsPerSec),
      r.peakRssMB.toFixed(1),
      r.ratio !== undefined ? `${r.ratio.toFixed(2)} × ${r.ratioTo}` : '',
      r.runs.length > 1 ? r.runs.map((v) => (row.measures === 'throughput' ? fmtInt(v) : v.toFixed(1))).join(', ') : '',
    ]);
    if (row.name === `module-pool${POOL_CONCURRENCY}-key-io2ms`) {
      lines.push([`theoretical ${THEORETICAL.name}`, '', '', fmtInt(THEORETICAL.msgsPerSec), '', '', '']);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([1, 2, 3, 4]);
  const fmt = (cells: string[]): string =>
    `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  console.log('');
  console.log(fmt(header));
  console.log(`|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const line of lines) console.log(fmt(line));
  if (targets.length > 0) {
    console.log('');
    console.log('Targets (reported, not enforced):');
    for (const t of targets) {
      const op = t.name.startsWith('peak RSS') ? '≤' : '≥';
      console.log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name} = ${t.value.toFixed(2)}  (target ${op} ${t.threshold})`);
    }
  }
  console.log('');
}

// ---- main ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((name) => !ROWS.some((r) => r.name === name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown rows ${unknown.join(', ')}; rows are ${ROWS.map((r) => r.name).join(', ')}`);
  const rows = only.length > 0 ? ROWS.filter((r) => only.includes(r.name)) : ROWS;
  const topicIds = [...new Set(rows.map((r) => r.topic))];
  if (BROKER === 'mock') {
    for (const id of topicIds) checkFitsLogCap(TOPICS[id]);
    if (!existsSync(brokerBinary)) throw new Error(`mock broker binary missing at ${brokerBinary}; run "bash tools/setup.sh"`);
  }

  const startedAt = performance.now();
  broker = await startTestBroker({
    broker: BROKER,
    topics: Object.fromEntries(topicIds.map((id) => [TOPICS[id].name, TOPICS[id].partitions])),
    mock: { brokers: MOCK_BROKERS, binary: brokerBinary },
    // One JVM with room for the backlogs' page cache and a heap that does not slow the fills.
    kafka: { nodes: 1, heapMb: 1024 },
  });
  const brokers = broker.bootstrapServers;
  log(`bench: ${brokerDescription(broker)} at ${brokers.join(',')}`);

  const kafka = newKafka(brokers);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  try {
    for (const id of topicIds) {
      const spec = TOPICS[id];
      const t0 = performance.now();
      let lastLog = t0;
      await fillTopic(producer, spec, (done) => {
        if (performance.now() - lastLog > 5_000) {
          lastLog = performance.now();
          log(`bench:   ${spec.name}: ${fmtInt(done)} / ${fmtInt(spec.records)}`);
        }
      });
      await verifyTopic(admin, spec);
      log(`bench: filled ${spec.name}: ${fmtInt(spec.records)} records in ${spec.partitions} partitions (${((performance.now() - t0) / 1000).toFixed(1)} s), end offsets verified`);
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }

  const results = new Map<string, RowResult>();
  const failures: string[] = [];
  const record = (row: RowDef, result: ChildResult): void => {
    const previous = results.get(row.name);
    const value = (r: ChildResult): number => (row.measures === 'throughput' ? r.msgsPerSec : r.peakRssMB);
    const runs = [...(previous?.runs ?? []), value(result)];
    const kept = previous && value(previous) >= value(result) ? previous : { ...result, name: row.name, what: row.what, runs };
    results.set(row.name, { ...kept, runs });
  };
  const measure = async (row: RowDef, attempt: number): Promise<void> => {
    if (cleaning) return;
    try {
      const result = await runChild(row, brokers, attempt);
      log(
        `bench: ${row.name}${REPEAT > 1 ? ` (run ${attempt}/${REPEAT})` : ''}: ${fmtInt(result.records)} records in ${result.seconds.toFixed(2)} s = ${fmtInt(result.msgsPerSec)} msgs/s, peak RSS ${result.peakRssMB.toFixed(1)} MB, V8 heap peak ${result.peakHeapTotalMB.toFixed(0)} MB, Buffers peak ${result.peakExternalMB.toFixed(0)} MB, heap after GC ${result.heapUsedAfterGcMB.toFixed(1)} MB (startup ${result.startupMs} ms)`,
      );
      record(row, result);
    } catch (error) {
      const message = (error as Error).message;
      log(`bench: FAILED ${message}`);
      failures.push(message);
    }
  };
  // Rows interleaved run by run, so slow drift on a shared machine hits all of them alike.
  for (const measures of ['throughput', 'peakRss'] as const) {
    const group = rows.filter((r) => r.measures === measures);
    for (let attempt = 1; attempt <= REPEAT; attempt++) {
      for (const row of group) await measure(row, attempt);
    }
  }

  computeRatios(results);
  const targets = computeTargets(results);
  printTable(results, targets);

  const defaults = RECORDS === 200_000 && IO_RECORDS === 20_000 && BACKLOG_RECORDS === 1_000_000 && only.length === 0;
  const output = {
    generatedAt: new Date().toISOString(),
    partial: !defaults || failures.length > 0,
    node: process.version,
    settings: {
      broker: brokerDescription(broker),
      topics: Object.fromEntries(topicIds.map((id) => [TOPICS[id].name, { partitions: TOPICS[id].partitions, records: TOPICS[id].records }])),
      valueBytes: VALUE_BYTES,
      keys: KEYS,
      recordsPerProducerBatch: PRODUCE_CHUNK,
      fetch: FETCH,
      group: GROUP,
      repeat: REPEAT,
    },
    rows: ROWS.filter((r) => results.has(r.name)).map((r) => {
      const x = results.get(r.name)!;
      return {
        name: r.name,
        msgsPerSec: Math.round(x.msgsPerSec),
        peakRssMB: round1(x.peakRssMB),
        records: x.records,
        seconds: Number(x.seconds.toFixed(3)),
        ratio: x.ratio !== undefined ? Number(x.ratio.toFixed(3)) : undefined,
        ratioTo: x.ratioTo,
        measures: r.measures,
        runs: x.runs.map(r.measures === 'throughput' ? Math.round : round1),
        startupMs: x.startupMs,
        rssAtFirstRecordMB: round1(x.rssAtFirstRecordMB),
        rssAtEndMB: round1(x.rssAtEndMB),
        heapUsedAfterGcMB: round1(x.heapUsedAfterGcMB),
        peakHeapTotalMB: round1(x.peakHeapTotalMB),
        peakHeapUsedMB: round1(x.peakHeapUsedMB),
        peakExternalMB: round1(x.peakExternalMB),
        what: r.what,
      };
    }),
    theoretical: THEORETICAL,
    targets: targets.map((t) => ({ ...t, value: Number(t.value.toFixed(3)) })),
    failures,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
  log(`bench: wrote ${relative(process.cwd(), OUT) || OUT} (${((performance.now() - startedAt) / 1000).toFixed(0)} s in all)`);
  if (failures.length > 0) {
    throw new Error(`${failures.length} row(s) failed:\n  ${failures.join('\n  ')}`);
  }
}

function brokerDescription(b: TestBroker): string {
  return b.kind === 'kafka' ? `Apache Kafka ${b.version}, one KRaft node (pid ${b.pids[1]})` : `librdkafka mock cluster, ${MOCK_BROKERS} brokers (pid ${b.pid})`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

main()
  .catch((error: unknown) => {
    log(`bench: ${(error as Error)?.stack ?? error}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
