import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import { createInterface } from 'readline';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { describeOnKafka } from './support/on-kafka';

/** A real application process; SIGTERM must stop fetching, drain, commit and exit. */
describeOnKafka("Kafka's own tool reads the committed offsets")('shutdown on SIGTERM (real process)', () => {
  let kit: KafkaTestKit;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    await kit?.close();
  });

  it('commits exactly the records it processed and exits', async () => {
    kit = await KafkaTestKit.start({ topics: { jobs: 3 } });
    await kit.produce('jobs', numbered(600));
    child = spawn(process.execPath, [join(__dirname, 'fixtures', 'sigterm-app.js'), kit.brokers.join(','), 'jobs', 'jobs-app', '5'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const processed: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('processed ')) processed.push(line.slice('processed '.length));
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );

    await waitFor(() => processed.length >= 150, 60_000, '150 records processed');
    process.kill(child.pid!, 'SIGTERM');
    const exit = await exited;
    // The module stops the consumers, then lets SIGTERM end the process as usual.
    expect(exit.signal).toBe('SIGTERM');

    const next: Record<number, number> = {};
    for (const entry of processed) {
      const [partition, offset] = entry.split('/').map(Number);
      next[partition] = Math.max(next[partition] ?? 0, offset + 1);
    }
    expect(processed.length).toBeLessThan(600);
    const committed = await kit.committed('jobs-app', 'jobs');
    for (const partition of [0, 1, 2]) expect(committed[partition]).toBe(next[partition] ?? -1);
    // Kafka's own consumer-groups tool, an independent reader: the same offsets, and no member
    // left behind (the process sent LeaveGroup instead of waiting out its session).
    const viaTool = await kit.kafkaBroker.tools.committed('jobs-app', 'jobs');
    for (const partition of [0, 1, 2]) expect(viaTool[partition] ?? -1).toBe(committed[partition]);
    expect(await kit.kafkaBroker.tools.groupMembers('jobs-app')).toEqual([]);
  });
});
