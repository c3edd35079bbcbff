import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { Admin, ITopicConfig, Kafka, logLevel } from 'kafkajs';
import { javaLoggingArgs, KafkaTools } from './kafka-tools';
import { stopProcess } from './stop-process';
import { KAFKA_VERSIONS, kafkaClasspath, KafkaVersion, selectedKafkaVersion } from './kafka-versions';

export interface KafkaBrokerOptions {
  /** A pinned version or its line (`4.x`, `3.9`); default `KAFKA_VERSION` from the environment, else 4.x. */
  version?: string;
  /** One combined broker+controller, or three of them (replication 3, `min.insync.replicas` 2). */
  nodes?: 1 | 3;
  /** Topics created before `start` returns, name → partition count. */
  topics?: Record<string, number>;
  /** server.properties entries that replace the defaults below, e.g. `auto.create.topics.enable`. */
  properties?: Record<string, string | number | boolean>;
  /** Maximum heap per broker JVM in MiB (default 512). */
  heapMb?: number;
}

export interface TopicOptions {
  replicationFactor?: number;
  /** Explicit placement: partition → broker ids, the first one the preferred leader. */
  replicaAssignment?: Array<{ partition: number; replicas: number[] }>;
  config?: Record<string, string>;
}

interface KafkaNode {
  readonly id: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
  child?: ChildProcess;
  starts: number;
}

