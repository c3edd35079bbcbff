import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Admin, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { startTestBroker, TestBroker, TestBrokerKind } from '../../../tools/test-broker';
import { SqliteOrdersStore } from '../src/database/sqlite-orders-store';
import { diffStates, expectedState, OrdersState } from '../src/events/orders-state';
import { OrdersAppProcess, repoRoot } from './app-process';
import { generateOrderStream, OrderStream, toMessages } from './order-stream';

/**
 * `npm run demo`: a broker (Apache Kafka by default, `--broker mock` for the
 * librdkafka mock cluster), the orders app on SQLite as a child process,
 * a stream of order events (duplicates and out-of-order versions included), a
 * kill -9 of the app halfway and a restart, progress while it runs, then the
 * per-country table and a check that the database equals what the events imply.
 * Exit code 0 only if it does. Every process is stopped by pid, also on failure.
 *
 * The app is a static group member (GROUP_INSTANCE_ID): restarted after the
 * kill, it takes its place back at once on Kafka instead of waiting out the
 * dead member's session; the demo prints how long each step took.
 *
 * Options: --orders N --customers N --countries N --partitions N --seed N
 *          --concurrency N --commit record|batch|auto|manual --no-crash
 *          --broker kafka|mock --engine kafkajs|confluent (default: KAFKA_ENGINE, else kafkajs)
 */

const TOPIC = 'orders';
const GROUP = 'orders-app';
const INSTANCE_ID = 'orders-demo-1';
/** The app's session timeout in the demo: what a dynamic member's restart would wait for. */
const SESSION_TIMEOUT_MS = 6_000;

interface DemoOptions {
  orders: number;
  customers: number;
  countries: number;
  partitions: number;
  seed: number;
  crash: boolean;
  commit: string;
  concurrency: number;
  broker: TestBrokerKind;
  engine: string;
}

interface Offsets {
  end: number;
  committed: number;
}

class Demo {
  private broker: TestBroker | undefined;
  private app: OrdersAppProcess | undefined;
  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly started = Date.now();
  private readonly workDir = mkdtempSync(join(tmpdir(), 'orders-demo-'));
  private readonly dbPath = join(this.workDir, 'orders.db');
  private produced = 0;

  constructor(private readonly options: DemoOptions) {}

  async run(): Promise<boolean> {
    const { options } = this;
    const stream = generateOrderStream({ orders: options.orders, customers: options.customers, countries: options.countries, seed: options.seed });
    this.say(
      `stream: ${stream.events.length} events for ${stream.orders} orders (${stream.versions} versions, ${stream.duplicates} duplicates, ` +
        `${stream.outOfOrder} orders with versions out of order, ${stream.countryChanges} orders moving country), ` +
        `${options.customers} customers, ${options.countries} countries`,
    );

    this.broker = await startTestBroker({
      broker: options.broker,
      topics: { [TOPIC]: options.partitions },
      mock: { brokers: 3, binary: join(repoRoot(), 'tools', 'mock-broker', 'build', 'mock-broker') },
    });
    const what = this.broker.kind === 'kafka' ? `Apache Kafka ${this.broker.version}, one KRaft node, pid ${this.broker.pids[1]}` : `librdkafka mock cluster, pid ${this.broker.pid}`;
    this.say(`broker (${what}): ${this.broker.bootstrapServers.join(',')}, topic ${TOPIC} with ${options.partitions} partitions`);
    this.kafka = new Kafka({ brokers: this.broker.bootstrapServers, clientId: 'orders-demo', logLevel: logLevel.NOTHING });
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();

    await this.startApp();
    const producing = this.produce(stream);
    let crashed = !options.crash;
    let shown = { at: 0, line: '' };
    for (;;) {
      const offsets = await this.offsets();
      const total = stream.events.length;
      const done = this.produced === total && offsets.committed === offsets.end && offsets.end === total;
      // A line a second while things move, every 10 s while they do not.
      const line = `${this.produced} ${offsets.committed} ${offsets.end}`;
      if (done || Date.now() - shown.at >= (line === shown.line ? 10_000 : 1000)) {
        this.progress(offsets, total);
        shown = { at: Date.now(), line };
      }
      // Crash with work in flight: past 40 % of the stream, while some records are not committed yet.
      if (!crashed && offsets.committed >= total * 0.4 && offsets.committed < offsets.end) {
        crashed = true;
        await this.crashAndRestart(offsets);
        continue;
      }
      if (done) break;
      if (!this.app!.running) throw new Error(`the app exited unexpectedly:\n${this.app!.log}`);
      if (Date.now() - this.started > 180_000) throw new Error('the app did not catch up within 3 minutes');
      await sleep(200);
    }
    await producing;
    this.say(`all ${stream.events.length} events consumed and committed; stopping the app with SIGTERM`);
    const exit = await this.app!.stop();
    this.say(`app exited (${exit.signal ?? `code ${exit.code}`})`);

    return this.check(stream);
  }

