import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import {
  AssignmentStrategy,
  KafkaConsumerFailure,
  KafkaConsumerService,
  KafkaHandler,
  OnKafkaError,
  OnPartitionsAssigned,
  OnPartitionsLost,
  OnPartitionsRevoked,
  TopicPartition,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, TEST_ENGINE, waitFor } from './support/kafka-test-kit';
import { itOnEngine, itOnKafka } from './support/on-kafka';

interface MemberView {
  records: number;
  /** Every hook call, e.g. "assigned 0,1". */
  events: string[];
  failures: KafkaConsumerFailure[];
}

function member(topic: string, groupId: string) {
  const view: MemberView = { records: 0, events: [], failures: [] };
  const list = (partitions: TopicPartition[]) => partitions.map((p) => p.partition).join(',');
  @Injectable()
  class Member {
    @KafkaHandler(topic, { groupId })
    handle() {
      view.records += 1;
    }

    @OnPartitionsAssigned()
    assigned(partitions: TopicPartition[]) {
      view.events.push(`assigned ${list(partitions)}`);
    }

    @OnPartitionsRevoked()
    revoked(partitions: TopicPartition[]) {
      view.events.push(`revoked ${list(partitions)}`);
    }

    @OnPartitionsLost()
    lost(partitions: TopicPartition[]) {
      view.events.push(`lost ${list(partitions)}`);
    }

    @OnKafkaError()
    failed(failure: KafkaConsumerFailure) {
      view.failures.push(failure);
    }
  }
  return { view, provider: Member };
}

/** Partitions a member owns now, from the hooks it saw. */
function owned(view: MemberView): number[] {
  const set = new Set<number>();
  for (const event of view.events) {
    const [hook, list] = event.split(' ');
    const partitions = (list ?? '').split(',').filter(Boolean).map(Number);
    if (hook === 'assigned') partitions.forEach((p) => set.add(p));
    else partitions.forEach((p) => set.delete(p));
  }
  return [...set].sort((a, b) => a - b);
}

