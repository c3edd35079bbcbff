import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { laneFor } from './lanes';
import { WorkItem, WorkScheduler } from './work-scheduler';
import { seededRandom as prng } from '../../../../test/support/seeded-random';

/** A promise the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise continuation run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}


const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts running items per lane and in all, and fails on any overlap within a lane. */
class Probe {
  running = 0;
  maxRunning = 0;
  readonly lanesRunning = new Map<string, number>();
  readonly violations: string[] = [];
  readonly started: string[] = [];

  item(partition: string, lane: string, id: string, work: () => Promise<void> = () => Promise.resolve()): WorkItem {
    return {
      partition,
      lane,
      run: async () => {
        this.started.push(id);
        this.running += 1;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        const inLane = (this.lanesRunning.get(lane) ?? 0) + 1;
        this.lanesRunning.set(lane, inLane);
        if (inLane > 1) this.violations.push(`${lane} ran ${inLane} at once (${id})`);
        try {
          await work();
        } finally {
          this.running -= 1;
          this.lanesRunning.set(lane, this.lanesRunning.get(lane)! - 1);
        }
      },
    };
  }
}

describe('laneFor', () => {
  it('uses the partition as the lane in partition mode', () => {
    expect(laneFor('partition', 't 0', 'a', '1')).toBe('t 0');
    expect(laneFor('partition', 't 0', 'b', '2')).toBe('t 0');
  });

  it('gives each key of a partition its own lane and null keys the partition lane', () => {
    const a = laneFor('key', 't 0', 'a', '1');
    expect(laneFor('key', 't 0', 'a', '7')).toBe(a);
    expect(laneFor('key', 't 0', 'b', '1')).not.toBe(a);
    expect(laneFor('key', 't 1', 'a', '1')).not.toBe(a);
    expect(laneFor('key', 't 0', Buffer.from('a'), '1')).toBe(a);
    expect(laneFor('key', 't 0', Buffer.from([0xff, 0x00]), '1')).not.toBe(laneFor('key', 't 0', Buffer.from([0xfe, 0x00]), '1'));
    expect(laneFor('key', 't 0', null, '1')).toBe('t 0');
    expect(laneFor('key', 't 0', undefined, '2')).toBe('t 0');
    // A key equal to a partition key does not share its lane.
    expect(laneFor('key', 't 0', 't 0', '1')).not.toBe('t 0');
  });

  it('gives every record its own lane in unordered mode', () => {
    expect(laneFor('unordered', 't 0', 'a', '1')).not.toBe(laneFor('unordered', 't 0', 'a', '2'));
    expect(laneFor('unordered', 't 0', 'a', 5n)).not.toBe(laneFor('unordered', 't 1', 'a', 5n));
    expect(laneFor('unordered', 't 0', null, 3)).not.toBe('t 0');
  });
});

