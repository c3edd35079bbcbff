import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import {
  KafkaConsumerFailure,
  KafkaHandler,
  KafkaConsumerService,
  KafkaMessageContext,
  KafkaBatchHandler,
  OnPartitionsAssigned,
  OnPartitionsLost,
  OnPartitionsRevoked,
  TopicPartition,
  KafkaRecord,
  OnKafkaError,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';

/** Records what a handler saw, by topic-partition-offset. */
class Seen {
  readonly keys = new Set<string>();
  count = 0;
  add(topic: string, partition: number, offset: string): void {
    this.keys.add(`${topic}/${partition}/${offset}`);
    this.count += 1;
  }
  topics(): Set<string> {
    return new Set([...this.keys].map((k) => k.split('/')[0]));
  }
}

describe('KafkaConsumerModule core (test broker)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('delivers every message to each of two groups on one topic', async () => {
    kit = await KafkaTestKit.start({ topics: { orders: 4 } });
    const billing = new Seen();
    const shipping = new Seen();
    const valueTypes = new Set<string>();

    @Injectable()
    class Billing {
      @KafkaHandler('orders', { groupId: 'billing' })
      handle(value: { n: number }, ctx: KafkaMessageContext): void {
        valueTypes.add(typeof value.n);
        billing.add(ctx.topic, ctx.partition, ctx.offset);
      }
    }
    @Injectable()
    class Shipping {
      @KafkaHandler('orders', { groupId: 'shipping' })
      handle(_value: unknown, ctx: KafkaMessageContext): void {
        shipping.add(ctx.topic, ctx.partition, ctx.offset);
      }
    }

    await kit.produce('orders', numbered(1000));
    await kit.startApp({}, [Billing, Shipping]);
    await waitFor(() => billing.keys.size === 1000 && shipping.keys.size === 1000, 60_000, 'both groups to see 1000 messages');

    const ends = await kit.endOffsets('orders');
    expect(Object.values(ends).reduce((a, b) => a + b, 0)).toBe(1000);
    await waitFor(async () => JSON.stringify(await kit.committed('billing', 'orders')) === JSON.stringify(ends), 10_000, 'billing commits');
    await waitFor(async () => JSON.stringify(await kit.committed('shipping', 'orders')) === JSON.stringify(ends), 10_000, 'shipping commits');
    expect(billing.count).toBe(1000);
    expect(shipping.count).toBe(1000);
    expect(valueTypes).toEqual(new Set(['number']));
  });

  it('follows a pattern subscription to topics created after startup, and only matching ones', async () => {
    kit = await KafkaTestKit.start({ topics: { 'metrics.cpu': 2, 'metrics.mem': 2, 'logs.app': 2 } });
    const seen = new Seen();

    @Injectable()
    class Metrics {
      @KafkaHandler(/^metrics\./, { groupId: 'metrics' })
      handle(_value: unknown, ctx: KafkaMessageContext): void {
        seen.add(ctx.topic, ctx.partition, ctx.offset);
      }
    }

    await kit.produce('metrics.cpu', numbered(50));
    await kit.produce('metrics.mem', numbered(50));
    await kit.produce('logs.app', numbered(50));
    await kit.startApp({}, [Metrics]);
    await waitFor(() => seen.keys.size === 100, 30_000, 'the two topics present at startup');

    await kit.createTopic('metrics.disk', 3);
    await kit.produce('metrics.disk', numbered(60));
    await kit.produce('logs.app', numbered(10));
    await waitFor(() => seen.keys.size === 160, 30_000, 'the topic created while running');

    expect(seen.topics()).toEqual(new Set(['metrics.cpu', 'metrics.mem', 'metrics.disk']));
    expect(seen.count).toBe(160);
  });

  it('picks up a new matching topic with a rejoin only: same members, no partition revoked or lost, no record twice, no committed offset moved back', async () => {
    kit = await KafkaTestKit.start({ topics: { 'events.a': 4 } });
    const seen = new Seen();
    const hooks: string[] = [];
    const members = ['a', 'b'].map((name) => {
      @Injectable()
      class Member {
        @KafkaHandler(/^events\./, { groupId: 'events', commit: { mode: 'record' } })
        async handle(_value: unknown, ctx: KafkaMessageContext): Promise<void> {
          seen.add(ctx.topic, ctx.partition, ctx.offset);
          await new Promise((resolve) => setTimeout(resolve, 1)); // keeps records in flight while the topic appears
        }
        @OnPartitionsAssigned()
        assigned(partitions: TopicPartition[]) {
          hooks.push(`${name} assigned ${partitions.map((p) => `${p.topic}[${p.partition}]`).join(' ')}`);
        }
        @OnPartitionsRevoked()
        revoked(partitions: TopicPartition[]) {
          hooks.push(`${name} revoked ${partitions.map((p) => `${p.topic}[${p.partition}]`).join(' ')}`);
        }
        @OnPartitionsLost()
        lost(partitions: TopicPartition[]) {
          hooks.push(`${name} lost ${partitions.map((p) => `${p.topic}[${p.partition}]`).join(' ')}`);
        }
      }
      return Member;
    });
    await kit.produce('events.a', numbered(200));
    const apps = [await kit.startApp({}, [members[0]])];
    apps.push(await kit.startApp({}, [members[1]]));
    const services = apps.map((app) => app.get(KafkaConsumerService));
    await waitFor(() => services.every((s) => s.membership('events').assignment.length === 2), 30_000, 'the two members to split events.a');
    await waitFor(() => seen.keys.size === 200, 30_000, 'the first 200 records');
    const before = services.map((s) => s.membership('events'));
    hooks.length = 0;

    // Committed offsets sampled all along: none may ever move back.
    const movedBack: string[] = [];
    const last = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const topic of ['events.a', 'events.b']) {
          const committed = await kit.committed('events', topic).catch(() => ({}) as Record<number, number>);
          for (const [partition, offset] of Object.entries(committed)) {
            const key = `${topic}[${partition}]`;
            if (offset < (last.get(key) ?? -1)) movedBack.push(`${key}: ${last.get(key)} -> ${offset}`);
            last.set(key, Math.max(offset, last.get(key) ?? -1));
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const producing = kit.produce('events.a', numbered(300, 'k', 200));
    await kit.createTopic('events.b', 2);
    await kit.produce('events.b', numbered(40));
    await producing;
    await waitFor(() => seen.keys.size === 540, 60_000, 'all 540 records, the new topic included');
    await waitFor(async () => (await kit.committed('events', 'events.b'))[0] !== undefined, 30_000, 'commits on events.b');
    sampling = false;
    await sampler;

    const after = services.map((s) => s.membership('events'));
    expect(after.map((m) => m.memberId)).toEqual(before.map((m) => m.memberId));
    expect(hooks.filter((h) => !/ assigned events\.b\[\d\]( events\.b\[\d\])*$/.test(h))).toEqual([]);
    expect(after.flatMap((m) => m.assignment).filter((k) => k.startsWith('events.b')).length).toBe(2);
    expect(movedBack).toEqual([]);
    expect(seen.count).toBe(540);
  });

  it('stopped halfway and started again, processes every message and commits exactly what it processed', async () => {
    kit = await KafkaTestKit.start({ topics: { payments: 4 } });
    const processed: string[][] = [[], []];
    let run = 0;
    let app: TestingModule | undefined;

    @Injectable()
    class Payments {
      @KafkaHandler('payments', { groupId: 'payments' })
      async handle(_value: unknown, ctx: KafkaMessageContext): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 1));
        processed[run].push(`${ctx.partition}/${ctx.offset}`);
      }
    }

    await kit.produce('payments', numbered(1000));
    app = await kit.startApp({}, [Payments]);
    await waitFor(() => processed[0].length >= 500, 60_000, '500 messages in the first run');
    await app.close();

    // Graceful stop commits exactly what was processed: per partition, the next offset after it.
    const firstRun = perPartitionNext(processed[0]);
    const afterFirst = await kit.committed('payments', 'payments');
    for (const partition of [0, 1, 2, 3]) expect(afterFirst[partition]).toBe(firstRun[partition] ?? -1);
    expect(processed[0].length).toBeLessThan(1000);

    run = 1;
    app = await kit.startApp({}, [Payments]);
    const ends = await kit.endOffsets('payments');
    await waitFor(async () => JSON.stringify(await kit.committed('payments', 'payments')) === JSON.stringify(ends), 60_000, 'second run to commit the end offsets');
    await app.close();

    const all = new Set([...processed[0], ...processed[1]]);
    expect(all.size).toBe(1000);
    // Nothing is processed twice: the second run starts exactly where the first one committed.
    expect(processed[0].length + processed[1].length).toBe(1000);
  });

  it('reports a message that does not parse to the error hook and keeps consuming the partition', async () => {
    kit = await KafkaTestKit.start({ topics: { events: 1 } });
    const failures: KafkaConsumerFailure[] = [];
    const values: number[] = [];

    @Injectable()
    class Events {
      @KafkaHandler('events', { groupId: 'events' })
      handle(value: { n: number }): void {
        values.push(value.n);
      }
      @OnKafkaError()
      onError(failure: KafkaConsumerFailure): void {
        failures.push(failure);
      }
    }

    await kit.produce('events', [
      { value: JSON.stringify({ n: 1 }) },
      { key: 'bad', value: '{"n": 2,,', headers: { trace: 'abc' } },
      { value: JSON.stringify({ n: 3 }) },
    ]);
    await kit.startApp({}, [Events]);
    await waitFor(() => values.length === 2, 30_000, 'the two good messages');
    await waitFor(async () => (await kit.committed('events', 'events'))[0] === 3, 10_000, 'the commit past the bad message');

    expect(values).toEqual([1, 3]);
    expect(failures).toHaveLength(1);
    const [failure] = failures;
    expect(failure).toMatchObject({ kind: 'deserialization', groupId: 'events', topic: 'events', partition: 0, offset: '1' });
    expect(failure.value?.toString()).toBe('{"n": 2,,');
    expect(failure.key?.toString()).toBe('bad');
    expect(failure.headers?.trace?.toString()).toBe('abc');
    expect((failure.error as Error).message).toMatch(/cannot deserialize the record value/);
  });

  it('hands a batch handler the records of a fetch, at most maxPollRecords at a time', async () => {
    kit = await KafkaTestKit.start({ topics: { clicks: 2 } });
    const sizes: number[] = [];
    const seen = new Seen();
    const valueTypes = new Set<string>();

    @Injectable()
    class Clicks {
      @KafkaBatchHandler('clicks', { groupId: 'clicks', deserializer: 'string' })
      handle(records: KafkaRecord<string>[]): void {
        sizes.push(records.length);
        for (const r of records) {
          valueTypes.add(typeof r.value);
          seen.add(r.topic, r.partition, r.offset);
        }
      }
    }

    await kit.produce('clicks', numbered(300));
    await kit.startApp({ maxPollRecords: 40 }, [Clicks]);
    await waitFor(() => seen.keys.size === 300, 30_000, '300 records in batches');
    expect(Math.max(...sizes)).toBeLessThanOrEqual(40);
    expect(sizes.some((s) => s > 1)).toBe(true);
    expect(valueTypes).toEqual(new Set(['string']));
    const ends = await kit.endOffsets('clicks');
    await waitFor(async () => JSON.stringify(await kit.committed('clicks', 'clicks')) === JSON.stringify(ends), 10_000, 'batch commits');
  });
});

function perPartitionNext(entries: string[]): Record<number, number> {
  const next: Record<number, number> = {};
  for (const entry of entries) {
    const [partition, offset] = entry.split('/').map(Number);
    next[partition] = Math.max(next[partition] ?? 0, offset + 1);
  }
  return next;
}
