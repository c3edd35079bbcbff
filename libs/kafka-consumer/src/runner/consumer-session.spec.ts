import { ConsumerSession } from './consumer-session';

const logger = () => {
  const errors: string[] = [];
  return { errors, logger: { log: () => undefined, error: (m: string) => void errors.push(m), warn: () => undefined } };
};
const noDeadLetters = { stats: () => undefined, outage: () => undefined };

function session(fenced = false) {
  const log = logger();
  const s = new ConsumerSession({ groupId: 'g', groupInstanceId: 'pod-1', engineName: () => 'kafkajs', errors: { isFenced: () => fenced }, logger: log.logger });
  return { s, log };
}

describe('ConsumerSession', () => {
  it('goes restarting on a crash the client restarts from, and running again after the next join', () => {
    const { s, log } = session();
    expect(s.status(noDeadLetters).state).toBe('running');
    s.crashed(new Error('connection reset'), true);
    expect(s.status(noDeadLetters)).toEqual({ groupId: 'g', state: 'restarting', error: 'connection reset' });
    expect(log.errors).toEqual(['group g: consumer crashed (connection reset); kafkajs restarts it']);
    s.rejoined({ memberId: 'm2', generationId: 7, assignment: { t: [0] } });
    expect(s.status(noDeadLetters).state).toBe('running');
    expect(s.membership(['t 0'])).toEqual({ groupId: 'g', memberId: 'm2', generationId: 7, groupInstanceId: 'pod-1', assignment: ['t 0'] });
  });

  it('stays failed after a crash without restart; a fenced member is told the fix', () => {
    const { s } = session(true);
    s.crashed(new Error('FENCED_INSTANCE_ID'), false);
    s.rejoined({ memberId: 'm', generationId: 1, assignment: {} });
    const status = s.status(noDeadLetters);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/another live member uses groupInstanceId "pod-1".*Give every member its own groupInstanceId/);
  });

  it('is degraded while a dead-letter topic cannot be written, and stopped once stopping, keeping the counts', () => {
    const { s } = session();
    const stats = { published: 1, failedAttempts: 4, outages: 1, waiting: 2 };
    const outage = { topic: 'orders.DLT', since: Date.UTC(2026, 0, 1), error: 'UNKNOWN_TOPIC_OR_PARTITION' };
    const status = s.status({ stats: () => stats, outage: () => outage });
    expect(status.state).toBe('degraded');
    expect(status.error).toBe('dead-letter topic orders.DLT cannot be written since 2026-01-01T00:00:00.000Z (UNKNOWN_TOPIC_OR_PARTITION); 2 record(s) and their partitions wait for it');
    expect(status.deadLetters).toEqual(stats);
    s.stopping = true;
    expect(s.status({ stats: () => stats, outage: () => outage })).toEqual({ groupId: 'g', state: 'stopped', deadLetters: stats });
  });

  it('drains: resolves true once the running batches end, false when one outlives the bound', async () => {
    const { s } = session();
    await expect(s.drained(10)).resolves.toBe(true);
    s.batchStarted();
    s.batchStarted();
    const drained = s.drained(1_000);
    s.batchEnded();
    setTimeout(() => s.batchEnded(), 5);
    await expect(drained).resolves.toBe(true);
    s.batchStarted();
    await expect(s.drained(20)).resolves.toBe(false);
  });
});
