import { ChildProcess, execFile, spawn } from 'child_process';
import { createInterface } from 'readline';
import { join } from 'path';
import { KAFKA_VERSIONS, KafkaVersion, kafkaToolsDir } from './kafka-versions';
import { stopProcess } from './stop-process';

export interface JavaRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One row of `kafka-consumer-groups --describe`: a partition's committed offset and owner. */
export interface GroupOffsetRow {
  topic: string;
  partition: number;
  /** null where the group has committed nothing. */
  currentOffset: number | null;
  logEndOffset: number;
  lag: number | null;
  /** null where no member owns the partition now. */
  consumerId: string | null;
}

/** One row of `kafka-consumer-groups --describe --members`. */
export interface GroupMemberRow {
  consumerId: string;
  groupInstanceId: string | null;
  clientId: string;
  partitions: number;
}

/** JVM arguments that point Kafka's logging at the project's config (stderr, warnings and the start-up line). */
export function javaLoggingArgs(version: KafkaVersion): string[] {
  const dir = kafkaToolsDir();
  return KAFKA_VERSIONS[version].logging === 'log4j2'
    ? [`-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`]
    : [`-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`];
}

/**
 * Kafka's own command-line tools on the broker's classpath: independent peers that read what
 * the module did (committed offsets, members) through Kafka's Java client, not through kafkajs.
 * Each call is a fresh JVM (a second or two), so tests call them a few times, not in loops.
 */
export class KafkaTools {
  constructor(
    readonly version: KafkaVersion,
    private readonly classpath: string,
    private readonly bootstrap: () => string,
  ) {}

