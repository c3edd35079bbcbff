import { kafkajsStyleAdmin, KafkajsStyleProducer, LazyRecordSender } from './kafkajs-style';

function producer(connects: Array<'ok' | 'fail'>, sent: string[]): KafkajsStyleProducer & { disconnected: number } {
  const self = {
    disconnected: 0,
    connect: async () => {
      if (connects.shift() === 'fail') throw new Error('broker down');
    },
    send: async ({ topic, messages }: { topic: string; messages: Array<{ value: Buffer | null }> }) => void sent.push(`${topic}:${messages[0].value}`),
    disconnect: async () => void self.disconnected++,
  };
  return self;
}

describe('LazyRecordSender', () => {
  it('connects one producer on first use and reuses it', async () => {
    const sent: string[] = [];
    let created = 0;
    const sender = new LazyRecordSender(() => (created++, producer(['ok'], sent)));
    expect(created).toBe(0);
    await sender.send('dlq', { key: null, value: Buffer.from('a'), headers: {} });
    await sender.send('dlq', { key: null, value: Buffer.from('b'), headers: {} });
    expect({ created, sent }).toEqual({ created: 1, sent: ['dlq:a', 'dlq:b'] });
  });

  it('after a failed connect, the next send connects a new producer; close disconnects it', async () => {
    const sent: string[] = [];
    const made: Array<ReturnType<typeof producer>> = [];
    const outcomes: Array<'ok' | 'fail'> = ['fail', 'ok'];
    const sender = new LazyRecordSender(() => {
      made.push(producer([outcomes.shift()!], sent));
      return made[made.length - 1];
    });
    await expect(sender.send('dlq', { key: null, value: Buffer.from('a'), headers: {} })).rejects.toThrow('broker down');
    await sender.send('dlq', { key: null, value: Buffer.from('a'), headers: {} });
    await sender.close();
    expect({ made: made.length, sent, disconnected: made[1].disconnected }).toEqual({ made: 2, sent: ['dlq:a'], disconnected: 1 });
  });
});

describe('kafkajsStyleAdmin', () => {
  it('maps topic metadata to partitions with leaders (-1 while none is elected) and keeps only the fields the core reads', async () => {
    const admin = kafkajsStyleAdmin(
      {
        listTopics: async () => ['t'],
        fetchTopicOffsets: async () => [{ partition: 0, low: '1', high: '5', offset: '5' } as never],
        fetchTopicOffsetsByTimestamp: async () => [],
        fetchOffsets: async () => [{ topic: 't', partitions: [{ partition: 0, offset: '3', metadata: 'm', leaderEpoch: 1 } as never] }],
      },
      async () => [{ name: 't', partitions: [{ partitionId: 0, leader: 2 }, { partitionId: 1, leader: null }] }],
    );
    expect(await admin.partitions(['t'])).toEqual([{ topic: 't', partitions: [{ partition: 0, leader: 2 }, { partition: 1, leader: -1 }] }]);
    expect(await admin.watermarks('t')).toEqual([{ partition: 0, low: '1', high: '5' }]);
    expect(await admin.committed('g', ['t'])).toEqual([{ topic: 't', partitions: [{ partition: 0, offset: '3', metadata: 'm' }] }]);
  });
});
