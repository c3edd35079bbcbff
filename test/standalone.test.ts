import { Injectable } from '@nestjs/common';
import type { Message } from 'kafkajs';
import {
  KafkaConsumerFailure,
  KafkaConsumerModuleOptions,
  KafkaConsumerService,
  KafkaHandler,
  KafkaHandlerOptions,
  KafkaMessageContext,
  OnKafkaError,
  OnPartitionsAssigned,
  OnPartitionsLost,
  OnPartitionsRevoked,
  TopicPartition,
} from '../libs/kafka-consumer/src';
import { ApiKey, KafkaErrorCode } from '../tools/mock-broker/mock-broker';
import { KafkaTestKit, TEST_ENGINE, waitFor } from './support/kafka-test-kit';
import { itOnEngine, itOnKafka, itOnKafkaAndEngine } from './support/on-kafka';

interface ConsumerView {
  /** Every record handled, as `topic partition offset`. */
  records: string[];
  /** Every hook call, e.g. `assigned audit 0,audit 2`. */
  events: string[];
  failures: KafkaConsumerFailure[];
}

/** A provider with one handler on `topics` in `groupId` and the group's hooks, recording what they see. */
function consumer(topics: string | string[], groupId: string, delayMs = 0, handlerOptions: Partial<KafkaHandlerOptions> = {}) {
  const view: ConsumerView = { records: [], events: [], failures: [] };
  const list = (partitions: TopicPartition[]) => partitions.map((p) => `${p.topic} ${p.partition}`).join(',');
  @Injectable()
  class Recorder {
    @KafkaHandler(topics, { groupId, deserializer: 'string', name: `${groupId}.handle`, ...handlerOptions })
    async handle(_value: string, ctx: KafkaMessageContext) {
      await record(view, ctx, delayMs);
    }

    @OnPartitionsAssigned({ groupId })
    assigned(partitions: TopicPartition[]) {
      view.events.push(`assigned ${list(partitions)}`);
    }

    @OnPartitionsRevoked({ groupId })
    revoked(partitions: TopicPartition[]) {
      view.events.push(`revoked ${list(partitions)}`);
    }

    @OnPartitionsLost({ groupId })
    lost(partitions: TopicPartition[]) {
      view.events.push(`lost ${list(partitions)}`);
    }

    @OnKafkaError({ groupId })
    failed(failure: KafkaConsumerFailure) {
      view.failures.push(failure);
    }
  }
  return { view, provider: Recorder };
}

async function record(view: ConsumerView, ctx: KafkaMessageContext, delayMs: number): Promise<void> {
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  view.records.push(`${ctx.topic} ${ctx.partition} ${ctx.offset}`);
}

/** `count` records per partition, sent to the partitions explicitly. */
function perPartition(partitions: number[], count: number, from = 0): Message[] {
  return Array.from({ length: count }, (_, i) => partitions.map((partition) => ({ partition, value: `p${partition}-${from + i}` }))).flat();
}

/** The records a reader of `partitions` must see: every offset below each end offset. */
function expected(topic: string, partitions: number[], ends: Record<number, number>, from: Record<number, number> = {}): string[] {
  return partitions.flatMap((p) => Array.from({ length: ends[p] - (from[p] ?? 0) }, (_, i) => `${topic} ${p} ${(from[p] ?? 0) + i}`));
}

const sorted = (records: string[]) => [...records].sort();
const duplicates = (records: string[]) => records.filter((r, i) => records.indexOf(r) !== i);