  /** Runs a main class on Kafka's classpath to its end, with a small, quick-starting JVM. */
  java(mainClass: string, args: string[], timeoutMs = 60_000): Promise<JavaRun> {
    return new Promise((resolve) => {
      execFile('java', ['-XX:TieredStopAtLevel=1', ...this.jvmArgs(mainClass), ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Committed offsets and owners of a group's partitions, as Kafka's consumer-groups tool reports them. */
  async groupOffsets(groupId: string): Promise<GroupOffsetRow[]> {
    const rows = await this.consumerGroups(['--describe', '--group', groupId, '--offsets']);
    return rows
      .filter((row) => row.TOPIC !== undefined && row.PARTITION !== undefined)
      .map((row) => ({
        topic: row.TOPIC,
        partition: Number(row.PARTITION),
        currentOffset: numberOrNull(row['CURRENT-OFFSET']),
        logEndOffset: Number(row['LOG-END-OFFSET']),
        lag: numberOrNull(row.LAG),
        consumerId: row['CONSUMER-ID'] === '-' || row['CONSUMER-ID'] === undefined ? null : row['CONSUMER-ID'],
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** The group's current members (empty when none). */
  async groupMembers(groupId: string): Promise<GroupMemberRow[]> {
    const rows = await this.consumerGroups(['--describe', '--group', groupId, '--members']);
    return rows
      .filter((row) => row['CONSUMER-ID'] !== undefined)
      .map((row) => ({
        consumerId: row['CONSUMER-ID'],
        groupInstanceId: row['GROUP-INSTANCE-ID'] === undefined || row['GROUP-INSTANCE-ID'] === '-' ? null : row['GROUP-INSTANCE-ID'],
        clientId: row['CLIENT-ID'],
        partitions: Number(row['#PARTITIONS']),
      }));
  }

  /**
   * Kafka's own VerifiableProducer (acks=all): values "0", "1", … at `throughput` records per
   * second; `acknowledged` holds the values the Java client reported sent, which is what Kafka
   * promises to keep. Stop it with `stop()` (SIGTERM; it flushes and exits).
   */
  verifiableProducer(topic: string, options: { throughput: number; maxMessages?: number; repeatingKeys?: number }): VerifiableProducer {
    const args = ['--bootstrap-server', this.bootstrap(), '--topic', topic, '--acks', '-1', '--throughput', String(options.throughput)];
    // Keyed records spread over the partitions; without keys the sticky partitioner fills one at a time.
    if (options.repeatingKeys !== undefined) args.push('--repeating-keys', String(options.repeatingKeys));
    if (options.maxMessages !== undefined) args.push('--max-messages', String(options.maxMessages));
    return new VerifiableProducer(this.spawnTool('org.apache.kafka.tools.VerifiableProducer', args));
  }

  /**
   * Kafka's own VerifiableConsumer (the Java consumer, classic group protocol) in `groupId`:
   * every record it read (`--verbose`), what it owns now, and its events. Stop it with `stop()`.
   */
  verifiableConsumer(topic: string, groupId: string, options: { assignmentStrategy: string; resetPolicy?: 'earliest' | 'latest' }): VerifiableConsumer {
    const args = [
      '--bootstrap-server', this.bootstrap(), '--topic', topic, '--group-id', groupId,
      '--assignment-strategy', options.assignmentStrategy, '--reset-policy', options.resetPolicy ?? 'earliest', '--verbose',
    ];
    return new VerifiableConsumer(this.spawnTool('org.apache.kafka.tools.VerifiableConsumer', args));
  }

  /** Committed offset per partition of one topic, from the tool (-1 where none), like the kit's admin view. */
  async committed(groupId: string, topic: string): Promise<Record<number, number>> {
    const rows = (await this.groupOffsets(groupId)).filter((row) => row.topic === topic);
    return Object.fromEntries(rows.map((row) => [row.partition, row.currentOffset ?? -1]));
  }

  /** A long-running tool (a producer or consumer) with its output piped back. */
  private spawnTool(mainClass: string, args: string[]): ChildProcess {
    return spawn('java', [...this.jvmArgs(mainClass), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  private jvmArgs(mainClass: string): string[] {
    return ['-Xmx256m', '-XX:+UseSerialGC', ...javaLoggingArgs(this.version), '-cp', this.classpath, mainClass];
  }

  private async consumerGroups(args: string[]): Promise<Array<Record<string, string>>> {
    const main = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand';
    const run = await this.java(main, ['--bootstrap-server', this.bootstrap(), ...args]);
    if (run.code !== 0) throw new Error(`${main} ${args.join(' ')} failed (exit ${run.code}): ${run.stderr || run.stdout}`);
    return parseTable(run.stdout);
  }
}

export class VerifiableProducer {
  readonly acknowledged = new Set<string>();
  /** Values the client reported as failed (not owed by the broker). */
  readonly failed: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as { name?: string; value?: string };
      if (event.name === 'producer_send_success' && event.value !== undefined) this.acknowledged.add(event.value);
      else if (event.name === 'producer_send_error' && event.value !== undefined) this.failed.push(event.value);
    });
    child.stderr!.resume();
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** SIGTERM (it flushes and exits), SIGKILL after 10 s. */
  stop(): Promise<void> {
    return stopProcess(this.child, 10_000);
  }
}

export class VerifiableConsumer {
  /** `partition/offset` of every record it consumed. */
  readonly records: string[] = [];
  /** The tail of its stderr (logs, a failure's stack). */
  stderr = '';
  /** Every assignment change, e.g. `assigned 0,1`. */
  readonly events: string[] = [];
  private readonly owned = new Set<number>();
  readonly exited: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as { name?: string; partition?: number; offset?: number; partitions?: Array<{ partition: number }> };
      if (event.name === 'record_data') this.records.push(`${event.partition}/${event.offset}`);
      else if (event.name === 'partitions_assigned' || event.name === 'partitions_revoked') {
        const partitions = (event.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
        const assigned = event.name === 'partitions_assigned';
        for (const partition of partitions) (assigned ? this.owned.add(partition) : this.owned.delete(partition));
        this.events.push(`${assigned ? 'assigned' : 'revoked'} ${partitions.join(',')}`);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Partitions it owns now. */
  assignment(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  /** SIGTERM (it commits and leaves the group), SIGKILL after 15 s. */
  stop(): Promise<void> {
    return stopProcess(this.child, 15_000);
  }
}

/** The tool prints whitespace-aligned tables, one header line per table; values hold no spaces. */
export function parseTable(text: string): Array<Record<string, string>> {
  const rows: Array<Record<string, string>> = [];
  let header: string[] | undefined;
  for (const line of text.split('\n')) {
    const cells = line.trim().split(/\s+/).filter(Boolean);
    if (cells.length === 0) {
      header = undefined;
      continue;
    }
    if (cells[0] === 'GROUP') {
      header = cells;
      continue;
    }
    if (!header || cells.length !== header.length) continue;
    rows.push(Object.fromEntries(header.map((name, i) => [name, cells[i]])));
  }
  return rows;
}

function numberOrNull(value: string | undefined): number | null {
  return value === undefined || value === '-' ? null : Number(value);
}
