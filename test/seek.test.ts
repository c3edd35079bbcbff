import { Injectable } from '@nestjs/common';
import { KafkaConsumerService, KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';

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
});