/** JVMs this test process started; a test process that dies must not leave brokers behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Settings sized for a 2-core machine and for tests: no initial rebalance delay, small internal topics. */
function serverProperties(node: KafkaNode, nodes: KafkaNode[], version: KafkaVersion, overrides: KafkaBrokerOptions['properties']): string {
  const replication = Math.min(3, nodes.length);
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(node.dir, 'data'),
    'num.partitions': 1,
    'default.replication.factor': replication,
    'min.insync.replicas': replication === 3 ? 2 : 1,
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': replication === 3 ? 3 : 1,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': replication === 3 ? 2 : 1,
    'transaction.state.log.num.partitions': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'num.replica.fetchers': 1,
    // Allocated on the heap at start: 128 MiB by default, Kafka's own tests use 2 MiB.
    'log.cleaner.dedupe.buffer.size': 2 * 1024 * 1024,
    'log.cleaner.threads': 1,
    // A controlled shutdown of a test cluster need not wait long for leadership moves.
    'controlled.shutdown.max.retries': 1,
  };
  if (KAFKA_VERSIONS[version].line === '4.x') {
    props['share.coordinator.state.topic.replication.factor'] = replication;
    props['share.coordinator.state.topic.min.isr'] = replication === 3 ? 2 : 1;
  }
  Object.assign(props, overrides ?? {});
  return `${Object.entries(props).map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

/**
 * Apache Kafka from Maven Central jars: a one-node KRaft cluster (broker and controller in one
 * JVM) or three nodes, on free loopback ports, a fresh data directory per start, ready when a
 * real client call answers, stopped by pid. `kill` and `restart` act on one node's process and
 * keep its data directory, as a crash and a restart do.
 */
export class KafkaBroker {
  readonly kind = 'kafka' as const;
  readonly tools: KafkaTools;
  private admin: Admin | undefined;
  private stopped = false;

  private constructor(
    readonly version: KafkaVersion,
    private readonly classpath: string,
    private readonly root: string,
    readonly nodes: KafkaNode[],
    private readonly options: KafkaBrokerOptions,
  ) {
    this.tools = new KafkaTools(version, classpath, () => this.bootstrapServers.join(','));
  }

  get bootstrapServers(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  /** pid of each node's JVM, by node id (-1 while a node is down). */
  get pids(): Record<number, number> {
    return Object.fromEntries(this.nodes.map((n) => [n.id, n.child?.pid ?? -1]));
  }

  static async start(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const version = selectedKafkaVersion(options.version);
    const classpath = kafkaClasspath(version);
    for (let attempt = 1; ; attempt++) {
      const root = mkdtempSync(join(tmpdir(), `kafka-${version}-`));
      const ports = await freePorts(2 * (options.nodes ?? 1));
      const nodes = Array.from({ length: options.nodes ?? 1 }, (_, i): KafkaNode => {
        const dir = join(root, `node-${i + 1}`);
        mkdirSync(dir);
        return { id: i + 1, port: ports[2 * i], controllerPort: ports[2 * i + 1], dir, starts: 0 };
      });
      const broker = new KafkaBroker(version, classpath, root, nodes, options);
      try {
        for (const node of nodes) writeFileSync(join(node.dir, 'server.properties'), serverProperties(node, nodes, version, options.properties));
        await broker.formatStorage();
        await Promise.all(nodes.map((node) => broker.launch(node)));
        await broker.waitUntilServing(nodes.length, 60_000);
        for (const [name, partitions] of Object.entries(options.topics ?? {})) await broker.createTopic(name, partitions);
        return broker;
      } catch (error) {
        await broker.stop();
        // Another process may take a port between the probe and the bind: try again with new ones.
        if (attempt < 3 && /bind|Address already in use/i.test((error as Error).message)) continue;
        throw error;
      }
    }
  }

  async createTopic(name: string, partitions: number, options: TopicOptions = {}): Promise<void> {
    const topic: ITopicConfig = { topic: name };
    if (options.replicaAssignment) topic.replicaAssignment = options.replicaAssignment;
    else {
      topic.numPartitions = partitions;
      topic.replicationFactor = options.replicationFactor ?? Math.min(3, this.nodes.length);
    }
    if (options.config) topic.configEntries = Object.entries(options.config).map(([name, value]) => ({ name, value }));
    // kafkajs's own wait for leaders gives up on the UNKNOWN_TOPIC_OR_PARTITION a just-created
    // topic can still answer with; poll the metadata here instead.
    await this.withAdmin((admin) => admin.createTopics({ topics: [topic], waitForLeaders: false, timeout: 30_000 }));
    await this.waitForServingLeaders(name, partitions);
  }

  /** Grows a topic to `count` partitions (CreatePartitions). */
  async createPartitions(topic: string, count: number): Promise<void> {
    await this.withAdmin((admin) => admin.createPartitions({ topicPartitions: [{ topic, count }], timeout: 30_000 }));
    await this.waitForServingLeaders(topic, count);
  }

  /** Sends `signal` to one node's JVM (default: SIGKILL, i.e. kill -9) and waits until it is gone. */
  async kill(nodeId = 1, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(nodeId);
    if (!node.child) return;
    await stopProcess(node.child, 15_000, signal);
    node.child = undefined;
    this.resetAdmin();
  }

  /** Starts a node that was killed again, on the same ports and data directory (log recovery included). */
  async restart(nodeId = 1): Promise<void> {
    const node = this.node(nodeId);
    if (node.child) throw new Error(`Kafka node ${nodeId} is still running (pid ${node.child.pid}); kill it first`);
    await this.launch(node);
    await this.waitUntilServing(this.nodes.length, 90_000);
  }

  /** The node that leads a partition now. */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const metadata = await this.withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
    const found = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition);
    if (!found) throw new Error(`no partition ${topic}-${partition}`);
    return found.leader;
  }

  /** Stops every node by pid: SIGTERM (a controlled shutdown), SIGKILL after 15 s; removes the data. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
    await Promise.all(this.nodes.map((node) => this.terminate(node)));
    if (!process.env.KEEP_KAFKA_DATA) rmSync(this.root, { recursive: true, force: true });
  }

  /** The tail of a node's log, for failure messages. */
  logTail(nodeId = 1, chars = 4_000): string {
    const node = this.node(nodeId);
    const file = join(node.dir, `server-${node.starts}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '';
  }

  private node(id: number): KafkaNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no Kafka node ${id} (nodes: ${this.nodes.map((n) => n.id).join(', ')})`);
    return node;
  }

  /**
   * `kafka.tools.StorageTool format` takes a JVM start (~2 s) per node, so each cluster size is
   * formatted once per version (one cluster id for all its nodes) into a template that later
   * starts copy; its files name no port.
   */
  private async formatStorage(): Promise<void> {
    const templates = join(tmpdir(), 'nestjs-kafka-consumer-templates', this.version);
    const template = join(templates, `${this.nodes.length}-node`);
    if (!existsSync(join(template, 'ready'))) {
      const work = join(templates, `.work-${process.pid}-${randomBytes(4).toString('hex')}`);
      mkdirSync(work, { recursive: true });
      const id = clusterId();
      for (const node of this.nodes) {
        const config = join(work, `node-${node.id}.properties`);
        const data = join(work, `node-${node.id}`);
        writeFileSync(config, readFileSync(join(node.dir, 'server.properties'), 'utf8').replace(/^log\.dirs=.*$/m, `log.dirs=${data}`));
        const { code, stderr, stdout } = await this.tools.java('kafka.tools.StorageTool', ['format', '-t', id, '-c', config], 60_000);
        if (code !== 0) throw new Error(`kafka.tools.StorageTool format failed (exit ${code}): ${stderr || stdout}`);
        rmSync(config);
      }
      writeFileSync(join(work, 'ready'), id);
      try {
        renameSync(work, template);
      } catch (error) {
        rmSync(work, { recursive: true, force: true });
        if (!existsSync(join(template, 'ready'))) throw error; // else another process made it first
      }
    }
    for (const node of this.nodes) cpSync(join(template, `node-${node.id}`), join(node.dir, 'data'), { recursive: true });
  }

  private launch(node: KafkaNode): Promise<void> {
    node.starts += 1;
    const logFile = join(node.dir, `server-${node.starts}.log`);
    const out = openSync(logFile, 'a');
    const heap = this.options.heapMb ?? 512;
    const child = spawn(
      'java',
      [
        `-Xms${Math.min(256, heap)}m`,
        `-Xmx${heap}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        // Marks the JVM as a test broker of this checkout, so a clean-up can find strays.
        `-Dnestjs.kafka.consumer.test.broker=${process.pid}`,
        ...javaLoggingArgs(this.version),
        '-cp',
        this.classpath,
        'kafka.Kafka',
        join(node.dir, 'server.properties'),
      ],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    live.add(child);
    node.child = child;
    child.once('exit', () => {
      live.delete(child);
      if (node.child === child) node.child = undefined;
    });
    return new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 60_000;
      const poll = () => {
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        if (/Kafka Server started/.test(log)) return resolve();
        if (child.exitCode !== null || child.signalCode !== null) {
          return reject(new Error(`Kafka ${this.version} node ${node.id} exited (${child.exitCode ?? child.signalCode}) before it started: ${log.slice(-3_000)}`));
        }
        if (Date.now() > deadline) return reject(new Error(`Kafka ${this.version} node ${node.id} did not start within 60 s: ${log.slice(-3_000)}`));
        setTimeout(poll, 100);
      };
      child.once('error', (error) => reject(new Error(`cannot run java for Kafka: ${error.message}`)));
      poll();
    });
  }

  /** Ready means a real client call answers: every node is in the cluster and the group coordinator serves. */
  private async waitUntilServing(brokers: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const cluster = await this.withAdmin((admin) => admin.describeCluster());
        if (cluster.brokers.length === brokers) {
          // The first FindCoordinator creates __consumer_offsets: do it here, not in a test.
          await this.withAdmin((admin) => admin.fetchOffsets({ groupId: '__test-broker-ready', topics: [] }));
          return;
        }
        last = new Error(`${cluster.brokers.length} of ${brokers} brokers registered`);
      } catch (error) {
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`Kafka ${this.version} did not serve clients within ${timeoutMs} ms: ${(last as Error)?.message}; log: ${this.logTail()}`);
  }

  private async waitForServingLeaders(topic: string, partitions: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const metadata = await this.withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] })).catch(() => undefined);
      const led = metadata?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      // Named in the metadata is not yet served: a produce to a partition whose leader has not
      // loaded it fails, and kafkajs's producer then re-sends the whole request (duplicates).
      // Ready when every leader answers ListOffsets for its partitions.
      if (led >= partitions) {
        const offsets = await this.withAdmin((admin) => admin.fetchTopicOffsets(topic)).catch(() => []);
        if (offsets.length >= partitions) return;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic}: ${led} of ${partitions} partitions have a serving leader after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    if (!this.admin) {
      const kafka = new Kafka({ brokers: this.bootstrapServers, clientId: 'test-broker', logLevel: logLevel.NOTHING, retry: { retries: 3 } });
      this.admin = kafka.admin();
      await this.admin.connect().catch((error) => {
        this.resetAdmin();
        throw error;
      });
    }
    return work(this.admin);
  }

  private resetAdmin(): void {
    void this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  private async terminate(node: KafkaNode): Promise<void> {
    if (node.child) await stopProcess(node.child, 15_000);
  }
}

/** A KRaft cluster id: 16 random bytes, unpadded base64url, not starting with '-' (Kafka's Uuid rule). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Ports the OS hands out as free now; the broker binds them a moment later. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
