import { CommitSchedule } from './commit-schedule';

const policy = (mode: 'auto' | 'record' | 'batch' | 'manual', intervalMs = 0, everyRecords = 0) => ({ mode, sync: false, intervalMs, everyRecords });

describe('CommitSchedule', () => {
  it('record: after every record', () => {
    const s = new CommitSchedule(policy('record'), 0);
    expect(s.recordFinished(false)).toBe(true);
  });

  it('batch: only at the end of a batch', () => {
    const s = new CommitSchedule(policy('batch'), 0);
    expect(s.recordFinished(false)).toBe(false);
    expect(s.batchFinished(false)).toBe(true);
  });

  it('manual: only when the handler acknowledged', () => {
    const s = new CommitSchedule(policy('manual'), 0);
    expect(s.recordFinished(false)).toBe(false);
    expect(s.batchFinished(false)).toBe(false);
    expect(s.recordFinished(true)).toBe(true);
    expect(s.batchFinished(true)).toBe(true);
  });

  it('auto by count: every N records, counted from the last commit', () => {
    const s = new CommitSchedule(policy('auto', 0, 3), 0);
    expect([s.recordFinished(false), s.recordFinished(false), s.recordFinished(false)]).toEqual([false, false, true]);
    s.committed(10);
    expect(s.recordFinished(false)).toBe(false);
  });

  it('auto by interval: due once the interval passed and something finished', () => {
    const s = new CommitSchedule(policy('auto', 1000), 0);
    expect(s.due(5000)).toBe(false); // nothing finished yet
    s.recordFinished(false);
    expect(s.due(999)).toBe(false);
    expect(s.due(1000)).toBe(true);
    s.committed(1000);
    expect(s.due(2500)).toBe(false);
  });

  it('keeps records that finished while a commit was in flight pending for the next interval', () => {
    const schedule = new CommitSchedule({ mode: 'auto', sync: false, intervalMs: 1000, everyRecords: 0 }, 0);
    schedule.recordFinished(false);
    schedule.recordFinished(false);
    const carried = schedule.pendingRecords;
    schedule.recordFinished(false); // a worker finished during the commit
    schedule.committed(1000, carried);
    expect(schedule.due(1500)).toBe(false);
    expect(schedule.due(2000)).toBe(true);
  });
});
