import { readFileSync } from 'fs';
import { join } from 'path';
import {
  carryGroupInstanceId,
  EXTENSION,
  installConsumerGroupExtension,
  isSupportedKafkajsVersion,
  SUPPORTED_KAFKAJS,
  withGroupInstanceId,
} from './consumer-group-extension';

/* eslint-disable @typescript-eslint/no-require-imports */
const Broker = require('kafkajs/src/broker');
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup');
const { requests } = require('kafkajs/src/protocol/requests');
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys');

/** A kafkajs Broker whose requests are encoded with kafkajs's own encoders and captured, not sent. */
function capturingBroker(versions: Record<number, number>) {
  const sent: Buffer[] = [];
  const broker = Object.create(Broker.prototype);
  broker.lookupRequest = (apiKey: number, definition: { protocol(args: { version: number }): unknown }) =>
    definition.protocol({ version: versions[apiKey] });
  const sendRequest = Object.getOwnPropertySymbols(Broker.prototype).find((s) => s.description === 'private:Broker:sendRequest')!;
  broker[sendRequest] = async ({ request }: { request: { encode(): Promise<{ buffer: Buffer }> } }) => {
    sent.push((await request.encode()).buffer);
    return { generationId: 1, leaderId: 'm', memberId: 'm', members: [], groupProtocol: 'x', memberAssignment: Buffer.alloc(0) };
  };
  return { broker, sent };
}

describe('consumer group extension', () => {
  beforeAll(() => installConsumerGroupExtension());

  it('accepts at run time exactly the kafkajs versions the peer dependency declares', () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'package.json'), 'utf8'));
    expect(manifest.peerDependencies.kafkajs).toBe(SUPPORTED_KAFKAJS.range);
    // ~2.2.0 means >=2.2.0 <2.3.0, releases only.
    for (const version of ['2.2.0', '2.2.4', '2.2.17']) expect([version, isSupportedKafkajsVersion(version)]).toEqual([version, true]);
    for (const version of ['2.1.9', '2.3.0', '3.0.0', '2.2.5-beta.1', '12.2.0']) expect([version, isSupportedKafkajsVersion(version)]).toEqual([version, false]);
  });

  it('is idempotent and leaves unextended calls alone', () => {
    expect(() => installConsumerGroupExtension()).not.toThrow();
    expect(requests.JoinGroup).toBeDefined();
  });

  it('puts group.instance.id on JoinGroup v5, SyncGroup v3 and Heartbeat v3 of a static member only', async () => {
    const { broker, sent } = capturingBroker({ [apiKeys.JoinGroup]: 5, [apiKeys.SyncGroup]: 3, [apiKeys.Heartbeat]: 3 });
    const join = { groupId: 'g', sessionTimeout: 6000, rebalanceTimeout: 10000, memberId: 'm', groupProtocols: [{ name: 'x', metadata: Buffer.alloc(0) }] };
    const staticMember = withGroupInstanceId(broker, 'ledger-a');
    await staticMember.joinGroup(join);
    await staticMember.syncGroup({ groupId: 'g', generationId: 1, memberId: 'm', groupAssignment: [] });
    await staticMember.heartbeat({ groupId: 'g', groupGenerationId: 1, memberId: 'm' });
    await broker.joinGroup(join); // the same broker, used by a dynamic member
    expect(sent).toHaveLength(4);
    for (const request of sent.slice(0, 3)) expect(request.includes(Buffer.from('ledger-a'))).toBe(true);
    expect(sent[3].includes(Buffer.from('ledger-a'))).toBe(false);
    // The view swaps lookupRequest only for the duration of the call, and reads and writes the broker itself.
    expect(Object.hasOwn(broker, 'lookupRequest')).toBe(true);
    staticMember.someState = 1;
    expect(broker.someState).toBe(1);
    expect(staticMember.lookupRequest).toBe(broker.lookupRequest);
  });

  it('a static member reaches every coordinator it is given through the view, without wrapping twice', async () => {
    const { broker, sent } = capturingBroker({ [apiKeys.Heartbeat]: 3 });
    const group = Object.create(ConsumerGroup.prototype);
    group.coordinator = null;
    carryGroupInstanceId(group, 'ledger-b');
    carryGroupInstanceId(group, 'ledger-b');
    group.coordinator = broker; // what kafkajs does on each join
    await group.coordinator.heartbeat({ groupId: 'g', groupGenerationId: 1, memberId: 'm' });
    group.coordinator = group.coordinator; // a view given back is not wrapped again
    await group.coordinator.heartbeat({ groupId: 'g', groupGenerationId: 1, memberId: 'm' });
    expect(sent).toHaveLength(2);
    for (const request of sent) expect(request.toString('latin1').split('ledger-b')).toHaveLength(2);
  });

  it('a static member does not send LeaveGroup; a dynamic one does', async () => {
    const leaveGroup = jest.fn(async () => undefined);
    const group = (extension?: object) => {
      const g = Object.create(ConsumerGroup.prototype);
      Object.assign(g, { groupId: 'g', memberId: 'm', coordinator: { leaveGroup }, assigners: [extension ? { [EXTENSION]: extension } : {}] });
      return g;
    };
    const staticGroup = group({ groupInstanceId: 'ledger-a' });
    await staticGroup.leave();
    expect(leaveGroup).not.toHaveBeenCalled();
    expect(staticGroup.memberId).toBeNull();
    await group().leave();
    expect(leaveGroup).toHaveBeenCalledWith({ groupId: 'g', memberId: 'm' });
  });
});