describe('WorkScheduler', () => {
  it('rejects a concurrency or capacity that is not a positive integer, naming the option', () => {
    expect(() => new WorkScheduler({ concurrency: 0, capacity: 10 })).toThrow(KafkaConsumerConfigError);
    expect(() => new WorkScheduler({ concurrency: 0, capacity: 10 })).toThrow(/concurrency = 0/);
    expect(() => new WorkScheduler({ concurrency: 2, capacity: 1.5 })).toThrow(/capacity = 1.5/);
  });

  it('runs the items of one lane one at a time in submission order', async () => {
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 4, capacity: 100 });
    const gates = Array.from({ length: 5 }, () => deferred());
    gates.forEach((gate, i) => scheduler.submit(probe.item('p', 'lane', `#${i}`, () => gate.promise)));
    expect(probe.started).toEqual(['#0']);
    expect(scheduler.running).toBe(1);
    expect(scheduler.queued()).toBe(4);
    // Finishing out of turn changes nothing: #1 still waits for #0.
    gates[2].resolve();
    await flush();
    expect(probe.started).toEqual(['#0']);
    for (const gate of gates) {
      gate.resolve();
      await flush();
    }
    await scheduler.whenIdle();
    expect(probe.started).toEqual(['#0', '#1', '#2', '#3', '#4']);
    expect(probe.violations).toEqual([]);
  });

  it('runs different lanes in parallel up to concurrency and no further', async () => {
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 3, capacity: 100 });
    const gate = deferred();
    for (let i = 0; i < 6; i++) scheduler.submit(probe.item('p', `lane-${i}`, `#${i}`, () => gate.promise));
    expect(scheduler.running).toBe(3);
    expect(probe.started).toEqual(['#0', '#1', '#2']);
    expect(scheduler.queued()).toBe(3);
    gate.resolve();
    await scheduler.whenIdle();
    expect(probe.maxRunning).toBe(3);
    expect(probe.started).toHaveLength(6);
    expect(scheduler.metrics()).toMatchObject({ queued: 0, running: 0, completed: 6, failed: 0 });
  });

  it('does not let a slow lane block the other lanes', async () => {
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 2, capacity: 100 });
    const slow = deferred();
    scheduler.submit(probe.item('p0', 'slow', 'slow-0', () => slow.promise));
    for (let i = 1; i <= 3; i++) scheduler.submit(probe.item('p0', 'slow', `slow-${i}`));
    for (let i = 0; i < 20; i++) scheduler.submit(probe.item('p1', 'fast', `fast-${i}`));
    await scheduler.whenPartitionIdle('p1');
    expect(probe.started.filter((id) => id.startsWith('fast'))).toHaveLength(20);
    expect(probe.started.filter((id) => id.startsWith('slow'))).toEqual(['slow-0']);
    expect(scheduler.pending('p0')).toBe(4);
    slow.resolve();
    await scheduler.whenIdle();
    expect(probe.started.filter((id) => id.startsWith('slow'))).toEqual(['slow-0', 'slow-1', 'slow-2', 'slow-3']);
  });

  it('keeps each key in order under random async delays while keys run in parallel', async () => {
    const random = prng(42);
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 8, capacity: 1_000 });
    const seen = new Map<string, number[]>();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', null];
    const next = new Map<string | null, number>();
    for (let offset = 0; offset < 300; offset++) {
      const key = keys[Math.floor(random() * keys.length)];
      const seq = next.get(key) ?? 0;
      next.set(key, seq + 1);
      const delay = Math.floor(random() * 3);
      const lane = laneFor('key', 'orders 0', key, offset);
      scheduler.submit(
        probe.item('orders 0', lane, `${key}:${seq}`, async () => {
          await sleep(delay);
          const list = seen.get(String(key)) ?? [];
          list.push(seq);
          seen.set(String(key), list);
        }),
      );
    }
    await scheduler.whenIdle();
    expect(probe.violations).toEqual([]);
    expect(probe.maxRunning).toBeGreaterThan(1);
    expect(probe.maxRunning).toBeLessThanOrEqual(8);
    for (const [key, list] of seen) {
      expect({ key, list }).toEqual({ key, list: Array.from({ length: next.get(key === 'null' ? null : key)! }, (_, i) => i) });
    }
  });

  it('runs unordered records of one partition up to concurrency at once', async () => {
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 5, capacity: 100 });
    const gate = deferred();
    for (let offset = 0; offset < 12; offset++) {
      scheduler.submit(probe.item('p', laneFor('unordered', 'p', 'same-key', offset), `#${offset}`, () => gate.promise));
    }
    expect(scheduler.running).toBe(5);
    expect(scheduler.partitionMetrics('p')).toEqual({ queued: 7, running: 5, completed: 0, failed: 0, dropped: 0 });
    gate.resolve();
    await scheduler.whenIdle();
    expect(probe.maxRunning).toBe(5);
    expect(scheduler.partitionMetrics('p')!.completed).toBe(12);
  });

  it('bounds queued + running by capacity and wakes waitForCapacity when a slot frees', async () => {
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 3 });
    const gates = Array.from({ length: 3 }, () => deferred());
    gates.forEach((gate) => scheduler.submit({ partition: 'p', lane: 'p', run: () => gate.promise }));
    expect(scheduler.size).toBe(3);
    expect(scheduler.isFull()).toBe(true);
    expect(() => scheduler.submit({ partition: 'p', lane: 'p', run: async () => undefined })).toThrow(/full \(capacity 3\)/);
    let woke = false;
    const waiting = scheduler.waitForCapacity().then(() => (woke = true));
    await flush();
    expect(woke).toBe(false);
    gates[0].resolve();
    await waiting;
    expect(scheduler.isFull()).toBe(false);
    expect(scheduler.size).toBe(2);
    await expect(scheduler.waitForCapacity()).resolves.toBeUndefined();
    gates[1].resolve();
    gates[2].resolve();
    await scheduler.whenIdle();
  });

  it('waitForCapacity(room) wakes only once that many slots are free', async () => {
    const scheduler = new WorkScheduler({ concurrency: 4, capacity: 4 });
    const gates = Array.from({ length: 4 }, () => deferred());
    gates.forEach((gate, i) => scheduler.submit({ partition: 'p', lane: `l${i}`, run: () => gate.promise }));
    let one = false;
    let three = false;
    void scheduler.waitForCapacity(1).then(() => (one = true));
    void scheduler.waitForCapacity(3).then(() => (three = true));
    gates[0].resolve();
    await flush();
    expect([one, three]).toEqual([true, false]);
    gates[1].resolve();
    await flush();
    expect(three).toBe(false);
    gates[2].resolve();
    await flush();
    expect(three).toBe(true);
    let all = false;
    void scheduler.waitForCapacity(99).then(() => (all = true)); // more than the capacity: waits for all of it
    await flush();
    expect(all).toBe(false);
    gates[3].resolve();
    await scheduler.whenIdle();
    await flush();
    expect(all).toBe(true);
  });

  it('submitWhenRoom lets several producers share the capacity without overfilling it', async () => {
    const scheduler = new WorkScheduler({ concurrency: 2, capacity: 4 });
    let maxSize = 0;
    const item = (partition: string): WorkItem => ({
      partition,
      lane: partition,
      run: async () => {
        maxSize = Math.max(maxSize, scheduler.size);
        await sleep(1);
      },
    });
    const producer = async (partition: string) => {
      for (let i = 0; i < 20; i++) await scheduler.submitWhenRoom(item(partition));
    };
    await Promise.all([producer('a'), producer('b'), producer('c')]);
    await scheduler.whenIdle();
    expect(maxSize).toBeLessThanOrEqual(4);
    expect(scheduler.metrics().completed).toBe(60);
  });

  it('names the partitions at or over their fair share of capacity', () => {
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 8 });
    const never = new Promise<void>(() => undefined);
    const submit = (partition: string, n: number) => {
      for (let i = 0; i < n; i++) scheduler.submit({ partition, lane: partition, run: () => never });
    };
    expect(scheduler.fairShare()).toBe(8);
    expect(scheduler.partitionsOverShare()).toEqual([]);
    submit('hot', 6);
    submit('cold-1', 1);
    submit('cold-2', 1);
    expect(scheduler.isFull()).toBe(true);
    expect(scheduler.fairShare()).toBeCloseTo(8 / 3);
    expect(scheduler.partitionsOverShare()).toEqual(['hot']);
    expect(scheduler.queued('hot')).toBe(5);
    expect(scheduler.pending('hot')).toBe(6);
    expect(scheduler.queued('cold-1')).toBe(1);
  });

  it('past capacity admits only partitions under their share, up to twice the capacity', () => {
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 4 });
    const never = new Promise<void>(() => undefined);
    const submit = (partition: string) => scheduler.submit({ partition, lane: partition, run: () => never });
    for (let i = 0; i < 4; i++) submit('stuck');
    expect(scheduler.isFull()).toBe(true);
    expect(scheduler.idleWorkers).toBe(0);
    expect(scheduler.admits('stuck')).toBe(false);
    expect(() => submit('stuck')).toThrow(/full \(capacity 4\)/);
    // 'other' has nothing pending: under its share (4 / 1 active partition).
    expect(scheduler.admits('other')).toBe(true);
    submit('other');
    submit('other');
    // Shares are now 4 / 2 = 2: 'other' holds 2, so it is at its share.
    expect(scheduler.admits('other')).toBe(false);
    submit('third');
    submit('third'); // share 4 / 3, third held 1 < 1.33
    expect(scheduler.admits('third')).toBe(false);
    expect(scheduler.size).toBe(8);
    // Twice the capacity is the hard bound, whatever the shares.
    expect(scheduler.admits('fourth')).toBe(false);
  });

  it('dropQueued removes only the not-yet-started items of a partition', async () => {
    const probe = new Probe();
    const scheduler = new WorkScheduler({ concurrency: 2, capacity: 100 });
    const gate = deferred();
    for (let i = 0; i < 4; i++) scheduler.submit(probe.item('revoked', 'revoked', `r${i}`, () => gate.promise));
    for (let i = 0; i < 4; i++) scheduler.submit(probe.item('kept', 'kept', `k${i}`, () => gate.promise));
    expect(scheduler.dropQueued('revoked')).toBe(3);
    expect(scheduler.dropQueued('revoked')).toBe(0);
    expect(scheduler.partitionMetrics('revoked')).toEqual({ queued: 0, running: 1, completed: 0, failed: 0, dropped: 3 });
    let revokedIdle = false;
    const idle = scheduler.whenPartitionIdle('revoked').then(() => (revokedIdle = true));
    await flush();
    expect(revokedIdle).toBe(false);
    gate.resolve();
    await idle;
    await scheduler.whenIdle();
    expect(probe.started.filter((id) => id.startsWith('r'))).toEqual(['r0']);
    expect(probe.started.filter((id) => id.startsWith('k'))).toEqual(['k0', 'k1', 'k2', 'k3']);
    // The lane works again after a drop (the partition may come back).
    scheduler.submit(probe.item('revoked', 'revoked', 'r-again'));
    await scheduler.whenIdle();
    expect(probe.started).toContain('r-again');
  });

  it('dropQueued without a partition empties the whole queue and wakes capacity waiters', async () => {
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 3 });
    const gate = deferred();
    const ran: string[] = [];
    for (const p of ['a', 'b', 'c']) scheduler.submit({ partition: p, lane: p, run: () => (ran.push(p), gate.promise) });
    const room = scheduler.waitForCapacity();
    expect(scheduler.dropQueued()).toBe(2);
    await room;
    expect(scheduler.size).toBe(1);
    gate.resolve();
    await scheduler.whenIdle();
    expect(ran).toEqual(['a']);
    expect(scheduler.metrics()).toMatchObject({ completed: 1, dropped: 2 });
  });

  it('whenPartitionIdle waits for queued and running items of that partition only', async () => {
    const scheduler = new WorkScheduler({ concurrency: 4, capacity: 100 });
    await expect(scheduler.whenPartitionIdle('unknown')).resolves.toBeUndefined();
    const a = deferred();
    const b = deferred();
    scheduler.submit({ partition: 'a', lane: 'a', run: () => a.promise });
    scheduler.submit({ partition: 'a', lane: 'a', run: async () => undefined });
    scheduler.submit({ partition: 'b', lane: 'b', run: () => b.promise });
    let aIdle = false;
    let allIdle = false;
    const waitA = scheduler.whenPartitionIdle('a').then(() => (aIdle = true));
    const waitAll = scheduler.whenIdle().then(() => (allIdle = true));
    a.resolve();
    await waitA;
    expect(aIdle).toBe(true);
    expect(scheduler.pending('a')).toBe(0);
    await flush();
    expect(allIdle).toBe(false);
    b.resolve();
    await waitAll;
    expect(allIdle).toBe(true);
  });

  it('counts a rejected or throwing run, reports it to onError and keeps going', async () => {
    const errors: Array<{ error: unknown; partition: string }> = [];
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 10, onError: (error, item) => errors.push({ error, partition: item.partition }) });
    const ran: number[] = [];
    scheduler.submit({ partition: 'p', lane: 'p', run: () => Promise.reject(new Error('boom')) });
    scheduler.submit({
      partition: 'p',
      lane: 'p',
      run: () => {
        throw new Error('sync boom');
      },
    });
    scheduler.submit({ partition: 'p', lane: 'p', run: async () => void ran.push(3) });
    await scheduler.whenIdle();
    expect(ran).toEqual([3]);
    expect(errors.map((e) => (e.error as Error).message)).toEqual(['boom', 'sync boom']);
    expect(scheduler.partitionMetrics('p')).toEqual({ queued: 0, running: 0, completed: 3, failed: 2, dropped: 0 });
  });

  it('survives an onError callback that throws, and works without one', async () => {
    const noisy = new WorkScheduler({
      concurrency: 1,
      capacity: 10,
      onError: () => {
        throw new Error('callback failed');
      },
    });
    const quiet = new WorkScheduler({ concurrency: 1, capacity: 10 });
    for (const scheduler of [noisy, quiet]) {
      let ran = false;
      scheduler.submit({ partition: 'p', lane: 'p', run: () => Promise.reject(new Error('boom')) });
      scheduler.submit({ partition: 'p', lane: 'p', run: async () => void (ran = true) });
      await scheduler.whenIdle();
      expect(ran).toBe(true);
      expect(scheduler.metrics().failed).toBe(1);
    }
  });

  it('picks up items submitted synchronously from inside a running item', async () => {
    const scheduler = new WorkScheduler({ concurrency: 2, capacity: 10 });
    const order: string[] = [];
    scheduler.submit({
      partition: 'p',
      lane: 'x',
      run: () => {
        order.push('outer');
        scheduler.submit({ partition: 'p', lane: 'y', run: async () => void order.push('inner') });
        return Promise.resolve();
      },
    });
    await scheduler.whenIdle();
    expect(order).toEqual(['outer', 'inner']);
  });

  it('forgets the counters of an idle partition only', async () => {
    const scheduler = new WorkScheduler({ concurrency: 1, capacity: 10 });
    const gate = deferred();
    scheduler.submit({ partition: 'p', lane: 'p', run: () => gate.promise });
    expect(scheduler.forgetPartition('p')).toBe(false);
    gate.resolve();
    await scheduler.whenIdle();
    expect(scheduler.forgetPartition('p')).toBe(true);
    expect(scheduler.partitionMetrics('p')).toBeUndefined();
    expect(Object.keys(scheduler.metrics().partitions)).toEqual([]);
  });

  it.each([1, 2, 3, 4, 5])('keeps every invariant with random lanes, delays, failures and drops (seed %i)', async (seed) => {
    const random = prng(seed);
    const concurrency = 1 + Math.floor(random() * 6);
    const capacity = concurrency + Math.floor(random() * 20);
    const failures: unknown[] = [];
    const scheduler = new WorkScheduler({ concurrency, capacity, onError: (error) => failures.push(error) });
    const probe = new Probe();
    const partitions = ['t 0', 't 1', 't 2'];
    const orders = ['partition', 'key', 'unordered'] as const;
    const submittedPerLane = new Map<string, number[]>();
    const finishedPerLane = new Map<string, number[]>();
    const droppedIds = new Set<string>();
    let maxSize = 0;
    let expectedFailures = 0;
    let submitted = 0;
    let dropped = 0;

    for (let offset = 0; offset < 400; offset++) {
      const partition = partitions[Math.floor(random() * partitions.length)];
      const ordering = orders[partitions.indexOf(partition)];
      const key = random() < 0.1 ? null : `k${Math.floor(random() * 4)}`;
      const lane = laneFor(ordering, partition, key, offset);
      const seq = (submittedPerLane.get(lane) ?? []).length;
      submittedPerLane.set(lane, [...(submittedPerLane.get(lane) ?? []), seq]);
      const delay = random() < 0.5 ? 0 : Math.floor(random() * 3);
      const fails = random() < 0.05;
      if (fails) expectedFailures += 1;
      const id = `${lane}#${seq}`;
      await scheduler.submitWhenRoom(
        probe.item(partition, lane, id, async () => {
          if (delay > 0) await sleep(delay);
          else await Promise.resolve();
          finishedPerLane.set(lane, [...(finishedPerLane.get(lane) ?? []), seq]);
          if (fails) throw new Error(`fail ${id}`);
        }),
      );
      submitted += 1;
      maxSize = Math.max(maxSize, scheduler.size);
      if (random() < 0.01) {
        // Revocation: queued items of one partition never start.
        const victim = partitions[Math.floor(random() * partitions.length)];
        const queuedBefore = scheduler.queued(victim);
        const count = scheduler.dropQueued(victim);
        expect(count).toBe(queuedBefore);
        dropped += count;
        for (const [laneKey, seqs] of submittedPerLane) {
          for (const s of seqs) if (!probe.started.includes(`${laneKey}#${s}`) && laneKey.startsWith(victim)) droppedIds.add(`${laneKey}#${s}`);
        }
      }
    }
    await scheduler.whenIdle();

    expect(probe.violations).toEqual([]);
    expect(probe.maxRunning).toBeLessThanOrEqual(concurrency);
    expect(maxSize).toBeLessThanOrEqual(capacity);
    const metrics = scheduler.metrics();
    expect(metrics.completed + metrics.dropped).toBe(submitted);
    expect(metrics.dropped).toBe(dropped);
    expect(metrics.queued + metrics.running).toBe(0);
    expect(probe.started).toHaveLength(submitted - dropped);
    for (const id of droppedIds) expect(probe.started).not.toContain(id);
    // Each lane finished its started items in ascending submission order.
    for (const [lane, seqs] of finishedPerLane) {
      expect({ lane, ascending: seqs.every((s, i) => i === 0 || s > seqs[i - 1]) }).toEqual({ lane, ascending: true });
    }
    const perPartition = Object.values(metrics.partitions).reduce((sum, p) => sum + p.completed + p.dropped, 0);
    expect(perPartition).toBe(submitted);
    expect(metrics.failed).toBe(failures.length);
    expect(failures.length).toBeLessThanOrEqual(expectedFailures);
  });
});
