import { Injectable } from '@nestjs/common';
import { KafkaHandler, KafkaMessageContext, OnPartitionsAssigned, OnPartitionsRevoked, TopicPartition } from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { describeOnKafka } from './support/on-kafka';

/** What one member saw: each record it finished (with when), and its hook calls in order. */
interface MemberLog {
  records: Array<{ key: string; partition: number; at: number }>;
  events: Array<{ hook: 'assigned' | 'revoked'; partitions: number[] }>;
}

function member(groupId: string) {
  const log: MemberLog = { records: [], events: [] };
  @Injectable()
  class Member {
    @KafkaHandler('kip848', { groupId, commit: { mode: 'record', sync: true } })
    async handle(_value: unknown, ctx: KafkaMessageContext) {
      log.records.push({ key: `${ctx.partition}:${ctx.offset}`, partition: ctx.partition, at: Date.now() });
      await new Promise((resolve) => setTimeout(resolve, 2)); // work in flight across each change
    }

    @OnPartitionsAssigned()
    assigned(partitions: TopicPartition[]) {
      log.events.push({ hook: 'assigned', partitions: partitions.map((p) => p.partition).sort() });
    }

    @OnPartitionsRevoked()
    revoked(partitions: TopicPartition[]) {
      log.events.push({ hook: 'revoked', partitions: partitions.map((p) => p.partition).sort() });
    }
  }
  return { log, provider: Member };
}

const partitionsIn = (log: MemberLog, hook: 'assigned' | 'revoked') => log.events.filter((e) => e.hook === hook).flatMap((e) => e.partitions).sort();

describeOnKafka('the KIP-848 consumer group protocol of Kafka 4.x')('KIP-848 consumer group protocol (confluent engine, Apache Kafka 4.x)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('a member joins, then leaves: partitions the other keeps never stop being consumed, and no record is processed twice', async () => {
    kit = await KafkaTestKit.start({
      topics: { kip848: 4 },
      // The broker paces KIP-848 heartbeats (5 s by default): shorter here so changes land quickly.
      kafka: { properties: { 'group.consumer.heartbeat.interval.ms': 500, 'group.consumer.min.heartbeat.interval.ms': 500 } },
    });
    const groupId = 'kip848-group';
    // The broker owns session, heartbeat and assignment under this protocol: none of them is set.
    const options = { engine: 'confluent' as const, groupProtocol: 'consumer' as const, sessionTimeoutMs: undefined, heartbeatIntervalMs: undefined, rebalanceTimeoutMs: undefined };
    const a = member(groupId);
    const b = member(groupId);
    let produced = 0;
    const produce = async (count: number) => {
      await kit.produce('kip848', numbered(count, 'k', produced));
      produced += count;
    };
    const handled = () => new Set([...a.log.records, ...b.log.records].map((r) => r.key)).size;

    await produce(200);
    await kit.startApp(options, [a.provider]);
    await waitFor(() => a.log.records.length >= 200, 30_000, 'A consuming, its backlog handled');
    expect(partitionsIn(a.log, 'assigned')).toEqual([0, 1, 2, 3]);

    // Records keep arriving through B's join and leave, slower than A alone handles them (each
    // record is committed before the next), so a gap on a kept partition is a pause, not a backlog.
    let producing = true;
    const producingFrom = Date.now();
    const producer = (async () => {
      while (producing) {
        await produce(8);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const appB = await kit.startApp(options, [b.provider]);
    await waitFor(() => partitionsIn(b.log, 'assigned').length > 0 && b.log.records.length > 0, 60_000, 'B given partitions and consuming');
    const movedToB = partitionsIn(b.log, 'assigned');
    await waitFor(() => partitionsIn(a.log, 'revoked').length === movedToB.length, 30_000, "A's revocation of what B got");
    const bJoinedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await appB.close();
    const bLeftAt = Date.now();
    await waitFor(() => partitionsIn(a.log, 'assigned').length === 4 + movedToB.length, 30_000, "A taking back B's partitions");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    producing = false;
    const producingUntil = Date.now();
    await producer;
    await waitFor(() => handled() === produced, 60_000, 'every record handled by A or B');

    // Incremental: A gave up exactly what B got, and got exactly that back; B gave it all up on leaving.
    const kept = [0, 1, 2, 3].filter((p) => !movedToB.includes(p));
    expect(movedToB.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(partitionsIn(a.log, 'revoked')).toEqual(movedToB);
    expect(partitionsIn(a.log, 'assigned')).toEqual([0, 1, 2, 3, ...movedToB].sort());
    expect(b.log.events.at(-1)).toEqual({ hook: 'revoked', partitions: movedToB });
    // The kept partitions went on being consumed while B was a member and as it left.
    const keptWhileB = a.log.records.filter((r) => kept.includes(r.partition) && r.at >= bJoinedAt && r.at <= bLeftAt);
    expect(keptWhileB.length).toBeGreaterThan(0);
    // No record twice, and everything committed.
    const all = [...a.log.records, ...b.log.records].map((r) => r.key);
    expect(all.length - new Set(all).size).toBe(0);
    await waitFor(async () => Object.values(await kit.committed(groupId, 'kip848')).reduce((x, y) => x + y, 0) === produced, 15_000, 'all committed');
    // While records kept arriving (every 200 ms), the longest wait between two records handled on a kept partition.
    const gaps = kept.map((p) => {
      const times = a.log.records.filter((r) => r.partition === p && r.at >= producingFrom && r.at <= producingUntil).map((r) => r.at);
      return Math.max(...times.slice(1).map((t, i) => t - times[i]));
    });
    console.log(`KIP-848: ${produced} records; moved to B ${movedToB.join(',')}; kept by A ${kept.join(',')}; records of kept partitions while B was a member: ${keptWhileB.length}; longest gap between records of a kept partition while producing: ${Math.max(...gaps)} ms`);
  });
});
