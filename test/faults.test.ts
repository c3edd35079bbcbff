import { Injectable } from '@nestjs/common';
import { KafkaHandler, KafkaMessageContext } from '../libs/kafka-consumer/src';
import { ApiKey, KafkaErrorCode } from '../tools/mock-broker/mock-broker';
import { KafkaTestKit, numbered, waitFor } from './support/kafka-test-kit';
import { itOnKafka } from './support/on-kafka';

/** Injected broker faults: the consumer recovers, loses nothing, and commits never go backwards. */
describe('fault injection (test broker)', () => {
  let kit: KafkaTestKit;

  afterEach(async () => {
    await kit?.close();
  });

  function consumer(topic: string, groupId: string, seen: Set<string>, delayMs = 0, sync = false) {
    @Injectable()
    class Consumer {
      @KafkaHandler(topic, { groupId, commit: { mode: 'record', sync } })
      async handle(_v: unknown, ctx: KafkaMessageContext) {
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
        seen.add(`${ctx.partition}/${ctx.offset}`);
      }
    }
    return Consumer;
  }

  it('retries OffsetCommit after COORDINATOR_NOT_AVAILABLE ×3 and commits the end offsets', async () => {
    kit = await KafkaTestKit.start({ broker: 'mock', topics: { t1: 2 } });
    const seen = new Set<string>();
    await kit.produce('t1', numbered(100));
    await kit.startApp({}, [consumer('t1', 'g1', seen, 2, true)]);
    await waitFor(() => seen.size >= 10, 30_000, 'consumption to start');
    const code = KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    await kit.mock.pushErrors(ApiKey.OffsetCommit, [code, code, code]);
    await waitFor(() => seen.size === 100, 30_000, 'every record');
    const ends = await kit.endOffsets('t1');
    await waitFor(async () => JSON.stringify(await kit.committed('g1', 't1')) === JSON.stringify(ends), 15_000, 'commits after the injected errors');
  });

  itOnKafka('kill -9 of the broker process')('recovers when the broker process is killed (kill -9) and restarted on its data, losing no record', async () => {
    kit = await KafkaTestKit.start({ topics: { t2: 3 } });
    const seen = new Set<string>();
    await kit.produce('t2', numbered(150));
    await kit.startApp({}, [consumer('t2', 'g2', seen, 5)]);
    await waitFor(() => seen.size >= 30, 30_000, 'consumption to start');
    const broker = kit.kafkaBroker;
    await broker.kill(1, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    await broker.restart(1);
    await kit.produce('t2', numbered(50, 'k', 150));
    await waitFor(() => seen.size === 200, 60_000, 'every record after the outage');
    const ends = await kit.endOffsets('t2');
    await waitFor(async () => JSON.stringify(await kit.committed('g2', 't2')) === JSON.stringify(ends), 30_000, 'commits after the outage');
  });

  it('never moves a committed offset backwards when commits are slow and asynchronous', async () => {
    kit = await KafkaTestKit.start({ broker: 'mock', topics: { t3: 1 } });
    await kit.mock.setCoordinator('group', 'g3', 1);
    // Slow OffsetCommit responses from the coordinator: many async commits pile up behind each other.
    await kit.mock.pushBrokerErrors(1, ApiKey.OffsetCommit, Array.from({ length: 20 }, (_, i) => ({ error: 0, rttMs: i % 2 ? 300 : 20 })));
    const seen = new Set<string>();
    await kit.produce('t3', numbered(300));
    await kit.startApp({}, [consumer('t3', 'g3', seen, 1, false)]);
    const samples: number[] = [];
    const ends = await kit.endOffsets('t3');
    await waitFor(async () => {
      samples.push((await kit.committed('g3', 't3'))[0]);
      return samples[samples.length - 1] === ends[0];
    }, 60_000, 'the end offset to be committed');
    for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeGreaterThanOrEqual(samples[i - 1]);
    expect(new Set(samples).size).toBeGreaterThan(2); // commits happened along the way, not only at the end
    expect(seen.size).toBe(300);
  });
});
