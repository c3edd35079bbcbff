import { FetchLoopHeartbeat } from './fetch-loop-heartbeat';

const loop = (heartbeat: () => Promise<void>) => ({ heartbeat, resolveOffset: () => undefined, isRunning: () => true });

describe('FetchLoopHeartbeat', () => {
  it('is due at most every interval', async () => {
    const beats: number[] = [];
    const hb = new FetchLoopHeartbeat(60_000, async () => undefined);
    expect(hb.due()).toBe(true);
    await hb.beat(loop(async () => void beats.push(1)));
    expect(hb.due()).toBe(false);
    expect(beats).toEqual([1]);
  });

  it('after a generation ended: due at once, and the beat throws that error without asking the client', async () => {
    const hb = new FetchLoopHeartbeat(60_000, async () => undefined);
    await hb.beat(loop(async () => undefined));
    const ended = new Error('REBALANCE_IN_PROGRESS');
    hb.generationEnded(ended);
    expect([hb.due(), hb.mustRejoin]).toEqual([true, true]);
    let asked = false;
    await expect(hb.beat(loop(async () => void (asked = true)))).rejects.toBe(ended);
    expect(asked).toBe(false);
    hb.generationEnded(ended);
    hb.joined();
    expect(hb.mustRejoin).toBe(false);
  });

  it('commits what finished before a heartbeat error reaches the client', async () => {
    const order: string[] = [];
    const hb = new FetchLoopHeartbeat(1, async () => void order.push('commit'));
    const rebalance = new Error('rebalancing');
    await expect(hb.beat(loop(async () => Promise.reject(rebalance)))).rejects.toBe(rebalance);
    expect(order).toEqual(['commit']);
  });
});
