import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { describeOnKafka } from './support/on-kafka';

/** kill -9 of a real process running the worker pool, then a restart. */
describeOnKafka("Kafka's own tool reads the committed offsets after kill -9")('crash mid-stream with the worker pool (real process, kill -9)', () => {
  let kit: KafkaTestKit;
  const children: ChildProcess[] = [];
  let dir: string;

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }
    await kit?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(log: string): ChildProcess {
    const child = spawn(
      process.execPath,
      [join(__dirname, 'fixtures', 'sigterm-app.js'), kit.brokers.join(','), 'orders', 'orders-app', '20', '16', 'key', log],
      // Auto commit once a second leaves a window of finished, uncommitted records to redeliver.
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, COMMIT_INTERVAL_MS: '1000' } },
    );
    children.push(child);
    return child;
  }

  const lines = (file: string) => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };

  it('after a restart every record is processed; only records not yet committed are processed again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crash-'));
    kit = await KafkaTestKit.start({ topics: { orders: 4 } });
    const total = 3_000;
    await kit.produce('orders', numbered(total));
    const first = join(dir, 'first.log');
    const second = join(dir, 'second.log');

    const victim = start(first);
    // Mid-stream, with some commits made (auto, every second) and work finished since the last.
    const committedTotal = async () => Object.values(await kit.committed('orders-app', 'orders')).reduce((a, b) => a + Math.max(0, b), 0);
    await waitFor(async () => lines(first).length >= 1_500 && (await committedTotal()) > 0, 60_000, '1,500 records processed and some committed');
    const killed = new Promise((resolve) => victim.once('exit', resolve));
    process.kill(victim.pid!, 'SIGKILL');
    await killed;
    const committedAtKill = await kit.committed('orders-app', 'orders');
    // Kafka's own consumer-groups tool reads the same committed offsets.
    const viaTool = await kit.kafkaBroker.tools.committed('orders-app', 'orders');
    for (const partition of [0, 1, 2, 3]) expect(viaTool[partition] ?? -1).toBe(committedAtKill[partition]);
    const processedBefore = new Set(lines(first));
    expect(processedBefore.size).toBeLessThan(total);

    start(second);
    await waitFor(() => new Set([...lines(first), ...lines(second)]).size === total, 60_000, 'every record processed');
    const redelivered = lines(second).filter((entry) => processedBefore.has(entry));
    for (const entry of redelivered) {
      const [partition, offset] = entry.split('/').map(Number);
      // Processed again only if the crash came before its offset was committed.
      expect(offset).toBeGreaterThanOrEqual(committedAtKill[partition]);
    }
    expect(redelivered.length).toBeGreaterThan(0);
    expect(redelivered.length).toBeLessThan(processedBefore.size);
    console.log(`kill -9 after ${processedBefore.size} records: ${redelivered.length} redelivered, all at or past the committed offsets ${JSON.stringify(committedAtKill)}`);
    await waitFor(async () => Object.values(await kit.committed('orders-app', 'orders')).reduce((a, b) => a + b, 0) === total, 10_000, 'all committed');
  });
});