describe('standalone consumer (test broker)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('reads exactly the partitions it was given and commits them under its groupId; a group in the same topic is unaffected', async () => {
    kit = await KafkaTestKit.start({ topics: { audit: 4 } });
    await kit.produce('audit', perPartition([0, 1, 2, 3], 50));
    const standalone = consumer('audit', 'audit-standalone');
    const member = consumer('audit', 'audit-members');
    const options: Partial<KafkaConsumerModuleOptions> = {
      groups: { 'audit-standalone': { standalone: { assign: [{ topic: 'audit', partitions: [0, 2] }] } } },
    };
    const app = await kit.startApp(options, [standalone.provider, member.provider]);
    const ends = await kit.endOffsets('audit');

    await waitFor(() => standalone.view.records.length >= 100 && member.view.records.length >= 200, 30_000, 'both groups read the backlog');
    await waitFor(async () => {
      const committed = await kit.committed('audit-standalone', 'audit');
      return committed[0] === ends[0] && committed[2] === ends[2];
    }, 10_000, 'the standalone offsets committed');
    await kit.produce('audit', perPartition([0, 1, 2, 3], 10, 50));
    const newEnds = await kit.endOffsets('audit');
    await waitFor(() => standalone.view.records.length >= 120 && member.view.records.length >= 240, 30_000, 'new records read');
    await waitFor(async () => {
      const committed = await kit.committed('audit-standalone', 'audit');
      return committed[0] === newEnds[0] && committed[2] === newEnds[2];
    }, 10_000, 'the new standalone offsets committed');

    // Every record of partitions 0 and 2, once; nothing of 1 and 3.
    expect(sorted(standalone.view.records)).toEqual(sorted(expected('audit', [0, 2], newEnds)));
    const committed = await kit.committed('audit-standalone', 'audit');
    expect(committed).toEqual({ 0: newEnds[0], 1: -1, 2: newEnds[2], 3: -1 });
    // No group membership: nothing but the initial assignment reaches the hooks.
    expect(standalone.view.events).toEqual(['assigned audit 0,audit 2']);
    const service = app.get(KafkaConsumerService);
    expect(service.membership('audit-standalone')).toEqual({ groupId: 'audit-standalone', memberId: '', generationId: -1, groupInstanceId: undefined, assignment: ['audit 0', 'audit 2'] });
    expect(service.assignments()['audit-standalone']).toEqual(['audit 0', 'audit 2']);

    // The group-managed consumer of the same topic got everything, in its own group.
    await waitFor(async () => {
      const c = await kit.committed('audit-members', 'audit');
      return [0, 1, 2, 3].every((p) => c[p] === newEnds[p]);
    }, 10_000, 'the group member committed');
    expect(sorted(member.view.records)).toEqual(sorted(expected('audit', [0, 1, 2, 3], newEnds)));
    expect(member.view.events).toEqual(['assigned audit 0,audit 1,audit 2,audit 3']);
    expect(service.membership('audit-members').generationId).toBeGreaterThan(0);
    expect([...standalone.view.failures, ...member.view.failures]).toEqual([]);
  });

  it('a restarted standalone consumer resumes from its committed offsets: no record is processed twice', async () => {
    kit = await KafkaTestKit.start({ topics: { ledger: 4 } });
    // Small producer batches, so the first run makes progress on both partitions it reads.
    for (let i = 0; i < 100; i += 10) await kit.produce('ledger', perPartition([0, 1, 2, 3], 10, i));
    const ends = await kit.endOffsets('ledger');
    const options: Partial<KafkaConsumerModuleOptions> = {
      groups: { 'ledger-reader': { standalone: { assign: [{ topic: 'ledger', partitions: [0, 2] }] } } },
    };
    // Slow records, so the first run is stopped in the middle of the backlog.
    const first = consumer('ledger', 'ledger-reader', 5);
    const app = await kit.startApp(options, [first.provider]);
    await waitFor(() => first.view.records.length >= 40, 30_000, 'the first run under way');
    await app.close();
    const committed = await kit.committed('ledger-reader', 'ledger');
    const afterFirst = { 0: Math.max(committed[0], 0), 2: Math.max(committed[2], 0) }; // -1: none yet
    expect(first.view.records.length).toBeLessThan(200);
    // Shutdown commits every record processed, and only those.
    for (const p of [0, 2] as const) {
      expect(afterFirst[p]).toBe(first.view.records.filter((r) => r.startsWith(`ledger ${p} `)).length);
    }

    const second = consumer('ledger', 'ledger-reader');
    await kit.startApp(options, [second.provider]);
    await waitFor(() => first.view.records.length + second.view.records.length >= 200, 30_000, 'the second run finished the backlog');
    await waitFor(async () => {
      const committed = await kit.committed('ledger-reader', 'ledger');
      return committed[0] === ends[0] && committed[2] === ends[2];
    }, 10_000, 'the second run committed');

    expect(sorted(second.view.records)).toEqual(sorted(expected('ledger', [0, 2], ends, afterFirst)));
    const all = [...first.view.records, ...second.view.records];
    expect(duplicates(all)).toEqual([]);
    expect(sorted(all)).toEqual(sorted(expected('ledger', [0, 2], ends)));
    expect(second.view.events).toEqual(['assigned ledger 0,ledger 2']);
  });

  it('discovery: a topic read in full that is created later is read from its beginning, while the other topic goes on', async () => {
    kit = await KafkaTestKit.start({ topics: { 'feed-a': 2 } });
    const reader = consumer('feed-a', 'feed-reader', 2);
    @Injectable()
    class FeedB {
      // Would start at the end of a partition without a committed offset; a partition created
      // after the consumer started is read from its beginning all the same.
      @KafkaHandler('feed-b', { groupId: 'feed-reader', deserializer: 'string', fromBeginning: false })
      async handle(_value: string, ctx: KafkaMessageContext) {
        await record(reader.view, ctx, 2);
      }
    }
    // Discovery is asked for below (KafkaConsumerService.discoverPartitions), after records were
    // written to the new topic; the interval only lets the topic be missing at startup.
    const options: Partial<KafkaConsumerModuleOptions> = {
      groups: { 'feed-reader': { standalone: { partitionDiscoveryIntervalMs: 600_000 } } },
    };
    const app = await kit.startApp(options, [reader.provider, FeedB]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => reader.view.events.length === 1, 10_000, 'the initial assignment');
    expect(reader.view.events).toEqual(['assigned feed-a 0,feed-a 1']);
    await kit.produce('feed-a', perPartition([0, 1], 100));
    await waitFor(() => reader.view.records.length >= 20, 30_000, 'feed-a under way');

    await kit.createTopic('feed-b', 3);
    await Promise.all([kit.produce('feed-b', perPartition([0, 1, 2], 30)), kit.produce('feed-a', perPartition([0, 1], 50, 100))]);
    expect(await service.discoverPartitions('feed-reader')).toEqual(['feed-b 0', 'feed-b 1', 'feed-b 2']);
    expect(await service.discoverPartitions('feed-reader')).toEqual([]);
    const endsA = await kit.endOffsets('feed-a');
    const endsB = await kit.endOffsets('feed-b');
    await waitFor(() => reader.view.records.length >= 300 + 90, 30_000, 'both topics read');
    await waitFor(async () => {
      const a = await kit.committed('feed-reader', 'feed-a');
      const b = await kit.committed('feed-reader', 'feed-b');
      return a[0] === endsA[0] && a[1] === endsA[1] && [0, 1, 2].every((p) => b[p] === endsB[p]);
    }, 10_000, 'everything committed');

    expect(duplicates(reader.view.records)).toEqual([]);
    expect(sorted(reader.view.records)).toEqual(sorted([...expected('feed-a', [0, 1], endsA), ...expected('feed-b', [0, 1, 2], endsB)]));
    expect(reader.view.events).toEqual(['assigned feed-a 0,feed-a 1', 'assigned feed-b 0,feed-b 1,feed-b 2']);
    expect(service.assignments()['feed-reader']).toEqual(['feed-a 0', 'feed-a 1', 'feed-b 0', 'feed-b 1', 'feed-b 2']);
    expect(reader.view.failures).toEqual([]);
  });

  itOnKafka('CreatePartitions')('discovery: partitions added to the topic with CreatePartitions are read without a duplicate (worker pool)', async () => {
    kit = await KafkaTestKit.start({ topics: { grows: 2 } });
    // On a worker pool: partitions added while records of the others run on it.
    const reader = consumer('grows', 'grows-reader', 2, { concurrency: 4, ordering: 'unordered' });
    const options: Partial<KafkaConsumerModuleOptions> = {
      groups: { 'grows-reader': { standalone: { assign: [{ topic: 'grows' }], partitionDiscoveryIntervalMs: 300 } } },
    };
    await kit.startApp(options, [reader.provider]);
    await kit.produce('grows', perPartition([0, 1], 100));
    await waitFor(() => reader.view.records.length >= 20, 30_000, 'partitions 0 and 1 under way');
    expect(reader.view.events).toEqual(['assigned grows 0,grows 1']);

    await kit.createPartitions('grows', 4);
    await Promise.all([kit.produce('grows', perPartition([2, 3], 40)), kit.produce('grows', perPartition([0, 1], 20, 100))]);
    const ends = await kit.endOffsets('grows');
    await waitFor(() => reader.view.records.length >= 240 + 80, 30_000, 'all four partitions read');
    await waitFor(async () => {
      const committed = await kit.committed('grows-reader', 'grows');
      return [0, 1, 2, 3].every((p) => committed[p] === ends[p]);
    }, 10_000, 'everything committed');

    expect(duplicates(reader.view.records)).toEqual([]);
    expect(sorted(reader.view.records)).toEqual(sorted(expected('grows', [0, 1, 2, 3], ends)));
    expect(reader.view.events).toEqual(['assigned grows 0,grows 1', 'assigned grows 2,grows 3']);
  });

  itOnEngine('kafkajs', "the kafkajs engine's own coordinator lookup after NOT_COORDINATOR; librdkafka does its own")('commits refused by a moved coordinator are retried, and every offset arrives', async () => {
    // A standalone consumer has no heartbeat or rejoin to learn that its coordinator moved; a
    // commit answered NOT_COORDINATOR does: it looks the coordinator up again and retries. (The
    // mock stores offsets per partition and takes them at any broker, so the refusals are injected.)
    kit = await KafkaTestKit.start({ broker: 'mock', topics: { moving: 2 } });
    await kit.mock.setCoordinator('group', 'moving-reader', 1);
    const reader = consumer('moving', 'moving-reader', 2);
    await kit.startApp({ groups: { 'moving-reader': { standalone: {} } } }, [reader.provider]);
    for (let i = 0; i < 100; i += 10) await kit.produce('moving', perPartition([0, 1], 10, i));
    await waitFor(() => reader.view.records.length >= 40, 30_000, 'reading under way');

    await kit.mock.setCoordinator('group', 'moving-reader', 2);
    await kit.mock.pushErrors(ApiKey.OffsetCommit, [KafkaErrorCode.NOT_COORDINATOR, KafkaErrorCode.NOT_COORDINATOR]);
    for (let i = 100; i < 200; i += 10) await kit.produce('moving', perPartition([0, 1], 10, i));
    const ends = await kit.endOffsets('moving');
    await waitFor(() => reader.view.records.length >= 400, 30_000, 'everything read');
    await waitFor(async () => {
      const committed = await kit.committed('moving-reader', 'moving');
      return committed[0] === ends[0] && committed[1] === ends[1];
    }, 15_000, 'everything committed');

    expect(duplicates(reader.view.records)).toEqual([]);
    expect(sorted(reader.view.records)).toEqual(sorted(expected('moving', [0, 1], ends)));
    expect(reader.view.events).toEqual(['assigned moving 0,moving 1']);
    expect(reader.view.failures).toEqual([]);
  });

  it('commitOffsets: false reads the partitions and commits nothing', async () => {
    kit = await KafkaTestKit.start({ topics: { tail: 2 } });
    await kit.produce('tail', perPartition([0, 1], 30));
    const reader = consumer('tail', 'tail-reader');
    const options: Partial<KafkaConsumerModuleOptions> = { groups: { 'tail-reader': { standalone: { commitOffsets: false } } } };
    const app = await kit.startApp(options, [reader.provider]);
    await waitFor(() => reader.view.records.length >= 60, 30_000, 'both partitions read');
    await app.close();
    expect(sorted(reader.view.records)).toEqual(sorted(expected('tail', [0, 1], { 0: 30, 1: 30 })));
    expect(await kit.committed('tail-reader', 'tail')).toEqual({ 0: -1, 1: -1 });
  });

  itOnKafkaAndEngine('the mock refuses generation -1 commits for good once the group had members; Kafka accepts them once it is empty', 'kafkajs', "not reliable yet on the confluent engine: a refused commit sent while the fetch loop is held is judged by reading offsets back, and the group member commits the same offsets (2 of 3 runs missed the refusal)")('commits refused because group-managed consumers use the groupId are reported, and reading goes on', async () => {
    // Kafka accepts a commit with generation -1 only while the group has no members; with a live
    // member it answers UNKNOWN_MEMBER_ID. Once the members have left, it accepts again (the mock
    // kept refusing, so this last part was not shown before).
    kit = await KafkaTestKit.start({ topics: { shared: 2 } });
    await kit.produce('shared', perPartition([0, 1], 20));
    const member = consumer('shared', 'shared-group');
    const memberApp = await kit.startApp({}, [member.provider]);
    await waitFor(() => member.view.records.length >= 40, 30_000, 'the group member read the topic');

    await waitFor(async () => {
      const committed = await kit.committed('shared-group', 'shared');
      return committed[0] === 20 && committed[1] === 20;
    }, 10_000, 'the group member committed');

    const reader = consumer('shared', 'shared-group');
    await kit.startApp({ groups: { 'shared-group': { standalone: {} } } }, [reader.provider]);
    await waitFor(() => reader.view.events.length === 1, 10_000, 'the standalone reader started');
    await kit.produce('shared', perPartition([0, 1], 20, 20));
    // It starts at the group's committed offsets, reads the new records and cannot commit them.
    await waitFor(() => reader.view.records.length >= 40 && reader.view.failures.length > 0, 30_000, 'the standalone reader read and failed to commit');
    expect(sorted(reader.view.records)).toEqual(sorted(expected('shared', [0, 1], { 0: 40, 1: 40 }, { 0: 20, 1: 20 })));
    const failure = reader.view.failures[0];
    expect(failure.kind).toBe('commit');
    // kafkajs names the error by type, librdkafka by code (25).
    const cause = failure.error as { type?: string; code?: number };
    expect(cause.type ?? cause.code).toBe(TEST_ENGINE === 'kafkajs' ? 'UNKNOWN_MEMBER_ID' : 25);
    expect(duplicates(reader.view.records)).toEqual([]);

    // The group member leaves: the group is empty, and the standalone reader's commits are taken.
    await memberApp.close();
    await kit.produce('shared', perPartition([0, 1], 5, 40));
    await waitFor(() => reader.view.records.length >= 50, 30_000, 'the records after the member left');
    await waitFor(async () => {
      const committed = await kit.committed('shared-group', 'shared');
      return committed[0] === 45 && committed[1] === 45;
    }, 15_000, 'the standalone reader\'s commits accepted once the group is empty');
    expect(duplicates(reader.view.records)).toEqual([]);
  });
});
