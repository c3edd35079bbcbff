import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { join } from 'path';
import { createInterface, Interface } from 'readline';

/** Kafka protocol API keys the tests inject faults into. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
} as const;

/** Kafka protocol error codes used by the tests. */
export const KafkaErrorCode = {
  REQUEST_TIMED_OUT: 7,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  FENCED_INSTANCE_ID: 82,
} as const;

export interface MockBrokerOptions {
  /** Number of mock brokers (default 3). */
  brokers?: number;
  /** Topics to create before the cluster is announced, name → partition count. */
  topics?: Record<string, number>;
  /** Path of the built binary (default: tools/mock-broker/build/mock-broker). */
  binary?: string;
}

const DEFAULT_BINARY = join(__dirname, 'build', 'mock-broker');
const live = new Set<ChildProcessWithoutNullStreams>();

// A test process that dies must not leave brokers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The librdkafka mock cluster run as a child process (see mock-broker.c): a real
 * Kafka wire-protocol endpoint with group coordination and fault injection.
 */
export class MockBroker {
  readonly kind = 'mock' as const;
  private readonly replies: Array<(line: string) => void> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: Interface,
    readonly bootstrapServers: string[],
  ) {
    lines.on('line', (line) => this.replies.shift()?.(line));
    child.once('exit', () => {
      this.exited = true;
      live.delete(child);
      for (const reply of this.replies.splice(0)) reply('ERR broker exited');
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(options: MockBrokerOptions = {}): Promise<MockBroker> {
    const args = ['--brokers', String(options.brokers ?? 3)];
    for (const [name, partitions] of Object.entries(options.topics ?? {})) {
      args.push('--topic', `${name}:${partitions}`);
    }
    const child = spawn(options.binary ?? DEFAULT_BINARY, args, { stdio: 'pipe' });
    live.add(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout });
    const bootstrap = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`test broker did not start within 10 s: ${stderr}`)), 10_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run the test broker (${error.message}); run "npm run build:broker" first`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`test broker exited with code ${code}: ${stderr}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        if (line.startsWith('BOOTSTRAP ')) resolve(line.slice('BOOTSTRAP '.length));
        else reject(new Error(`unexpected first line from the test broker: ${line}`));
      });
    }).catch((error) => {
      child.kill('SIGKILL');
      live.delete(child);
      throw error;
    });
    child.removeAllListeners('exit');
    return new MockBroker(child, lines, bootstrap.split(','));
  }

  createTopic(name: string, partitions: number): Promise<void> {
    return this.command(`create-topic ${name} ${partitions}`).then(() => undefined);
  }

  /** Disconnects a broker (or all with -1) and refuses new connections. */
  brokerDown(brokerId: number): Promise<void> {
    return this.command(`broker-down ${brokerId}`).then(() => undefined);
  }

  brokerUp(brokerId: number): Promise<void> {
    return this.command(`broker-up ${brokerId}`).then(() => undefined);
  }

  /** Round-trip delay added to every response of a broker (or all with -1). */
  setRoundTripTime(brokerId: number, ms: number): Promise<void> {
    return this.command(`rtt ${brokerId} ${ms}`).then(() => undefined);
  }

  /** The next requests of `apiKey`, from any client, fail with these codes in order. */
  pushErrors(apiKey: number, errorCodes: number[]): Promise<void> {
    return this.command(`push-errors ${apiKey} ${errorCodes.join(' ')}`).then(() => undefined);
  }

  /** Per-broker error (or 0) and response delay for the next requests of `apiKey`. */
  pushBrokerErrors(brokerId: number, apiKey: number, entries: Array<{ error: number; rttMs: number }>): Promise<void> {
    const tuples = entries.map((e) => `${e.error}:${e.rttMs}`).join(' ');
    return this.command(`push-broker-errors ${brokerId} ${apiKey} ${tuples}`).then(() => undefined);
  }

  clearErrors(apiKey: number): Promise<void> {
    return this.command(`clear-errors ${apiKey}`).then(() => undefined);
  }

  /** Makes `brokerId` the partition's leader; -1 leaves the partition without a leader. */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    return this.command(`set-leader ${topic} ${partition} ${brokerId}`).then(() => undefined);
  }

  setCoordinator(kind: 'group' | 'transaction', key: string, brokerId: number): Promise<void> {
    return this.command(`coordinator ${kind} ${key} ${brokerId}`).then(() => undefined);
  }

  /** Stops the broker by pid: SIGTERM, then SIGKILL if it has not exited within 3 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
    this.lines.close();
  }

  /** Commands are answered one line each, in order, so they are sent one at a time. */
  private command(line: string): Promise<string> {
    const run = async (): Promise<string> => {
      if (this.exited) throw new Error(`test broker has exited; cannot run "${line}"`);
      const answer = new Promise<string>((resolve) => this.replies.push(resolve));
      this.child.stdin.write(`${line}\n`);
      const reply = await answer;
      if (!reply.startsWith('OK')) throw new Error(`test broker refused "${line}": ${reply}`);
      return reply;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
