import { Injectable } from '@nestjs/common';
import { KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { itOnKafka } from './support/on-kafka';

describe('seek and replay from a running group (test broker)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  it('replays exactly the records from the sought offset, then from the beginning', async () => {
    kit = await KafkaTestKit.start({ topics: { ledger: 1 } });
    const offsets: number[] = [];
    @Injectable()
    class Ledger {
      @KafkaHandler('ledger', { groupId: 'ledger' })
      handle(_v: unknown, ctx: KafkaMessageContext) {
        offsets.push(Number(ctx.offset));
      }
    }
    await kit.produce('ledger', numbered(20));
    const app = await kit.startApp({}, [Ledger]);
    const service = app.get(KafkaConsumerService);
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

    await waitFor(() => offsets.length === 20, 30_000, 'the first pass');
    await waitFor(async () => (await kit.committed('ledger', 'ledger'))[0] === 20, 5_000, 'the first pass committed');
    expect(service.assignments()).toEqual({ ledger: ['ledger 0'] });

    expect(await service.seek('ledger', 'ledger', 0, { offset: 12 })).toBe('12');
    await waitFor(() => offsets.length === 28, 30_000, 'the replay from offset 12');
    expect(offsets.slice(20)).toEqual(range(12, 20));

    expect(await service.seek('ledger', 'ledger', 0, 'beginning')).toBe('0');
    await waitFor(() => offsets.length === 48, 30_000, 'the replay from the beginning');
    expect(offsets.slice(28)).toEqual(range(0, 20));
    await waitFor(async () => (await kit.committed('ledger', 'ledger'))[0] === 20, 5_000, 'the replay committed');

    expect(await service.seek('ledger', 'ledger', 0, 'end')).toBe('20');
    await kit.produce('ledger', numbered(3, 'k', 20));
    await waitFor(() => offsets.length === 51, 30_000, 'only new records after seeking to the end');
    expect(offsets.slice(48)).toEqual([20, 21, 22]);

    await expect(service.seek('ledger', 'other', 0, 'end')).rejects.toThrow(/not assigned to this member/);
    await expect(service.seek('nope', 'ledger', 0, 'end')).rejects.toThrow(/no running consumer group "nope"/);
  });

  itOnKafka('offsets by timestamp (ListOffsets with a timestamp), which the mock lacks')('seeks by timestamp to the first record at or after it, and past the last record to the end', async () => {
    // Before: the mock has no timestamp lookup in ListOffsets, so this was not tested at all.
    kit = await KafkaTestKit.start({ topics: { events: 1 } });
    const base = Date.parse('2026-11-23T12:00:00Z');
    // Ten records a second apart, with their own timestamps (CreateTime).
    await kit.produce('events', Array.from({ length: 10 }, (_, i) => ({ value: String(i), timestamp: String(base + i * 1_000) })));
    const seen: Array<{ offset: number; timestamp: number }> = [];
    @Injectable()
    class Events {
      @KafkaHandler('events', { groupId: 'events' })
      handle(_v: unknown, ctx: KafkaMessageContext) {
        seen.push({ offset: Number(ctx.offset), timestamp: Number(ctx.timestamp) });
      }
    }
    const app = await kit.startApp({}, [Events]);
    const service = app.get(KafkaConsumerService);
    await waitFor(() => seen.length === 10, 30_000, 'the first pass');
    expect(seen.map((r) => r.timestamp - base)).toEqual(Array.from({ length: 10 }, (_, i) => i * 1_000));

    // 5.5 s after the first record: the first record at or after it is offset 6.
    expect(await service.seek('events', 'events', 0, { timestamp: base + 5_500 })).toBe('6');
    await waitFor(() => seen.length === 14, 30_000, 'the replay from offset 6');
    expect(seen.slice(10).map((r) => r.offset)).toEqual([6, 7, 8, 9]);
    // Exactly a record's timestamp finds that record.
    expect(await service.seek('events', 'events', 0, { timestamp: base + 2_000 })).toBe('2');
    await waitFor(() => seen.length === 22, 30_000, 'the replay from offset 2');
    expect(seen.slice(14).map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // After the last record: the end of the log, so only new records follow.
    expect(await service.seek('events', 'events', 0, { timestamp: base + 60_000 })).toBe('10');
    await kit.produce('events', [{ value: '10', timestamp: String(base + 61_000) }]);
    await waitFor(() => seen.length === 23, 30_000, 'the new record');
    expect(seen[22].offset).toBe(10);
    await waitFor(async () => (await kit.committed('events', 'events'))[0] === 11, 10_000, 'committed to the end');
  });
});
