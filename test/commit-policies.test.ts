import { Injectable } from '@nestjs/common';
import type { IHeaders } from 'kafkajs';
import {
  DEAD_LETTER_HEADERS,
  KafkaBatchContext,
  KafkaBatchHandler,
  KafkaConsumerFailure,
  KafkaHandler,
  KafkaMessageContext,
  KafkaRecord,
  NonRetriableError,
  OnKafkaError,
} from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';

/**
 * Each policy's committed offset, read back with the admin client from inside
 * the handler: with `sync` commits the value is exact at every record.
 */
describe('commit policies and the dead-letter path (test broker)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  async function committedNow(group: string, topic: string): Promise<number> {
    return (await kit.committed(group, topic))[0];
  }

  it('record (sync): offset + 1 of the previous record is committed before the next one runs', async () => {
    kit = await KafkaTestKit.start({ topics: { rec: 1 } });
    const observed: Array<[number, number]> = [];
    @Injectable()
    class H {
      @KafkaHandler('rec', { groupId: 'rec', commit: { mode: 'record', sync: true } })
      async handle(_v: unknown, ctx: KafkaMessageContext) {
        observed.push([Number(ctx.offset), await committedNow('rec', 'rec')]);
      }
    }
    await kit.produce('rec', numbered(20));
    await kit.startApp({}, [H]);
    await waitFor(() => observed.length === 20, 30_000, '20 records');
    for (const [offset, committed] of observed) expect(committed).toBe(offset === 0 ? -1 : offset);
    await waitFor(async () => (await committedNow('rec', 'rec')) === 20, 5_000, 'the last commit');
  });

  it('batch (sync): the previous batch end is committed when the next batch starts', async () => {
    kit = await KafkaTestKit.start({ topics: { bat: 1 } });
    const observed: Array<[number, number]> = [];
    const sizes: number[] = [];
    @Injectable()
    class H {
      @KafkaBatchHandler('bat', { groupId: 'bat', commit: { mode: 'batch', sync: true } })
      async handle(records: KafkaRecord[], ctx: KafkaBatchContext) {
        observed.push([Number(ctx.firstOffset), await committedNow('bat', 'bat')]);
        sizes.push(records.length);
      }
    }
    await kit.produce('bat', numbered(40));
    await kit.startApp({ maxPollRecords: 7 }, [H]);
    await waitFor(async () => (await committedNow('bat', 'bat')) === 40, 30_000, 'all batches committed');
    expect(observed.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
    for (const [first, committed] of observed) expect(committed).toBe(first === 0 ? -1 : first);
  });

  it('manual: nothing is committed until ctx.commit(), then exactly through that record', async () => {
    kit = await KafkaTestKit.start({ topics: { man: 1 } });
    // What the group had committed when each record started, read from the broker.
    const committedAt: Array<[number, number]> = [];
    @Injectable()
    class H {
      @KafkaHandler('man', { groupId: 'man', commit: { mode: 'manual', sync: true } })
      async handle(_v: unknown, ctx: KafkaMessageContext) {
        committedAt.push([Number(ctx.offset), await committedNow('man', 'man')]);
        if (ctx.offset === '4') ctx.commit();
      }
    }
    await kit.produce('man', numbered(10));
    await kit.startApp({}, [H]);
    await waitFor(() => committedAt.length === 10, 30_000, '10 records');
    // Offsets 0-4 ran with nothing committed; from 5 on, the commit through offset 4 (next: 5).
    expect(committedAt).toEqual(Array.from({ length: 10 }, (_, offset) => [offset, offset <= 4 ? -1 : 5]));
    await new Promise((r) => setTimeout(r, 1_000));
    // Records 5-9 finished, yet nothing committed them: no commit without ctx.commit().
    expect(await committedNow('man', 'man')).toBe(5);
  });

  it('auto by count (sync): a commit every 10 finished records', async () => {
    kit = await KafkaTestKit.start({ topics: { cnt: 1 } });
    const observed: Array<[number, number]> = [];
    @Injectable()
    class H {
      @KafkaHandler('cnt', { groupId: 'cnt', commit: { mode: 'auto', everyRecords: 10, sync: true } })
      async handle(_v: unknown, ctx: KafkaMessageContext) {
        observed.push([Number(ctx.offset), await committedNow('cnt', 'cnt')]);
      }
    }
    await kit.produce('cnt', numbered(35));
    await kit.startApp({}, [H]);
    await waitFor(() => observed.length === 35, 30_000, '35 records');
    for (const [offset, committed] of observed) expect(committed).toBe(offset < 10 ? -1 : Math.floor(offset / 10) * 10);
  });

  it('auto by interval: finished records are committed within the interval', async () => {
    kit = await KafkaTestKit.start({ topics: { ivl: 1 } });
    let handled = 0;
    @Injectable()
    class H {
      @KafkaHandler('ivl', { groupId: 'ivl', commit: { mode: 'auto', intervalMs: 400 } })
      handle() {
        handled += 1;
      }
    }
    await kit.produce('ivl', numbered(25));
    await kit.startApp({}, [H]);
    await waitFor(() => handled === 25, 30_000, '25 records');
    const finishedAt = Date.now();
    await waitFor(async () => (await committedNow('ivl', 'ivl')) === 25, 5_000, 'the periodic commit');
    expect(Date.now() - finishedAt).toBeLessThan(3_000);
  });

  it('auto by interval with a worker pool: a batch of another partition does not leave finished records uncommitted', async () => {
    kit = await KafkaTestKit.start({ topics: { ivp: 2 } });
    const handled = [0, 0];
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    @Injectable()
    class H {
      @KafkaHandler('ivp', { groupId: 'ivp', concurrency: 4, ordering: 'partition', commit: { mode: 'auto', intervalMs: 1_500 } })
      async handle(_value: unknown, ctx: KafkaMessageContext) {
        handled[ctx.partition] += 1;
        if (ctx.partition === 1) await gate; // finishes only at the end: no record finishes after it starts
      }
    }
    try {
      await kit.produce('ivp', numbered(10).map((m) => ({ ...m, partition: 0 })));
      await kit.startApp({}, [H]);
      await waitFor(() => handled[0] === 10, 30_000, 'the records of partition 0');
      // A batch of partition 1 arrives within the interval, after partition 0's records finished.
      await kit.produce('ivp', numbered(1).map((m) => ({ ...m, partition: 1 })));
      await waitFor(() => handled[1] === 1, 10_000, 'the record of partition 1 started');
      await waitFor(async () => (await kit.committed('ivp', 'ivp'))[0] === 10, 5_000, 'partition 0 committed by the interval');
    } finally {
      openGate();
    }
    await waitFor(async () => (await kit.committed('ivp', 'ivp'))[1] === 1, 5_000, 'partition 1 committed once its record finished');
  });

  it('dead-letters a poison message after its attempts, with the original bytes and error headers, and moves on', async () => {
    kit = await KafkaTestKit.start({ topics: { pay: 1, 'pay.DLT': 1 } });
    const attempts: string[] = [];
    const processed: number[] = [];
    const failures: KafkaConsumerFailure[] = [];
    const dead: Array<{ key: string | null; value: string | null; headers: IHeaders }> = [];
    @Injectable()
    class H {
      @KafkaHandler('pay', { groupId: 'pay', retry: { attempts: 3, initialDelayMs: 20 } })
      handle(value: { n: number }, ctx: KafkaMessageContext) {
        attempts.push(ctx.offset);
        if (value.n === 2) throw new Error('amount must be positive');
        processed.push(value.n);
      }
      @KafkaHandler('pay.DLT', { groupId: 'pay-dlt', deserializer: 'buffer' })
      onDead(value: Buffer | null, ctx: KafkaMessageContext) {
        dead.push({ key: ctx.key as string | null, value: value?.toString() ?? null, headers: ctx.headers });
      }
      @OnKafkaError({ groupId: 'pay' })
      onError(failure: KafkaConsumerFailure) {
        failures.push(failure);
      }
    }
    await kit.produce('pay', [0, 1, 2, 3, 4].map((n) => ({ key: `order-${n}`, value: JSON.stringify({ n }), headers: { trace: `t${n}` } })));
    await kit.startApp({}, [H]);
    await waitFor(() => dead.length === 1 && processed.length === 4, 30_000, 'the dead letter and the other records');
    await waitFor(async () => (await committedNow('pay', 'pay')) === 5, 10_000, 'the commit past the poison message');

    expect(processed).toEqual([0, 1, 3, 4]);
    expect(attempts.filter((o) => o === '2')).toHaveLength(3);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'handler', attempts: 3, offset: '2' });
    const [letter] = dead;
    expect(letter.key).toBe('order-2');
    expect(letter.value).toBe(JSON.stringify({ n: 2 }));
    const header = (name: string) => letter.headers[name]?.toString();
    expect(header('trace')).toBe('t2');
    expect(header(DEAD_LETTER_HEADERS.kind)).toBe('handler');
    expect(header(DEAD_LETTER_HEADERS.exception)).toBe('Error');
    expect(header(DEAD_LETTER_HEADERS.message)).toBe('amount must be positive');
    expect(header(DEAD_LETTER_HEADERS.topic)).toBe('pay');
    expect(header(DEAD_LETTER_HEADERS.partition)).toBe('0');
    expect(header(DEAD_LETTER_HEADERS.offset)).toBe('2');
    expect(header(DEAD_LETTER_HEADERS.attempts)).toBe('3');
    expect(header(DEAD_LETTER_HEADERS.group)).toBe('pay');
  });

  it('sends undeserializable records and NonRetriableError straight to the dead-letter topic', async () => {
    kit = await KafkaTestKit.start({ topics: { inv: 1, 'inv.DLT': 1 } });
    let calls = 0;
    const dead: IHeaders[] = [];
    @Injectable()
    class H {
      @KafkaHandler('inv', { groupId: 'inv', retry: { attempts: 5, initialDelayMs: 10 } })
      handle(value: { ok: boolean }) {
        calls += 1;
        if (!value.ok) throw new NonRetriableError('rejected by a business rule');
      }
      @KafkaHandler('inv.DLT', { groupId: 'inv-dlt', deserializer: 'buffer' })
      onDead(_v: Buffer, ctx: KafkaMessageContext) {
        dead.push(ctx.headers);
      }
    }
    await kit.produce('inv', [{ value: '{"ok":true}' }, { value: 'not json' }, { value: '{"ok":false}' }, { value: '{"ok":true}' }]);
    await kit.startApp({}, [H]);
    await waitFor(() => dead.length === 2, 30_000, 'two dead letters');
    await waitFor(async () => (await committedNow('inv', 'inv')) === 4, 10_000, 'commit past both');
    expect(calls).toBe(3); // the bad record never reached the handler; the rejected one ran once
    const kinds = dead.map((h) => h[DEAD_LETTER_HEADERS.kind]?.toString()).sort();
    expect(kinds).toEqual(['deserialization', 'handler']);
  });
});