  async close(): Promise<void> {
    await this.app?.kill().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.broker?.stop().catch(() => undefined);
  }

  /** The tail of the app's output, for failures. */
  appLog(): string {
    return this.app?.log.split('\n').slice(-30).join('\n') ?? '';
  }

  private async startApp(): Promise<void> {
    this.app = OrdersAppProcess.start('app', {
      KAFKA_BROKERS: this.broker!.bootstrapServers.join(','),
      DATABASE_URL: `sqlite:${this.dbPath}`,
      ORDERS_TOPIC: TOPIC,
      GROUP_ID: GROUP,
      KAFKA_ENGINE: this.options.engine,
      // --commit auto commits every 2 s: the fewest commits, fits an idempotent
      // handler, and the crash below then redelivers up to 2 s of work.
      ORDERS_COMMIT: this.options.commit,
      ORDERS_COMMIT_INTERVAL_MS: '2000',
      ORDERS_CONCURRENCY: String(this.options.concurrency),
      // Short group timings: an empty fetch is held for the full wait.
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      // A static member: the restarted app takes the killed one's place without a rebalance.
      GROUP_INSTANCE_ID: INSTANCE_ID,
      KAFKA_HEARTBEAT_INTERVAL_MS: '500',
      KAFKA_FETCH_MAX_WAIT_MS: '100',
      RECORD_DELIVERIES: 'true',
    });
    await this.app.ready();
    const commit = this.options.commit === 'auto' ? 'auto every 2 s' : this.options.commit;
    this.say(`app started (pid ${this.app.pid}): ${this.dbPath}, commit ${commit}, concurrency ${this.options.concurrency}, ordering by key, engine ${this.options.engine}`);
  }

  /** Publishes the stream in 40 slices, a quarter second apart, like live traffic. */
  private async produce(stream: OrderStream): Promise<void> {
    const messages = toMessages(stream.events);
    const slice = Math.ceil(messages.length / 40);
    for (let i = 0; i < messages.length; i += slice) {
      await this.producer!.send({ topic: TOPIC, messages: messages.slice(i, i + slice) });
      this.produced = Math.min(messages.length, i + slice);
      await sleep(250);
    }
  }

  private async crashAndRestart(offsets: Offsets): Promise<void> {
    await this.app!.kill();
    const killedAt = Date.now();
    this.say(`kill -9 the app at ${offsets.committed} committed of ${offsets.end} published: what it did since its last commit will be redelivered`);
    await this.startApp();
    const readyAfter = Date.now() - killedAt;
    // Resumed: the restarted app committed something past what was committed at the kill.
    const committedAtKill = (await this.offsets()).committed;
    while ((await this.offsets()).committed <= committedAtKill && Date.now() - killedAt < 60_000) await sleep(50);
    const resumedAfter = Date.now() - killedAt;
    this.say(
      `restarted as static member ${INSTANCE_ID}: process ready ${(readyAfter / 1000).toFixed(1)} s after the kill, committing again ` +
        `${(resumedAfter / 1000).toFixed(1)} s after the kill (${((resumedAfter - readyAfter) / 1000).toFixed(1)} s after start-up); ` +
        (this.broker!.kind === 'kafka'
          ? `Kafka handed its partitions straight back, where a dynamic member would first wait out the dead member's ${SESSION_TIMEOUT_MS / 1000} s session`
          : `the mock ignores group.instance.id, so this includes waiting out the dead member's ${SESSION_TIMEOUT_MS / 1000} s session`),
    );
  }

