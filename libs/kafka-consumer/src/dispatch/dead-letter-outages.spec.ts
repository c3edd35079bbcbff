import { DeadLetterOutages } from './dead-letter-outages';

describe('DeadLetterOutages', () => {
  it('has no stats before any record takes the dead-letter path', () => {
    expect(new DeadLetterOutages().stats()).toBeUndefined();
  });

  it('reports an outage once, however many attempts fail, and ends it with the next write', () => {
    const outages = new DeadLetterOutages();
    outages.waiting();
    outages.waiting();
    expect(outages.attemptFailed('a.DLT', new Error('unknown topic'), 1_000)).toEqual({ topic: 'a.DLT', since: 1_000, error: 'unknown topic' });
    expect(outages.attemptFailed('a.DLT', new Error('still unknown'), 2_000)).toBeUndefined();
    expect(outages.attemptFailed('a.DLT', new Error('still unknown'), 3_000)).toBeUndefined();
    expect(outages.current()).toEqual({ topic: 'a.DLT', since: 1_000, error: 'still unknown' });
    expect(outages.stats()).toEqual({ published: 0, failedAttempts: 3, outages: 1, waiting: 2 });

    expect(outages.published('a.DLT')).toEqual({ topic: 'a.DLT', since: 1_000, error: 'still unknown' });
    outages.settled();
    expect(outages.published('a.DLT')).toBeUndefined();
    outages.settled();
    expect(outages.current()).toBeUndefined();
    expect(outages.stats()).toEqual({ published: 2, failedAttempts: 3, outages: 1, waiting: 0 });

    // A later failure is a new outage, reported again.
    expect(outages.attemptFailed('a.DLT', 'down', 5_000)).toEqual({ topic: 'a.DLT', since: 5_000, error: 'down' });
    expect(outages.stats()?.outages).toBe(2);
  });

  it('keeps outages per topic and names the oldest', () => {
    const outages = new DeadLetterOutages();
    outages.attemptFailed('b.DLT', 'x', 2_000);
    outages.attemptFailed('a.DLT', 'y', 1_000);
    expect(outages.current()?.topic).toBe('a.DLT');
    outages.published('a.DLT');
    expect(outages.current()?.topic).toBe('b.DLT');
  });
});
