import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { KAFKAJS_CAPABILITIES } from './kafkajs/kafkajs-engine';
import { checkEngineSupports, EngineCapabilities } from './consumer-engine';

const none: EngineCapabilities = {
  customAssignors: false,
  staticMembership: false,
  nativeCooperative: false,
  commitMetadata: false,
  standaloneAssignment: false,
  kip848: false,
  enforcesPollInterval: false,
  assignmentStrategies: ['range', 'roundrobin', 'sticky', 'cooperative-sticky'],
};
const engine = (capabilities: Partial<EngineCapabilities>) => ({ name: 'limited', capabilities: { ...none, customAssignors: true, ...capabilities } });
const wants = { groupId: 'billing', standalone: false, assignmentStrategy: 'cooperative-sticky' };

describe('checkEngineSupports', () => {
  it('accepts every option on kafkajs with the module extension', () => {
    expect(() =>
      checkEngineSupports({ name: 'kafkajs', capabilities: KAFKAJS_CAPABILITIES }, { ...wants, groupInstanceId: 'b-1', standalone: true }),
    ).not.toThrow();
  });

  it('refuses at startup what an engine cannot do, naming the option, its group and the engine', () => {
    const staticMember = () => checkEngineSupports(engine({}), { ...wants, groupInstanceId: 'b-1' });
    expect(staticMember).toThrow(KafkaConsumerConfigError);
    expect(staticMember).toThrow(/groups\.billing\.groupInstanceId = "b-1": needs static membership, which the limited engine does not support/);
    expect(() => checkEngineSupports(engine({}), { ...wants, standalone: true })).toThrow(/groups\.billing\.standalone = true: needs standalone assignment/);
    const native = engine({ customAssignors: false, nativeCooperative: true, assignmentStrategies: ['range', 'roundrobin', 'cooperative-sticky'] });
    expect(() => checkEngineSupports(native, wants)).not.toThrow();
    expect(() => checkEngineSupports(native, { ...wants, assignmentStrategy: 'sticky' })).toThrow(
      /groups\.billing\.assignmentStrategy = "sticky": needs an assignor this client lacks \(it has range, roundrobin, cooperative-sticky\), which the limited engine does not support/,
    );
  });
});