  private async offsets(): Promise<Offsets> {
    const ends = await this.admin!.fetchTopicOffsets(TOPIC);
    const [committed] = await this.admin!.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return {
      end: ends.reduce((sum, p) => sum + Number(p.high), 0),
      committed: committed.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0),
    };
  }

  private progress({ end, committed }: Offsets, total: number): void {
    const percent = end === 0 ? 0 : Math.floor((committed / end) * 100);
    this.say(`produced ${pad(this.produced, 6)}/${total}   committed ${pad(committed, 6)}/${pad(end, 6)} end offsets (${pad(percent, 3)}%)   lag ${end - committed}`);
  }

  private async check(stream: OrderStream): Promise<boolean> {
    const store = new SqliteOrdersStore(this.dbPath, { recordDeliveries: true });
    await store.init();
    let actual: OrdersState;
    let deliveries;
    try {
      actual = await store.snapshot();
      deliveries = await store.deliveryStats();
    } finally {
      await store.close();
    }
    const expected = expectedState(stream.events);

    console.log('');
    console.log('customers_by_country (distinct customers with at least one order event in the country)');
    console.log('  country  customers  expected');
    const countries = [...new Set([...Object.keys(expected.customersByCountry), ...Object.keys(actual.customersByCountry)])].sort();
    for (const country of countries) {
      const a = actual.customersByCountry[country];
      const e = expected.customersByCountry[country];
      console.log(`  ${country.padEnd(7)}  ${pad(a ?? '-', 9)}  ${pad(e ?? '-', 8)}  ${a === e ? 'ok' : 'DIFFERENT'}`);
    }
    const byStatus = new Map<string, number>();
    for (const row of actual.orders) byStatus.set(row.status, (byStatus.get(row.status) ?? 0) + 1);
    console.log('');
    console.log(`orders: ${actual.orders.length} rows (expected ${expected.orders.length}); by status: ${[...byStatus].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    console.log(
      `deliveries: ${deliveries.records} records applied ${deliveries.deliveries} times ` +
        `(${deliveries.deliveries - deliveries.records} redelivered after the crash; a redelivery changes nothing)`,
    );
    console.log(`database: ${this.dbPath}`);

    const diffs = diffStates(actual, expected);
    console.log('');
    if (diffs.length === 0) {
      console.log(`CHECK PASSED: the database equals the state implied by the ${stream.events.length} events (${this.seconds()} s)`);
      return true;
    }
    console.log(`CHECK FAILED: the database differs from the state implied by the events:\n  ${diffs.join('\n  ')}`);
    return false;
  }

  private say(message: string): void {
    console.log(`[${this.seconds().padStart(5)} s] ${message}`);
  }

  private seconds(): string {
    return ((Date.now() - this.started) / 1000).toFixed(1);
  }
}

function parseOptions(argv: string[]): DemoOptions {
  const options: DemoOptions = { orders: 2000, customers: 200, countries: 10, partitions: 8, seed: 42, crash: true, commit: 'record', concurrency: 8, broker: 'kafka', engine: process.env.KAFKA_ENGINE ?? 'kafkajs' };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === '--no-crash') {
      options.crash = false;
      continue;
    }
    if (flag === '--broker' && ['kafka', 'mock'].includes(argv[i + 1])) {
      options.broker = argv[(i += 1)] as TestBrokerKind;
      continue;
    }
    if (flag === '--engine' && ['kafkajs', 'confluent'].includes(argv[i + 1])) {
      options.engine = argv[(i += 1)];
      continue;
    }
    if (flag === '--commit' && ['record', 'batch', 'auto', 'manual'].includes(argv[i + 1])) {
      options.commit = argv[(i += 1)];
      continue;
    }
    const name = flag.replace(/^--/, '') as keyof DemoOptions;
    const value = Number(argv[i + 1]);
    if (!['orders', 'customers', 'countries', 'partitions', 'seed', 'concurrency'].includes(name) || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`unknown option or bad value: ${flag} ${argv[i + 1] ?? ''}; options: --orders N --customers N --countries N --partitions N --seed N --concurrency N --commit record|batch|auto|manual --no-crash --broker kafka|mock --engine kafkajs|confluent`);
    }
    (options[name] as number) = value;
    i += 1;
  }
  return options;
}

function pad(value: number | string, width: number): string {
  return String(value).padStart(width);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<number> {
  const demo = new Demo(parseOptions(process.argv.slice(2)));
  const interrupted = () => {
    console.log('interrupted: stopping the app and the broker');
    void demo.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return (await demo.run()) ? 0 : 1;
  } catch (error) {
    console.error(`demo failed: ${(error as Error)?.stack ?? error}`);
    const log = demo.appLog();
    if (log) console.error(`last lines of the app's output:\n${log}`);
    return 1;
  } finally {
    await demo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
