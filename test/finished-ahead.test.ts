import { Kafka, logLevel } from 'kafkajs';
import { decodeFinishedAhead } from '../libs/kafka-consumer/src/offsets/finished-ahead-codec';
import { FixtureApp } from './support/fixture-app';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { describeOnKafka, itOnEngine } from './support/on-kafka';

const TOTAL = 400;
const HELD = 5;

/**
 * commitMetadata: 'finished-ahead' on Apache Kafka with real processes: a pool of 64 where one
 * record never ends while the others finish, kill -9, a restart; and a group whose committed
 * metadata another client wrote.
 */
describeOnKafka('kill -9 of a real process and commit metadata as Kafka stores it')('finished-ahead offsets in commit metadata', () => {
  let kit: KafkaTestKit;
  const apps: FixtureApp[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.kill();
    await kit?.close();
  });

  /** The committed offset and metadata of partition 0, as the admin client reads them. */
  async function committedWithMetadata(groupId: string): Promise<{ offset: string; metadata: string | null }> {
    const admin = new Kafka({ brokers: kit.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: ['ahead'] });
      return { offset: partitions[0].offset, metadata: partitions[0].metadata };
    } finally {
      await admin.disconnect();
    }
  }

  /** Runs a pool of 64 until all but the held record finished and the commit says what it should; kill -9; restarts; what the second process ran. */
  async function crashAndRestart(groupId: string, commitMetadata: 'none' | 'finished-ahead'): Promise<string[]> {
    const env = { COMMIT_METADATA: commitMetadata };
    const first = FixtureApp.start({ brokers: kit.brokers, topic: 'ahead', groupId, concurrency: 64, ordering: 'unordered', env: { ...env, HOLD: `0/${HELD}` } });
    apps.push(first);
    await waitFor(() => first.processed.length === TOTAL - 1, 60_000, `${groupId}: all records but the held one processed`);
    await waitFor(
      async () => {
        const { offset, metadata } = await committedWithMetadata(groupId);
        if (offset !== String(HELD)) return false;
        if (commitMetadata === 'none') return true;
        const decoded = decodeFinishedAhead(metadata, BigInt(HELD));
        return decoded.kind === 'map' && decoded.finished.reduce((n, [from, to]) => n + Number(to - from), 0) === TOTAL - 1 - HELD;
      },
      30_000,
      `${groupId}: the commit at the held offset${commitMetadata === 'none' ? '' : ' with every finished-ahead offset in its metadata'}`,
    );
    await first.kill();
    const second = FixtureApp.start({ brokers: kit.brokers, topic: 'ahead', groupId, concurrency: 64, ordering: 'unordered', env });
    apps.push(second);
    await waitFor(async () => (await kit.committed(groupId, 'ahead'))[0] === TOTAL, 60_000, `${groupId}: everything committed after the restart`);
    await second.stop();
    return second.processed;
  }

  it('after kill -9, only the unfinished record is processed again; without it, everything after the watermark', async () => {
    kit = await KafkaTestKit.start({ topics: { ahead: 1 } });
    await kit.produce('ahead', numbered(TOTAL).map((m) => ({ ...m, partition: 0 })));

    const plain = await crashAndRestart('ahead-plain', 'none');
    const withMap = await crashAndRestart('ahead-map', 'finished-ahead');

    // Watermark only: the held record and every record finished after it run again.
    expect(plain.length).toBe(TOTAL - HELD);
    expect(new Set(plain)).toEqual(new Set(Array.from({ length: TOTAL - HELD }, (_, i) => `0/${HELD + i}`)));
    // With the map: exactly the unfinished one.
    expect(withMap).toEqual([`0/${HELD}`]);
    console.log(`after kill -9: ${plain.length} records processed again with the watermark alone, ${withMap.length} with finished-ahead metadata`);
  });

  it('a group whose committed metadata another client wrote starts at its committed offset, processing everything from there', async () => {
    kit = await KafkaTestKit.start({ topics: { ahead: 1 } });
    await kit.produce('ahead', numbered(10).map((m) => ({ ...m, partition: 0 })));
    // Another client commits offset 3 with metadata of its own.
    const kafka = new Kafka({ brokers: kit.brokers, logLevel: logLevel.NOTHING });
    const other = kafka.consumer({ groupId: 'foreign', sessionTimeout: 6_000, heartbeatInterval: 500 });
    await other.connect();
    await other.subscribe({ topics: ['ahead'], fromBeginning: true });
    let committed = false;
    await other.run({
      autoCommit: false,
      eachBatch: async ({ commitOffsetsIfNecessary }) => {
        if (committed) return;
        await commitOffsetsIfNecessary({ topics: [{ topic: 'ahead', partitions: [{ partition: 0, offset: '3', metadata: '{"writer":"another-app"}' } as never] }] });
        committed = true;
      },
    });
    await waitFor(() => committed, 30_000, 'the other client committed');
    await other.disconnect();
    expect(await committedWithMetadata('foreign')).toEqual({ offset: '3', metadata: '{"writer":"another-app"}' });

    const app = FixtureApp.start({ brokers: kit.brokers, topic: 'ahead', groupId: 'foreign', concurrency: 8, ordering: 'unordered', env: { COMMIT_METADATA: 'finished-ahead' } });
    apps.push(app);
    await waitFor(async () => (await kit.committed('foreign', 'ahead'))[0] === 10, 30_000, 'the group read to the end');
    expect(app.processed.sort()).toEqual(['0/3', '0/4', '0/5', '0/6', '0/7', '0/8', '0/9']);
    // A clean stop: the module stops the consumers, then lets SIGTERM end the process as usual.
    expect((await app.stop()).signal).toBe('SIGTERM');
  });

  itOnEngine('kafkajs', "the confluent engine's admin cannot read broker configs: it assumes Kafka's default 4096")('near a small offset.metadata.max.bytes the partition stops taking records before its map would not fit; nothing is dropped', async () => {
    const LIMIT = 128;
    kit = await KafkaTestKit.start({ topics: { ahead: 1 }, kafka: { properties: { 'offset.metadata.max.bytes': String(LIMIT) } } });
    const total = 2_000;
    await kit.produce('ahead', numbered(total).map((m) => ({ ...m, partition: 0 })));
    // Every 20th record (offset % 20 == 5) never ends: each leaves a hole above the committed offset.
    const env = { COMMIT_METADATA: 'finished-ahead', HOLD_EVERY: '20', MAX_QUEUED: '100' };
    const app = FixtureApp.start({ brokers: kit.brokers, topic: 'ahead', groupId: 'small', concurrency: 64, ordering: 'unordered', env });
    apps.push(app);
    // Progress stops: held records, and the partition paused once the map passed 3/4 of the limit.
    let last = -1;
    await waitFor(
      async () => {
        const settled = app.processed.length > 0 && app.processed.length === last;
        last = app.processed.length;
        if (settled) await new Promise((resolve) => setTimeout(resolve, 1_500));
        return settled && app.processed.length === last;
      },
      60_000,
      'processing to stop',
    );
    const processed = app.processed.length;
    // Without the pause it would go on until 63 of the 64 workers hold a record (offset ~1,265): well past this.
    expect(processed).toBeLessThan(1_000);
    // The last commit carries the whole map within the limit: every finished record above the committed offset, none left out.
    await waitFor(
      async () => {
        const { offset, metadata } = await committedWithMetadata('small');
        const decoded = decodeFinishedAhead(metadata, BigInt(offset));
        const above = app.processed.filter((entry) => Number(entry.split('/')[1]) >= Number(offset)).length;
        return offset === '5' && decoded.kind === 'map' && decoded.finished.reduce((n, [from, to]) => n + Number(to - from), 0) === above;
      },
      10_000,
      'a commit whose map names every finished record above the committed offset',
    );
    const { metadata } = await committedWithMetadata('small');
    expect(metadata!.length).toBeLessThanOrEqual(LIMIT);
    console.log(`offset.metadata.max.bytes ${LIMIT}: processing paused after ${processed} of ${total} records; the committed map takes ${metadata!.length} bytes`);
  });
});
