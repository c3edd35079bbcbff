import { Backpressure } from './backpressure';

function controlled(failResume = false) {
  const calls: string[] = [];
  const backpressure = new Backpressure({
    pause: (keys) => calls.push(`pause ${keys.join(',')}`),
    resume: (keys) => {
      if (failResume) throw new Error('Consumer group was not initialized');
      calls.push(`resume ${keys.join(',')}`);
    },
  });
  return { backpressure, calls };
}

describe('Backpressure', () => {
  it('pauses each partition once and records it only once the client took the pause', () => {
    const { backpressure, calls } = controlled();
    backpressure.pause(['t 0']);
    backpressure.pause(['t 0', 't 1']);
    expect(calls).toEqual(['pause t 0', 'pause t 1']);
    expect(backpressure.isPaused('t 1')).toBe(true);
    const refusing = new Backpressure({ pause: () => { throw new Error('not running'); }, resume: () => undefined });
    expect(() => refusing.pause(['t 0'])).toThrow('not running');
    expect(refusing.isPaused('t 0')).toBe(false);
  });

  it('resumes drained partitions it still owns, forgets drained ones it gave up', () => {
    const { backpressure, calls } = controlled();
    backpressure.pause(['t 0', 't 1', 't 2']);
    const resumed = backpressure.resumeWhere((key) => key !== 't 2', (key) => key === 't 0');
    expect(resumed).toEqual(['t 0']);
    expect(calls).toEqual(['pause t 0,t 1,t 2', 'resume t 0']);
    expect(backpressure.size).toBe(1);
  });

  it('forgets pauses without resuming while shutting down', () => {
    const { backpressure, calls } = controlled();
    backpressure.pause(['t 0']);
    expect(backpressure.resumeWhere(() => true, () => true, false)).toEqual([]);
    expect(calls).toEqual(['pause t 0']);
    expect(backpressure.size).toBe(0);
  });

  it('never throws from a resume the client refuses (a crash tearing it down), and forgets the pause', () => {
    const { backpressure } = controlled(true);
    backpressure.pause(['t 0', 't 1']);
    expect(() => backpressure.resumeWhere(() => true, () => true)).not.toThrow();
    expect(() => backpressure.release(['t 1'])).not.toThrow();
    expect(backpressure.size).toBe(0);
  });
});
