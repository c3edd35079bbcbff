import { compareOffsets, PartitionOffsetTracker } from './partition-offset-tracker';

describe('PartitionOffsetTracker', () => {
  it('commits next-offset-to-read after each record finished in order', () => {
    const t = new PartitionOffsetTracker();
    expect(t.pendingCommit()).toBeUndefined();
    t.begin('0');
    t.begin('1');
    expect(t.finish('0')).toBe(true);
    expect(t.pendingCommit()).toBe(1n);
    t.finish('1');
    expect(t.pendingCommit()).toBe(2n);
  });

  it('never passes an unfinished record when completions arrive out of order', () => {
    const t = new PartitionOffsetTracker();
    for (const o of [10, 11, 12, 13]) t.begin(String(o));
    expect(t.finish('12')).toBe(false);
    expect(t.finish('11')).toBe(false);
    expect(t.pendingCommit()).toBeUndefined();
    expect(t.firstUnfinished).toBe(10n);
    expect(t.inFlight).toBe(2);
    t.finish('10');
    expect(t.pendingCommit()).toBe(13n);
    expect(t.firstUnfinished).toBe(13n);
    t.finish('13');
    expect(t.pendingCommit()).toBe(14n);
    expect(t.inFlight).toBe(0);
  });

  it('handles gaps in offsets (compaction, transaction markers)', () => {
    const t = new PartitionOffsetTracker();
    t.begin('5');
    t.begin('9');
    t.finish('9');
    expect(t.pendingCommit()).toBeUndefined();
    t.finish('5');
    expect(t.pendingCommit()).toBe(10n);
  });

  it('refuses a redelivered offset it has already begun, finished or not', () => {
    const t = new PartitionOffsetTracker();
    expect(t.begin('0')).toBe(true);
    expect(t.begin('1')).toBe(true);
    t.finish('0');
    expect(t.begin('0')).toBe(false);
    expect(t.begin('1')).toBe(false);
    expect(t.begin('2')).toBe(true);
  });

  it('ignores finishing twice or finishing an offset it never began', () => {
    const t = new PartitionOffsetTracker();
    t.begin('3');
    t.finish('3');
    expect(t.finish('3')).toBe(false);
    expect(t.finish('1')).toBe(false);
    expect(t.pendingCommit()).toBe(4n);
  });

  it('does not let a stale commit acknowledgement move the committed offset back', () => {
    const t = new PartitionOffsetTracker();
    for (let o = 0; o < 5; o++) t.begin(String(o));
    for (let o = 0; o < 5; o++) t.finish(String(o));
    t.markCommitted('5');
    t.markCommitted('3');
    expect(t.committedOffset).toBe(5n);
    expect(t.pendingCommit()).toBeUndefined();
  });

  it('keeps int64 offsets beyond Number.MAX_SAFE_INTEGER exact', () => {
    const t = new PartitionOffsetTracker();
    const base = 9_223_372_036_854_775_800n;
    t.begin(String(base));
    t.begin(String(base + 1n));
    t.finish(String(base + 1n));
    t.finish(String(base));
    expect(t.pendingCommit()).toBe(base + 2n);
    expect(t.pendingCommit()!.toString()).toBe('9223372036854775802');
  });

  it('stays correct over long runs with random completion order', () => {
    const t = new PartitionOffsetTracker();
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const open: number[] = [];
    let next = 0;
    const finished = new Set<number>();
    for (let step = 0; step < 20_000; step++) {
      if (open.length < 50 && random() < 0.6) {
        t.begin(String(next));
        open.push(next++);
      } else if (open.length > 0) {
        const [offset] = open.splice(Math.floor(random() * open.length), 1);
        finished.add(offset);
        t.finish(String(offset));
      }
      let expected = 0;
      while (finished.has(expected)) expected++;
      expect(t.pendingCommit() ?? 0n).toBe(BigInt(expected));
    }
  });

  it('orders offsets of different lengths as numbers, not as text', () => {
    const t = new PartitionOffsetTracker();
    t.begin('9');
    t.begin('10'); // '10' < '9' as text
    expect(t.begin('99')).toBe(true);
    expect(t.begin('100')).toBe(true);
    expect(t.begin('11')).toBe(false);
    t.finish('10');
    t.finish('99');
    t.finish('100');
    expect(t.pendingCommit()).toBeUndefined();
    t.finish('9');
    expect(t.pendingCommit()).toBe(101n);
  });

  it('takes bigint and non-canonical decimal offsets as the same offsets', () => {
    const t = new PartitionOffsetTracker();
    t.begin(7n);
    t.begin('008');
    expect(t.begin('7')).toBe(false);
    expect(t.finish('007')).toBe(true);
    expect(t.finish(8n)).toBe(true);
    expect(t.pendingCommit()).toBe(9n);
    expect(t.firstUnfinished).toBeUndefined();
  });

  it('rejects offsets that are negative or not integers, naming them', () => {
    const t = new PartitionOffsetTracker();
    expect(() => t.begin('-1')).toThrow(/offset -1 is negative/);
    expect(() => t.begin('1.5')).toThrow(SyntaxError);
    expect(() => t.begin('abc')).toThrow(SyntaxError);
  });

  it('compareOffsets agrees with bigint comparison', () => {
    const values = ['0', '1', '9', '10', '11', '99', '100', '9007199254740993', '9223372036854775807'];
    for (const a of values) {
      for (const b of values) {
        const expected = BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
        expect(Math.sign(compareOffsets(a, b))).toBe(expected);
      }
    }
  });

  it('lists the offsets finished above the first unfinished one, and notes when the set changed since the last commit', () => {
    const t = new PartitionOffsetTracker();
    for (let o = 10; o < 16; o++) t.begin(String(o));
    t.finish('10');
    t.finish('13');
    t.finish('15');
    expect(t.finishedAboveWatermark()).toEqual([13n, 15n]);
    expect(t.baseOffset).toBe(11n);
    expect(t.finishedAheadUncommitted).toBe(true);
    t.markCommitted(11n, t.finishedAheadChanges());
    expect(t.finishedAheadUncommitted).toBe(false);
    t.finish('14');
    expect(t.finishedAheadUncommitted).toBe(true);
    expect(t.finishedAboveWatermark()).toEqual([13n, 14n, 15n]);
  });

  it('skips offsets the last owner finished: begun and finished as they arrive, never handed out', () => {
    const t = new PartitionOffsetTracker();
    t.skipFinished([
      [6n, 8n],
      [9n, 10n],
    ]);
    const handedOut = ['5', '6', '7', '8', '9', '10'].filter((o) => t.begin(o));
    expect(handedOut).toEqual(['5', '8', '10']);
    expect(t.skipped).toBe(3);
    t.finish('5');
    expect(t.committableOffset).toBe(8n); // 6 and 7 count as finished
    t.finish('8');
    expect(t.committableOffset).toBe(10n);
    t.finish('10');
    expect(t.committableOffset).toBe(11n);
  });
});
