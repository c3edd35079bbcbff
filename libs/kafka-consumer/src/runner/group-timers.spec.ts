import { GroupTimers } from './group-timers';

describe('GroupTimers', () => {
  it('logs a failing run (thrown or rejected) and keeps running; clear stops every timer', async () => {
    const errors: string[] = [];
    const timers = new GroupTimers('g', { log: () => undefined, warn: () => undefined, error: (m: string) => void errors.push(m) });
    let runs = 0;
    timers.every('tick', 5, () => {
      runs++;
      throw new Error('boom');
    });
    timers.every('refresh', 5, () => Promise.reject(new Error('metadata')));
    await new Promise((resolve) => setTimeout(resolve, 40));
    timers.clear();
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBe(after);
    expect(runs).toBeGreaterThan(1);
    expect(errors).toContain('group g: tick failed: boom');
    expect(errors).toContain('group g: refresh failed: metadata');
  });
});
