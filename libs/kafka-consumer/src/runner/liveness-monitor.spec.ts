import { LivenessMonitor, LivenessOptions } from './liveness-monitor';

function monitor(options: Partial<LivenessOptions> = {}) {
  let now = 0;
  const events: string[] = [];
  const liveness = new LivenessMonitor({
    heartbeatIntervalMs: 100,
    maxPollIntervalMs: 1_000,
    staticMember: false,
    heartbeat: () => events.push(`heartbeat@${now}`),
    onStall: () => events.push(`stall@${now}`),
    now: () => now,
    ...options,
  });
  return { liveness, events, at: (ms: number) => (now = ms) };
}

describe('LivenessMonitor', () => {
  it('sends no heartbeat while nothing runs, and one per interval while something does', () => {
    const { liveness, events, at } = monitor();
    at(50);
    liveness.check();
    expect(events).toEqual([]);
    liveness.loopStarted('t 0');
    at(150);
    liveness.check();
    at(200);
    liveness.check();
    at(260);
    liveness.check();
    expect(events).toEqual(['heartbeat@150', 'heartbeat@260']);
  });

  it('keeps a clock per partition: one loop ending does not hide another still running', () => {
    const { liveness, events, at } = monitor();
    liveness.loopStarted('t 0');
    at(100);
    liveness.loopStarted('t 1');
    liveness.loopEnded('t 1');
    at(900);
    liveness.check();
    expect(events).toEqual(['heartbeat@900']);
    at(1_001);
    liveness.check();
    expect(liveness.stalled).toBe(true);
  });

  it('past maxPollIntervalMs stalls once, heartbeats once for the leave, then stays silent', () => {
    const { liveness, events, at } = monitor();
    const record = { startedAt: 0 };
    liveness.recordStarted(record);
    at(1_001);
    liveness.check();
    at(1_500);
    liveness.check();
    expect(events).toEqual(['stall@1001', 'heartbeat@1001']);
    expect(liveness.stalled && liveness.suspended).toBe(true);
  });

  it('a dynamic member stays suspended after the stall until it joins again; waiters wake when the stall ends', async () => {
    const { liveness, at } = monitor();
    const record = { startedAt: 0 };
    liveness.recordStarted(record);
    at(1_001);
    liveness.check();
    let woke = false;
    const waiting = liveness.untilStallEnds().then(() => (woke = true));
    liveness.recordEnded(record);
    at(1_100);
    liveness.check();
    await waiting;
    expect(woke).toBe(true);
    expect(liveness.stalled).toBe(false);
    expect(liveness.suspended).toBe(true);
    liveness.rejoining();
    expect(liveness.suspended).toBe(false);
  });

  it('a static member takes its partitions back as soon as the stall ends', () => {
    const { liveness, at } = monitor({ staticMember: true });
    liveness.loopStarted('t 0');
    at(1_001);
    liveness.check();
    expect(liveness.suspended).toBe(true);
    liveness.loopEnded('t 0');
    liveness.check();
    expect(liveness.suspended).toBe(false);
  });

  it('release() frees whoever waits for a stall (shutdown)', async () => {
    const { liveness, at } = monitor();
    liveness.loopStarted('t 0');
    at(2_000);
    liveness.check();
    const waiting = liveness.untilStallEnds();
    liveness.release();
    await expect(waiting).resolves.toBeUndefined();
  });
});