describe('assignment strategies and static membership (Apache Kafka)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  itOnEngine('kafkajs', "the module's eager sticky assignor; librdkafka has none (the confluent engine refuses it at startup)")('sticky: when one of three members stops, only its partitions move', async () => {
    kit = await KafkaTestKit.start({ topics: { trades: 6 } });
    const strategy: AssignmentStrategy = 'sticky';
    const members = [member('trades', 'trades'), member('trades', 'trades'), member('trades', 'trades')];
    const apps: TestingModule[] = [];
    for (const m of members) apps.push(await kit.startApp({ assignmentStrategy: strategy }, [m.provider]));
    await waitFor(() => members.every((m) => owned(m.view).length === 2), 60_000, 'a 2/2/2 split');
    const before = members.map((m) => owned(m.view));
    expect(before.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const seenBefore = members.map((m) => m.view.events.length);

    await apps[2].close();
    await waitFor(() => owned(members[0].view).length + owned(members[1].view).length === 6, 60_000, 'the two survivors own everything');
    for (const i of [0, 1]) {
      const after = owned(members[i].view);
      // Kept everything it had and gained one of the stopped member's partitions.
      expect(after).toEqual(expect.arrayContaining(before[i]));
      expect(after).toHaveLength(3);
      const since = members[i].view.events.slice(seenBefore[i]);
      expect(since.filter((e) => !e.startsWith('assigned'))).toEqual([]);
    }
    const gained = [0, 1].flatMap((i) => owned(members[i].view).filter((p) => !before[i].includes(p))).sort();
    expect(gained).toEqual(before[2]);
  });

  itOnKafka("Kafka's tool lists the stopped static member")('a static member restarted within the session timeout keeps its partitions: no rebalance, the other member gives nothing up', async () => {
    // Before (mock): the mock ignored group.instance.id, so the restart was a rebalance once the old
    // session expired; the test could only show no LeaveGroup and the same partitions coming back
    // (which sticky assignment alone also gives). On Kafka: the group's generation does not move.
    kit = await KafkaTestKit.start({ topics: { ledger: 4 } });
    await kit.produce('ledger', numbered(200));
    const a = member('ledger', 'ledger');
    const b = member('ledger', 'ledger');
    const settings = { sessionTimeoutMs: 30_000 };
    const appA = await kit.startApp({ ...settings, groups: { ledger: { groupInstanceId: 'ledger-a' } } }, [a.provider]);
    const appB = await kit.startApp({ ...settings, groups: { ledger: { groupInstanceId: 'ledger-b' } } }, [b.provider]);
    await waitFor(() => owned(a.view).length === 2 && owned(b.view).length === 2 && a.view.records + b.view.records === 200, 60_000, 'a 2/2 split, backlog read');
    const serviceA = appA.get(KafkaConsumerService);
    const serviceB = appB.get(KafkaConsumerService);
    // The kafkajs engine knows the group's generation; librdkafka tells the confluent engine only
    // of its own assignments, so there each member's count must stay put.
    const generation = serviceB.membership('ledger').generationId;
    if (TEST_ENGINE === 'kafkajs') expect(serviceA.membership('ledger').generationId).toBe(generation);
    expect(serviceB.membership('ledger').groupInstanceId).toBe('ledger-b');
    const eventsOfB = b.view.events.length;
    const partitionsOfA = owned(a.view);

    await appA.close();
    // Kafka's own tool: the stopped static member is still in the group (no LeaveGroup was sent).
    const whileDown = await kit.kafkaBroker.tools.groupMembers('ledger');
    expect(whileDown.map((m) => m.groupInstanceId).sort()).toEqual(['ledger-a', 'ledger-b']);

    const a2 = member('ledger', 'ledger');
    const restarted = Date.now();
    const appA2 = await kit.startApp({ ...settings, groups: { ledger: { groupInstanceId: 'ledger-a' } } }, [a2.provider]);
    await waitFor(() => owned(a2.view).length > 0, 30_000, 'the restarted member has its partitions');
    const resumedAfterMs = Date.now() - restarted;
    expect(owned(a2.view)).toEqual(partitionsOfA);
    // No rebalance: the restarted member joined the generation the group already had.
    if (TEST_ENGINE === 'kafkajs') expect(appA2.get(KafkaConsumerService).membership('ledger').generationId).toBe(generation);
    expect(serviceB.membership('ledger').generationId).toBe(generation);
    await kit.produce('ledger', numbered(200, 'k', 200));
    await waitFor(() => a2.view.records + b.view.records >= 200, 30_000, 'new records consumed');
    expect(b.view.events.slice(eventsOfB)).toEqual([]);
    expect(a2.view.failures).toEqual([]);
    const ends = await kit.endOffsets('ledger');
    await waitFor(async () => JSON.stringify(await kit.committed('ledger', 'ledger')) === JSON.stringify(ends), 10_000, 'everything committed');
    const members = await kit.kafkaBroker.tools.groupMembers('ledger');
    expect(members.map((m) => [m.groupInstanceId, m.partitions]).sort()).toEqual([['ledger-a', 2], ['ledger-b', 2]]);
    console.log(`static membership (${TEST_ENGINE}): restart resumed in ${resumedAfterMs} ms; no rebalance`);
  });

  itOnKafka('the mock does not fence a duplicate group.instance.id')('a second member with the same groupInstanceId fences the first, which stops with a clear error and reports its partitions lost', async () => {
    // Before (mock): the mock does not fence duplicate ids, so FENCED_INSTANCE_ID was injected.
    // On Kafka, the coordinator fences the older member when the newer one joins with its id.
    kit = await KafkaTestKit.start({ topics: { fenced: 2 } });
    await kit.produce('fenced', numbered(10));
    const first = member('fenced', 'fenced');
    const app = await kit.startApp({ groups: { fenced: { groupInstanceId: 'same-id' } } }, [first.provider]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => owned(first.view).length === 2 && first.view.records === 10, 30_000, 'the member consuming');
    expect(service.status('fenced')).toEqual({ groupId: 'fenced', state: 'running' });

    const second = member('fenced', 'fenced');
    await kit.startApp({ groups: { fenced: { groupInstanceId: 'same-id' } } }, [second.provider]);
    await waitFor(() => first.view.failures.some((f) => f.kind === 'consumer'), 30_000, 'the first member fenced');
    const failure = first.view.failures.find((f) => f.kind === 'consumer')!;
    // kafkajs names the broker's error; librdkafka reports it as its fatal error, the broker's words in the message.
    const error = failure.error as { type?: string; cause?: { type?: string }; message?: string };
    expect(`${error.type ?? error.cause?.type} ${error.message}`).toMatch(/FENCED_INSTANCE_ID|fenced by other consumer with same group\.instance\.id/);
    await waitFor(() => first.view.events.at(-1) === 'lost 0,1', 5_000, 'its partitions reported lost');
    // What a health check reads: failed for good, with the cause and the fix.
    expect(service.status('fenced')).toMatchObject({
      groupId: 'fenced',
      state: 'failed',
      error: expect.stringMatching(/another live member uses groupInstanceId "same-id"; this member was fenced .* Give every member its own groupInstanceId/),
    });
    // The newer member owns the partitions and reads what comes next; the fenced one reads nothing more.
    await waitFor(() => owned(second.view).length === 2, 30_000, 'the newer member owns both partitions');
    await kit.produce('fenced', numbered(10, 'k', 10));
    await waitFor(() => second.view.records >= 10, 30_000, 'the newer member reads the new records');
    expect(first.view.records).toBe(10);
    expect(second.view.failures).toEqual([]);
    const members = await kit.kafkaBroker.tools.groupMembers('fenced');
    expect(members.map((m) => m.groupInstanceId)).toEqual(['same-id']);
  });
});
