import { fetchRequestBytes, leadersOf } from './fetch-budget';

const MiB = 1024 * 1024;

describe('fetchRequestBytes', () => {
  const sizes = { maxBufferedBytes: 2 * MiB, fetchMaxBytes: 50 * MiB, fetchMinBytes: 1 };

  it('splits the budget over the brokers fetched from', () => {
    expect(fetchRequestBytes(sizes, 1)).toBe(2 * MiB);
    expect(fetchRequestBytes(sizes, 2)).toBe(MiB);
    expect(fetchRequestBytes(sizes, 3)).toBe(Math.floor((2 * MiB) / 3));
  });

  it('never asks for more than fetchMaxBytes', () => {
    expect(fetchRequestBytes({ ...sizes, fetchMaxBytes: 512 * 1024 }, 1)).toBe(512 * 1024);
  });

  it('never asks for less than fetchMinBytes, nor for nothing', () => {
    expect(fetchRequestBytes({ ...sizes, fetchMinBytes: MiB }, 8)).toBe(MiB);
    expect(fetchRequestBytes({ ...sizes, maxBufferedBytes: 3 }, 10)).toBe(1);
  });

  it('treats no known leader as one broker', () => {
    expect(fetchRequestBytes(sizes, 0)).toBe(2 * MiB);
  });

  it('leaves the request at fetchMaxBytes when the budget is off', () => {
    expect(fetchRequestBytes({ ...sizes, maxBufferedBytes: 0 }, 3)).toBe(50 * MiB);
  });
});

describe('leadersOf', () => {
  const leaders: Record<string, Array<number | undefined>> = { orders: [1, 2, 1, 3], audit: [2, undefined, -1] };
  const leaderOf = (topic: string, partition: number) => leaders[topic]?.[partition];

  it('counts distinct leaders of the assigned partitions only', () => {
    expect(leadersOf([{ topic: 'orders', partitions: [0, 2] }], leaderOf)).toBe(1);
    expect(leadersOf([{ topic: 'orders', partitions: [0, 1, 2, 3] }, { topic: 'audit', partitions: [0] }], leaderOf)).toBe(3);
  });

  it('skips partitions without a leader and topics it does not know', () => {
    expect(leadersOf([{ topic: 'audit', partitions: [1, 2] }, { topic: 'gone', partitions: [0] }], leaderOf)).toBe(0);
    expect(leadersOf([], leaderOf)).toBe(0);
  });
});
